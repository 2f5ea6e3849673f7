"""The units' declared calls as CloudFormation resources, per AWS resource type (issue 22).

One translator per (service, operation): the creating call makes the resource (its logical ID is
the unit's key in CamelCase: `user_pool` -> `UserPool`), a completing call fills in its
properties (PutRetentionPolicy -> the log group's RetentionInDays, PutIntegration -> the REST
method's Integration). A `Ref` becomes `Ref`/`Fn::GetAtt` of the unit it names, a `Pseudo` the
pseudo parameter (AWS::Region...), a `Join` an `Fn::Join`. What CloudFormation cannot do (a
user's password) is said as the command to run after the deploy, never with the secret in it.
The SAM and serverless exporters start from this template.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources as importlib_resources
from typing import Any

from ..errors import AuthdemoError
from ..units import UNITS, Context, Unit
from ..units.declare import Call, Join, Pseudo, Ref, Secret

PSEUDO = {
    "region": "AWS::Region",
    "account": "AWS::AccountId",
    "partition": "AWS::Partition",
    "dns_suffix": "AWS::URLSuffix",
}
#: A recorded field -> the attribute Fn::GetAtt reads (a field not here, e.g. "id", is the Ref).
ATTRIBUTE = {"arn": "Arn", "endpoint": "ApiEndpoint", "root": "RootResourceId"}
#: Where CloudFormation's Tags is a list of {Key, Value} (elsewhere a map, as the API takes it).
TAG_LIST = {
    "AWS::IAM::Role",
    "AWS::Logs::LogGroup",
    "AWS::Lambda::Function",
    "AWS::ApiGateway::RestApi",
}
#: An inline function's file is `index` (CloudFormation writes ZipFile to index.py).
INLINE_MODULE = "index"
TRANSFORM = "AWS::Serverless-2016-10-31"
#: The account an export made without one stands in with (the domain's prefix digests the account):
#: the template then asks for the prefix as a parameter instead of writing a wrong one.
NO_ACCOUNT = "no-account"
DOMAIN_PARAMETER = "DomainPrefix"


def logical_id(key: str) -> str:
    """`rest_resource_lambda_again` -> `RestResourceLambdaAgain` (alphanumeric, as CFN wants)."""
    return "".join(part[:1].upper() + part[1:] for part in key.split("_"))


def upper_first(params: Mapping[str, Any]) -> dict[str, Any]:
    """API Gateway v1 and CloudWatch Logs take `restApiId`; CloudFormation says `RestApiId`."""
    out: dict[str, Any] = {}
    for name, value in params.items():
        if isinstance(value, Mapping) and not isinstance(value, (Ref, Join)):
            value = upper_first(value)
        out[name[:1].upper() + name[1:]] = value
    return out


@dataclass
class Template:
    """A CloudFormation template being built from the declarations of a stack's units."""

    ctx: Context
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: unit key -> logical ID of the resource that carries it (a completing unit: its owner's).
    ids: dict[str, str] = field(default_factory=dict)
    #: unit key -> its declared calls, in UNITS order (only units that apply to the profile).
    calls: dict[str, list[Call]] = field(default_factory=dict)
    #: What CloudFormation cannot do: (why, the aws command to run after the deploy, in Fn::Sub form).
    after: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)

    def value(self, value: Any) -> Any:
        """A declared value as CloudFormation writes it (intrinsic functions for what is not known)."""
        if isinstance(value, Ref):
            return self.ref(value)
        if isinstance(value, Pseudo):
            return {"Ref": PSEUDO[value.name]}
        if isinstance(value, Join):
            parts = [self.value(p) for p in value.parts]
            if all(isinstance(p, str) for p in parts):
                return "".join(parts)
            return {"Fn::Join": ["", parts]}
        if isinstance(value, Secret):
            raise AuthdemoError(f"Internal error: a secret ({value.name}) would be written in a template.")
        if isinstance(value, bytes):
            raise AuthdemoError("Internal error: a blob in a template (only a function's code may be one).")
        if isinstance(value, Mapping):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(v) for v in value]
        return value

    def ref(self, ref: Ref) -> dict[str, Any]:
        target = self.ids.get(ref.key) or logical_id(ref.key)
        attribute = ATTRIBUTE.get(ref.field)
        return {"Fn::GetAtt": [target, attribute]} if attribute else {"Ref": target}

    def add(self, key: str, kind: str, properties: Mapping[str, Any]) -> dict[str, Any]:
        name = self.ids.setdefault(key, logical_id(key))
        resource = {"Type": kind, "Properties": dict(properties)}
        self.resources[name] = resource
        return resource

    def owner(self, key: str, kind: str, match: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The resource a completing unit's call fills in (e.g. a REST integration's method)."""
        for name, resource in self.resources.items():
            if resource["Type"] == kind and match(resource["Properties"]):
                self.ids[key] = name
                return resource
        raise AuthdemoError(f"Internal error: no {kind} for {key} in the template.")

    def document(self) -> dict[str, Any]:
        """The template; DependsOn from each unit's needs that no Ref already orders."""
        for key in self.calls:
            name = self.ids.get(key)
            if not name or name not in self.resources:
                continue
            resource = self.resources[name]
            said = json.dumps(resource["Properties"])
            unit = _UNIT_BY_KEY[key]
            needs = dict.fromkeys(
                self.ids[n] for n in (*unit.needs, *unit.create_only_needs) if n in self.ids
            )
            depends = [
                n
                for n in needs
                if n != name and f'"{n}"' not in said and n not in resource.get("DependsOn", [])
            ]
            if depends:
                resource["DependsOn"] = sorted([*resource.get("DependsOn", []), *depends])
        description = (
            f"authdemo stack {self.ctx.names.stack}: Cognito + API Gateway (HTTP"
            f"{' and REST' if 'rest_api' in self.ids else ''} APIs) + Lambda authorizer demo, "
            "exported by `authdemo export` from the same declarations `authdemo up` runs."
        )
        if self.notes:
            description += " " + " ".join(self.notes)
        if self.after:
            description += " After the deploy, run the commands in the outputs named After*."
        document: dict[str, Any] = {"AWSTemplateFormatVersion": "2010-09-09", "Description": description}
        if self.parameters:
            document["Parameters"] = self.parameters
        return {**document, "Resources": self.resources, "Outputs": self.outputs()}

    def outputs(self) -> dict[str, Any]:
        out: dict[str, Any] = {}

        def put(name: str, key: str, value: Any, description: str) -> None:
            if key in self.ids:
                out[name] = {"Description": description, "Value": value}

        api = self.ids.get("api", "Api")
        put("HttpApiUrl", "api", {"Fn::GetAtt": [api, "ApiEndpoint"]}, "The HTTP API's URL ($default stage)")
        rest = self.ids.get("rest_api", "RestApi")
        stage = self.ctx.names.rest_stage
        url = f"https://${{{rest}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/{stage}"
        put("RestApiUrl", "rest_api", {"Fn::Sub": url}, "The REST API's URL (stage demo)")
        put("UserPoolId", "user_pool", {"Ref": self.ids.get("user_pool", "")}, "The user pool")
        put("AppClientId", "app_client", {"Ref": self.ids.get("app_client", "")}, "The app client")
        put("M2MClientId", "m2m_client", {"Ref": self.ids.get("m2m_client", "")}, "The M2M client")
        login = f"https://${{{self.ids.get('domain', '')}}}.auth.${{AWS::Region}}.amazoncognito.com"
        put("ManagedLoginUrl", "domain", {"Fn::Sub": login}, "Managed login (the hosted UI)")
        for number, (why, command) in enumerate(self.after, start=1):
            out[f"After{number}"] = {"Description": why, "Value": {"Fn::Sub": command}}
        return out


_UNIT_BY_KEY: dict[str, Unit] = {cls.key: cls() for cls in UNITS}


def build(ctx: Context) -> Template:
    """The CloudFormation template of everything `up` builds for ctx's profile."""
    if not ctx.account_id:  # `export` reads no AWS: the account is known only if recorded
        ctx = dataclasses.replace(ctx, account_id=NO_ACCOUNT)
    template = Template(ctx)
    for key, unit in _UNIT_BY_KEY.items():
        if unit.applies(ctx):
            template.calls[key] = list(unit.declare(ctx))
            template.ids.setdefault(key, logical_id(key))
    for key, calls in template.calls.items():
        for call in calls:
            translate = TRANSLATORS.get((call.service, call.operation))
            if translate is None:
                raise AuthdemoError(f"Internal error: no CloudFormation for {call.service} {call.operation}.")
            translate(template, key, call)
    return template


# --- the translators, per AWS resource type ------------------------------------------------------
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


def _domain(template: Template, key: str, call: Call) -> None:
    """The prefix is a digest of account, region and stack (cognito_oauth.domain_prefix): without
    the account it is a parameter (unique in the region across all accounts, as Cognito wants)."""
    same("AWS::Cognito::UserPoolDomain")(template, key, call)
    if template.ctx.account_id != NO_ACCOUNT:
        return
    template.parameters[DOMAIN_PARAMETER] = {
        "Type": "String",
        "Description": "The managed-login domain prefix: lowercase letters, digits and hyphens, unique in "
        f"the region across all accounts (authdemo up uses authdemo-{template.ctx.names.stack}-<8 hex>).",
        "AllowedPattern": "^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$",
    }
    template.resources[template.ids[key]]["Properties"]["Domain"] = {"Ref": DOMAIN_PARAMETER}


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
    ("cognito-idp", "CreateUserPoolDomain"): _domain,
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
