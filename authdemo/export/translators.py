"""The translators of template.py, one per (service, operation): the CloudFormation property names
and shapes of each AWS resource type (Tags a list or a map, a policy document an object, the
function's code inline as `Code.ZipFile` with Handler `index.<function>`...), read from the
declared call's parameters. What CloudFormation cannot do is said as a command (`after`).
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable, Mapping
from importlib import resources as importlib_resources
from typing import Any

from ..units.declare import Call, Join, Secret
from .template import INLINE_MODULE, TAG_LIST, Template, logical_id, upper_first

Translator = Callable[[Template, str, Call], None]


def _tags(kind: str, tags: Any) -> Any:
    if kind in TAG_LIST and isinstance(tags, Mapping):
        return [{"Key": k, "Value": v} for k, v in tags.items()]
    return tags


def _json_doc(template: Template, value: Any) -> Any:
    """A policy document the API takes as JSON text; CloudFormation takes it as an object. A Join
    (an ARN of the stack's place inside the text) is parsed with placeholders put back after."""
    if not isinstance(value, Join):
        return template.value(json.loads(value) if isinstance(value, str) else value)
    holes: dict[str, Any] = {}
    text = ""
    for part in value.parts:
        if isinstance(part, str):
            text += part
        else:
            hole = f"@@{len(holes)}@@"
            holes[hole] = template.value(part)
            text += hole

    def fill(item: Any) -> Any:
        if isinstance(item, str) and "@@" in item:
            pieces = [p for p in re.split(r"(@@\d+@@)", item) if p]
            parts = [holes.get(p, p) for p in pieces]
            return parts[0] if len(parts) == 1 else {"Fn::Join": ["", parts]}
        if isinstance(item, dict):
            return {k: fill(v) for k, v in item.items()}
        if isinstance(item, list):
            return [fill(v) for v in item]
        return item

    return fill(json.loads(text))


def same(kind: str, rename: Mapping[str, str] | None = None, drop: tuple[str, ...] = ()) -> Translator:
    """A resource whose properties are the call's parameters, by the same names (Cognito, HTTP API)."""

    def translate(template: Template, key: str, call: Call) -> None:
        props = {
            (rename or {}).get(k, k): template.value(_tags(kind, v) if k in ("Tags", "UserPoolTags") else v)
            for k, v in call.params.items()
            if k not in drop
        }
        template.add(key, kind, props)

    return translate


def lower(kind: str, drop: tuple[str, ...] = ()) -> Translator:
    """A resource whose properties are the call's lowerCamel parameters capitalised (REST, Logs)."""

    def translate(template: Template, key: str, call: Call) -> None:
        params = {k: v for k, v in call.params.items() if k not in drop}
        props = upper_first(params)
        if "Tags" in props:
            props["Tags"] = _tags(kind, props["Tags"])
        template.add(key, kind, template.value(props))

    return translate


def _role(template: Template, key: str, call: Call) -> None:
    props = dict(call.params)
    props["AssumeRolePolicyDocument"] = _json_doc(template, props["AssumeRolePolicyDocument"])
    template.add(
        key,
        "AWS::IAM::Role",
        {k: v if k == "AssumeRolePolicyDocument" else template.value(v) for k, v in props.items()},
    )


def _role_policy(template: Template, key: str, call: Call) -> None:
    props = {k: template.value(v) for k, v in call.params.items() if k != "PolicyDocument"}
    props["PolicyDocument"] = _json_doc(template, call.params["PolicyDocument"])
    template.add(key, "AWS::IAM::RolePolicy", props)


def _retention(template: Template, key: str, call: Call) -> None:
    name = template.value(call.params["logGroupName"])
    group = template.owner(key, "AWS::Logs::LogGroup", lambda p: p.get("LogGroupName") == name)
    group["Properties"]["RetentionInDays"] = call.params["retentionInDays"]


def source(handler: str) -> str:
    """The function's source, inline (its module of authdemo.lambda_src)."""
    module = handler.rsplit(".", 1)[0]
    return importlib_resources.files("authdemo.lambda_src").joinpath(f"{module}.py").read_text()


def _function(template: Template, key: str, call: Call) -> None:
    props = {k: template.value(v) for k, v in call.params.items() if k not in ("Code", "Tags")}
    handler = str(call.params["Handler"])
    props["Code"] = {"ZipFile": source(handler)}
    props["Handler"] = f"{INLINE_MODULE}.{handler.rsplit('.', 1)[1]}"
    props["Tags"] = _tags("AWS::Lambda::Function", template.value(call.params.get("Tags", {})))
    template.add(key, "AWS::Lambda::Function", props)


def _permission(template: Template, key: str, call: Call) -> None:
    """CloudFormation names the statement itself: StatementId has no property."""
    props = {k: template.value(v) for k, v in call.params.items() if k != "StatementId"}
    template.add(key, "AWS::Lambda::Permission", props)


def _client(template: Template, key: str, call: Call) -> None:
    same("AWS::Cognito::UserPoolClient")(template, key, call)
    if call.params.get("GenerateSecret"):
        template.notes.append(
            f"The secret of {call.params.get('ClientName')} is generated by Cognito, never written here: "
            "`aws cognito-idp describe-user-pool-client` shows it (the outputs name the pool and client)."
        )


def _password(template: Template, key: str, call: Call) -> None:
    """CloudFormation cannot set a user's password: the command to run after the deploy, the
    password taken from a variable the reader sets (never written here)."""
    params = dict(call.params)
    secret = params.pop("Password")
    variable = (
        "AUTHDEMO_STUDENT_PASSWORD"
        if isinstance(secret, Secret) and "student" in secret.name
        else ("AUTHDEMO_PASSWORD")
    )
    pool = template.ids.get("user_pool", "UserPool")
    command = (
        f"aws cognito-idp admin-set-user-password --user-pool-id ${{{pool}}} "
        f'--username {shlex.quote(str(params["Username"]))} --password "${variable}" --permanent '
        "--region ${AWS::Region}"
    )
    why = f"{template.ctx.names.stack}: set {params['Username']}'s password (CloudFormation cannot)"
    template.after.append((why, command))


def _rest_integration(template: Template, key: str, call: Call) -> None:
    want = template.value(call.params["resourceId"])
    method = template.owner(key, "AWS::ApiGateway::Method", lambda p: p.get("ResourceId") == want)
    drop = ("restApiId", "resourceId", "httpMethod")
    method["Properties"]["Integration"] = template.value(
        upper_first({k: v for k, v in call.params.items() if k not in drop})
    )


def _rest_deployment(template: Template, key: str, call: Call) -> None:
    """One CreateDeployment with stageName makes both: a Deployment and the Stage serving it."""
    params = dict(call.params)
    stage = params.pop("stageName")
    deployment = logical_id(key) + "Deployment"
    template.resources[deployment] = {
        "Type": "AWS::ApiGateway::Deployment",
        "Properties": template.value(upper_first(params)),
        "DependsOn": sorted(
            n for n, r in template.resources.items() if r["Type"] == "AWS::ApiGateway::Method"
        ),
    }
    template.add(
        key,
        "AWS::ApiGateway::Stage",
        {
            "RestApiId": template.value(params["restApiId"]),
            "StageName": stage,
            "DeploymentId": {"Ref": deployment},
        },
    )


TRANSLATORS: dict[tuple[str, str], Translator] = {
    ("iam", "CreateRole"): _role,
    ("iam", "PutRolePolicy"): _role_policy,
    ("logs", "CreateLogGroup"): lower("AWS::Logs::LogGroup"),
    ("logs", "PutRetentionPolicy"): _retention,
    ("cognito-idp", "CreateUserPool"): same("AWS::Cognito::UserPool", {"PoolName": "UserPoolName"}),
    ("cognito-idp", "CreateUserPoolClient"): _client,
    ("cognito-idp", "AdminCreateUser"): same("AWS::Cognito::UserPoolUser"),
    ("cognito-idp", "AdminSetUserPassword"): _password,
    ("cognito-idp", "CreateGroup"): same("AWS::Cognito::UserPoolGroup"),
    ("cognito-idp", "AdminAddUserToGroup"): same("AWS::Cognito::UserPoolUserToGroupAttachment"),
    ("cognito-idp", "CreateUserPoolDomain"): same("AWS::Cognito::UserPoolDomain"),
    ("cognito-idp", "CreateResourceServer"): same("AWS::Cognito::UserPoolResourceServer"),
    ("apigatewayv2", "CreateApi"): same("AWS::ApiGatewayV2::Api"),
    ("apigatewayv2", "CreateStage"): same("AWS::ApiGatewayV2::Stage"),
    ("apigatewayv2", "CreateAuthorizer"): same("AWS::ApiGatewayV2::Authorizer"),
    ("apigatewayv2", "CreateIntegration"): same("AWS::ApiGatewayV2::Integration"),
    ("apigatewayv2", "CreateRoute"): same("AWS::ApiGatewayV2::Route"),
    ("lambda", "CreateFunction"): _function,
    ("lambda", "AddPermission"): _permission,
    ("apigateway", "CreateRestApi"): lower("AWS::ApiGateway::RestApi"),
    ("apigateway", "CreateAuthorizer"): lower("AWS::ApiGateway::Authorizer"),
    ("apigateway", "CreateResource"): lower("AWS::ApiGateway::Resource"),
    ("apigateway", "PutMethod"): lower("AWS::ApiGateway::Method"),
    ("apigateway", "PutIntegration"): _rest_integration,
    ("apigateway", "CreateDeployment"): _rest_deployment,
}
