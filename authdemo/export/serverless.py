"""`authdemo export --format serverless`: the blog's serverless.yml (issue 22).

The HTTP API in the Serverless Framework's own terms: `provider.httpApi.authorizers` (the JWT
authorizers, the Lambda authorizer as a `request` authorizer of the `authorizer` function), one
`httpApi` event per route with `authorizer: {name, scopes}` (`type: aws_iam` for /iam). The rest
(roles, Cognito, the REST half) goes under `resources:` as in the CloudFormation template; the
framework makes the functions' log groups itself (`logRetentionInDays`), so those are not there.
"""

from __future__ import annotations

import re
from typing import Any

from ..units import Context
from . import yaml
from .template import Template, build

#: The framework's logical ID of a function named `<name>` in `functions:` (its naming rule).
_FUNCTIONS = {"function": "hello", "authorizer_function": "authorizer"}


def _joined(value: Any) -> Any:
    """Fn::Sub as Fn::Join: `${...}` in a serverless.yml is the framework's own variable syntax."""
    if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
        parts: list[Any] = []
        for piece in re.split(r"(\$\{[^}]+\})", value["Fn::Sub"]):
            if piece.startswith("${") and piece.endswith("}"):
                parts.append({"Ref": piece[2:-1]})
            elif piece:
                parts.append(piece)
        return {"Fn::Join": ["", parts]}
    if isinstance(value, dict):
        return {k: _joined(v) for k, v in value.items()}
    return value


def _framework_id(name: str) -> str:
    return f"{name[:1].upper()}{name[1:]}LambdaFunction"


def _rename(value: Any, names: dict[str, str]) -> Any:
    """Refs and GetAtts of our logical IDs pointed at the framework's."""
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in names:
            return {"Ref": names[value["Ref"]]}
        if set(value) == {"Fn::GetAtt"} and value["Fn::GetAtt"][0] in names:
            return {"Fn::GetAtt": [names[value["Fn::GetAtt"][0]], value["Fn::GetAtt"][1]]}
        return {k: _rename(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_rename(v, names) for v in value]
    return value


def document(template: Template) -> dict[str, Any]:
    ctx = template.ctx
    doc = template.document()
    resources: dict[str, Any] = doc["Resources"]
    ids = template.ids
    renamed = {ids[k]: _framework_id(v) for k, v in _FUNCTIONS.items() if k in ids}
    authorizers: dict[str, Any] = {}
    by_id: dict[str, str] = {}
    for name, resource in resources.items():
        if resource["Type"] != "AWS::ApiGatewayV2::Authorizer":
            continue
        props = resource["Properties"]
        by_id[name] = props["Name"]  # the key is the authorizer's name in API Gateway
        if props["AuthorizerType"] == "JWT":
            authorizers[by_id[name]] = {
                "identitySource": props["IdentitySource"][0],
                "issuerUrl": props["JwtConfiguration"]["Issuer"],
                "audience": props["JwtConfiguration"]["Audience"],
            }
        else:
            authorizers[by_id[name]] = {
                "type": "request",
                "functionName": _FUNCTIONS["authorizer_function"],
                "payloadVersion": props["AuthorizerPayloadFormatVersion"],
                "enableSimpleResponses": props["EnableSimpleResponses"],
                "resultTtlInSeconds": props["AuthorizerResultTtlInSeconds"],
                "identitySource": props["IdentitySource"],
            }
    events = []
    for resource in resources.values():
        if resource["Type"] != "AWS::ApiGatewayV2::Route":
            continue
        props = resource["Properties"]
        method, path = props["RouteKey"].split(" ", 1)
        event: dict[str, Any] = {"method": method, "path": path}
        if props["AuthorizationType"] == "AWS_IAM":
            event["authorizer"] = {"type": "aws_iam"}
        else:
            event["authorizer"] = {"name": by_id[props["AuthorizerId"]["Ref"]]}
            if props.get("AuthorizationScopes"):
                event["authorizer"]["scopes"] = props["AuthorizationScopes"]
        events.append({"httpApi": event})
    functions: dict[str, Any] = {}
    retention = None
    for key, short in _FUNCTIONS.items():
        if key not in ids or ids[key] not in resources:
            continue
        props = resources[ids[key]]["Properties"]
        function: dict[str, Any] = {
            "name": props["FunctionName"],
            "handler": template.calls[key][0].params["Handler"],
            "description": props["Description"],
            "memorySize": props["MemorySize"],
            "timeout": props["Timeout"],
            "role": props["Role"]["Fn::GetAtt"][0],
        }
        if "Environment" in props:
            function["environment"] = _rename(props["Environment"]["Variables"], renamed)
        if key == "function":
            function["events"] = events
        functions[short] = function
    kept: dict[str, Any] = {}
    skip = {"AWS::Lambda::Function", "AWS::Logs::LogGroup"}
    made = {ids.get("permission"), ids.get("authorizer_permission")}
    for name, resource in resources.items():
        kind = resource["Type"]
        if kind == "AWS::Logs::LogGroup":
            retention = resource["Properties"].get("RetentionInDays")
        if kind in skip or kind.startswith("AWS::ApiGatewayV2::") or name in made:
            continue
        kept[name] = _rename(resource, renamed)
        if "DependsOn" in resource:
            depends = [renamed.get(n, n) for n in resource["DependsOn"]]
            kept[name]["DependsOn"] = [n for n in depends if n in resources or n in renamed.values()]
    some = next(iter(resources[ids[k]]["Properties"] for k in _FUNCTIONS if k in ids))
    api = resources[ids["api"]]["Properties"]
    provider: dict[str, Any] = {
        "name": "aws",
        "runtime": some["Runtime"],
        "architecture": some["Architectures"][0],
        "region": ctx.region,
        "stage": "demo",
        "tags": dict(ctx.tags),
        "httpApi": {"name": api["Name"], "authorizers": authorizers},
    }
    if retention is not None:
        provider["logRetentionInDays"] = retention
    outputs = _rename(doc["Outputs"], renamed)
    if "HttpApiUrl" in outputs:
        url = "https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/"
        outputs["HttpApiUrl"]["Value"] = {"Fn::Sub": url}
    return {
        "service": f"authdemo-{ctx.names.stack}",
        "frameworkVersion": "3",
        "provider": provider,
        "package": {"patterns": ["!**", "handler.py", "authorizer.py"]},
        "functions": functions,
        "resources": {"Resources": kept, "Outputs": _joined(outputs)},
    }


def render(ctx: Context) -> str:
    header = (
        f"# authdemo stack {ctx.names.stack} ({ctx.region}) as the Serverless Framework's serverless.yml,\n"
        "# from the declarations `authdemo up` runs. Put the functions' code beside it:\n"
        '#   for f in handler authorizer; do python -c "import importlib.resources as r; '
        "print(r.files('authdemo.lambda_src').joinpath('$f.py').read_text(), end='')\" > $f.py; done\n"
        "# then `serverless deploy`. No secret is written here: Cognito generates the M2M client's\n"
        "# secret; the users' passwords are set after the deploy by the commands in the outputs After*.\n"
    )
    return yaml.dump(document(build(ctx)), header)
