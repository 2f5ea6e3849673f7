"""`authdemo export --format sam`: the CloudFormation template with the HTTP API and the functions
as SAM's types (issue 22).

The HTTP API (API, stage, authorizers, integration, routes, invoke permissions) becomes one
`AWS::Serverless::HttpApi` with `Auth.Authorizers` (the JWT authorizers as OAuth2 authorizers,
the Lambda authorizer, `EnableIamAuthorizer`) and one `HttpApi` event per route on the demo
function; SAM makes the stage `$default`, the integration and the permissions from them. Each
function is an `AWS::Serverless::Function` with its code inline. The roles, log groups, Cognito
and the REST half stay as they are in the CloudFormation template (SAM passes `AWS::*` through).
"""

from __future__ import annotations

from typing import Any

from ..units import Context
from . import yaml
from .cloudformation import header
from .template import TRANSFORM, Template, build

#: The HTTP API's parts SAM makes itself from HttpApi and its events.
_MADE_BY_SAM = {
    "AWS::ApiGatewayV2::Stage",
    "AWS::ApiGatewayV2::Authorizer",
    "AWS::ApiGatewayV2::Integration",
    "AWS::ApiGatewayV2::Route",
}


def _authorizer(props: dict[str, Any], function_arn: Any) -> dict[str, Any]:
    """One of HttpApi's Auth.Authorizers from an AWS::ApiGatewayV2::Authorizer's properties."""
    if props["AuthorizerType"] == "JWT":
        jwt = props["JwtConfiguration"]
        return {
            "IdentitySource": props["IdentitySource"][0],
            "JwtConfiguration": {"issuer": jwt["Issuer"], "audience": jwt["Audience"]},
        }
    headers = [s.rsplit(".", 1)[1] for s in props["IdentitySource"]]
    return {
        "FunctionArn": function_arn,
        "AuthorizerPayloadFormatVersion": props["AuthorizerPayloadFormatVersion"],
        "EnableSimpleResponses": props["EnableSimpleResponses"],
        "Identity": {"Headers": headers, "ReauthorizeEvery": props["AuthorizerResultTtlInSeconds"]},
    }


def _function_arn(uri: Any) -> Any:
    """The function ARN inside an authorizer's invocation URI (an Fn::Join, or a text)."""
    if uri is None:
        return None
    if isinstance(uri, dict):
        parts = uri["Fn::Join"][1]
        return next(p for p in parts if isinstance(p, dict) and "Fn::GetAtt" in p)
    return uri.split("/functions/", 1)[1].removesuffix("/invocations")


def transform(template: Template) -> dict[str, Any]:
    """The SAM template from the CloudFormation one."""
    doc = template.document()
    resources: dict[str, Any] = doc["Resources"]
    api = template.ids.get("api", "Api")
    authorizers = {
        name: r["Properties"] for name, r in resources.items() if r["Type"] == "AWS::ApiGatewayV2::Authorizer"
    }
    auth: dict[str, Any] = {
        props["Name"]: _authorizer(props, _function_arn(props.get("AuthorizerUri")))
        for props in authorizers.values()
    }
    integration = next(r for r in resources.values() if r["Type"] == "AWS::ApiGatewayV2::Integration")
    backend = integration["Properties"]["IntegrationUri"]["Fn::GetAtt"][0]
    events: dict[str, Any] = {}
    for name, resource in resources.items():
        if resource["Type"] != "AWS::ApiGatewayV2::Route":
            continue
        props = resource["Properties"]
        method, path = props["RouteKey"].split(" ", 1)
        route_auth: dict[str, Any] = {}
        if props["AuthorizationType"] == "AWS_IAM":
            route_auth["Authorizer"] = "AWS_IAM"
        else:
            route_auth["Authorizer"] = authorizers[props["AuthorizerId"]["Ref"]]["Name"]
        if props.get("AuthorizationScopes"):
            route_auth["AuthorizationScopes"] = props["AuthorizationScopes"]
        events[name] = {
            "Type": "HttpApi",
            "Properties": {
                "ApiId": {"Ref": api},
                "Method": method,
                "Path": path,
                "Auth": route_auth,
                "PayloadFormatVersion": integration["Properties"]["PayloadFormatVersion"],
                "TimeoutInMillis": integration["Properties"]["TimeoutInMillis"],
            },
        }
    out: dict[str, Any] = {}
    made = template.ids.get("permission")  # SAM makes one per event; not the authorizer's
    lambda_authorizer = template.ids.get("lambda_authorizer")
    for name, resource in resources.items():
        kind = resource["Type"]
        if kind in _MADE_BY_SAM or name == made:
            continue
        if name == template.ids.get("authorizer_permission"):
            resource = _any_authorizer(resource, lambda_authorizer)
        if kind == "AWS::ApiGatewayV2::Api":
            props = resource["Properties"]
            http: dict[str, Any] = {
                "Name": props["Name"],
                "Description": props["Description"],
                "Tags": props.get("Tags", {}),
                "Auth": {"EnableIamAuthorizer": True, "Authorizers": auth},
            }
            out[name] = {"Type": "AWS::Serverless::HttpApi", "Properties": http}
        elif kind == "AWS::Lambda::Function":
            out[name] = _function(resource, events if name == backend else {})
        else:
            out[name] = resource
    doc["Transform"] = TRANSFORM
    doc["Resources"] = out
    outputs = doc["Outputs"]
    if "HttpApiUrl" in outputs:
        url = f"https://${{{api}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/"
        outputs["HttpApiUrl"]["Value"] = {"Fn::Sub": url}
    return {"AWSTemplateFormatVersion": doc.pop("AWSTemplateFormatVersion"), "Transform": TRANSFORM, **doc}


def _any_authorizer(resource: dict[str, Any], authorizer: str | None) -> dict[str, Any]:
    """SAM names no authorizer resource (it is inside the API's OpenAPI body): the permission's
    SourceArn says any authorizer of this API (`<api>/authorizers/*`) instead of its ID."""
    props = dict(resource["Properties"])
    source = props["SourceArn"]
    parts = ["*" if p == {"Ref": authorizer} else p for p in source["Fn::Join"][1]]
    props["SourceArn"] = {"Fn::Join": ["", parts]}
    return {**resource, "Properties": props}


def _function(resource: dict[str, Any], events: dict[str, Any]) -> dict[str, Any]:
    props = dict(resource["Properties"])
    code = props.pop("Code")
    props["InlineCode"] = code["ZipFile"]
    props["Tags"] = {t["Key"]: t["Value"] for t in props.get("Tags", [])}
    if events:
        props["Events"] = events
    out = {"Type": "AWS::Serverless::Function", "Properties": props}
    if "DependsOn" in resource:
        out["DependsOn"] = resource["DependsOn"]
    return out


def render(ctx: Context) -> str:
    deploy = f"sam deploy --template-file authdemo.yaml --stack-name authdemo-{ctx.names.stack} " + (
        "--capabilities CAPABILITY_NAMED_IAM CAPABILITY_AUTO_EXPAND --resolve-s3"
    )
    return yaml.dump(transform(build(ctx)), header(ctx, "a SAM template", deploy))
