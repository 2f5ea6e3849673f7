"""Issue 22, `authdemo export`: the SAM, CloudFormation and serverless outputs are translations of
the units' declarations: cfn-lint finds no error in them for every stack shape, they never hold a
secret, and the template says what the live stack built by `up --local` has, property by property."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from conftest import run, server_client

from authdemo import paths
from authdemo.export import write
from authdemo.export.template import PSEUDO, build
from authdemo.export.translators import source
from authdemo.units import UNITS, Context, MemoryRecords, Names

ACCOUNT = "123456789012"
SHAPES = {
    "default": {},
    "no-rest": {"rest": False},
    "issuer": {"issuer": "https://issuer.example.com/", "audiences": ("https://api.example.com",)},
}


def export_context(stack: str = "demo", account: str = ACCOUNT, **profile: Any) -> Context:
    """What `authdemo export` hands the exporters: the stack's profile, no record, no client."""
    return Context(
        clients=None,  # type: ignore[arg-type]  # an exporter calls no AWS
        records=MemoryRecords({}, {}),
        names=Names(stack),
        region="us-west-2",
        account_id=account,
        password="Demo-Secret-1!",
        student_password="Student-Secret-2!",
        **profile,
    )


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_cfn_lint_finds_no_error_and_no_secret_is_written(shape: str) -> None:
    """cfn-lint (with SAM's translator) reports no error for the sam and cloudformation outputs of
    the shape; every output is YAML that reads back, and holds neither password."""
    from cfnlint.api import ManualArgs, lint

    ctx = export_context(**SHAPES[shape])
    texts = {fmt: write(fmt, ctx) for fmt in ("sam", "cloudformation", "serverless")}
    for fmt, text in texts.items():
        assert ctx.password not in text and ctx.student_password not in text, fmt
        assert isinstance(yaml.safe_load(text), dict), fmt
    for fmt in ("sam", "cloudformation"):
        found = lint(texts[fmt], config=ManualArgs(regions=["us-west-2"]))
        errors = [f"{m.rule.id} line {m.linenumber}: {m.message}" for m in found if m.rule.id.startswith("E")]
        assert errors == [], f"{fmt} ({shape}): " + "\n".join(errors)
    cfn_document = yaml.safe_load(texts["cloudformation"])
    assert cfn_document == build(ctx).document()  # the YAML says exactly the template
    cfn = cfn_document["Resources"]
    kinds = {r["Type"] for r in cfn.values()}
    assert ("AWS::ApiGateway::RestApi" in kinds) == (shape == "default")
    assert ("AWS::Cognito::UserPool" in kinds) == (shape != "issuer")
    sam = yaml.safe_load(texts["sam"])
    assert sam["Transform"] == "AWS::Serverless-2016-10-31"
    assert not any(r["Type"].startswith("AWS::ApiGatewayV2::") for r in sam["Resources"].values())
    sls = yaml.safe_load(texts["serverless"])
    events = [e["httpApi"] for e in sls["functions"]["hello"]["events"]]
    routes = sorted(
        r["Properties"]["RouteKey"] for r in cfn.values() if r["Type"] == "AWS::ApiGatewayV2::Route"
    )
    assert sorted(f"{e['method']} {e['path']}" for e in events) == routes


def test_yaml_writer_reads_back_as_written() -> None:
    """Strings YAML would read as something else (booleans, numbers, aliases, `key: value`) are
    quoted; source code is a literal block: every value reads back unchanged."""
    from authdemo.export import yaml as writer

    tricky = [
        "yes",
        "no",
        "on",
        "2.0",
        "0",
        "*/GET/*",
        "a: b",
        "x #y",
        "$default",
        "",
        " lead",
        "trail ",
        "null",
        "~",
        "-",
        "@x",
        "{}",
        "GET /protected",
        "Fn::GetAtt",
        "'q'",
        '"dq"',
        "tab\there",
    ]
    document = {
        "Strings": tricky,
        "Code": "def handler(event, context):\n    return {}\n\n# end\n",
        "NoNewline": "line one\nline two",
        "Nested": [{"Key": "a", "Value": ["b", {"c": [1, True, None]}]}, [], {}],
        "Numbers": {"int": 3, "float": 1.5, "bool": False},
    }
    assert yaml.safe_load(writer.dump(document, "# header\n")) == document


# --- equivalence: the template against the live stack after `up --local` -------------------------


def _resolver(template: Any, records: dict[str, Any], place: dict[str, str]) -> Any:
    """The template's intrinsic functions, evaluated with the live stack's IDs."""
    unit_of = {}
    for key, name in template.ids.items():
        unit_of.setdefault(name, key)
        if name == "".join(p[:1].upper() + p[1:] for p in key.split("_")):
            unit_of[name] = key
    id_field = {cls.key: cls.id_field for cls in UNITS}
    attribute = {"Arn": "arn", "ApiEndpoint": "endpoint", "RootResourceId": "root"}

    def value(item: Any) -> Any:
        if isinstance(item, dict) and set(item) == {"Ref"}:
            name = item["Ref"]
            if name in place:
                return place[name]
            key = unit_of[name]
            return records[key][id_field[key]]
        if isinstance(item, dict) and set(item) == {"Fn::GetAtt"}:
            name, attr = item["Fn::GetAtt"]
            return records[unit_of[name]][attribute[attr]]
        if isinstance(item, dict) and set(item) == {"Fn::Join"}:
            return "".join(str(value(p)) for p in item["Fn::Join"][1])
        if isinstance(item, dict):
            return {k: value(v) for k, v in item.items()}
        if isinstance(item, list):
            return [value(v) for v in item]
        return item

    return value, unit_of


def _same(live: Any, want: Any) -> bool:
    if isinstance(want, list) and all(not isinstance(w, (dict, list)) for w in want):
        return isinstance(live, list) and sorted(map(str, live)) == sorted(map(str, want))
    return bool(live == want)


#: Per resource type: the properties issue 22 lists, and how to read the live resource.
WATCHED = {
    "AWS::ApiGatewayV2::Authorizer": (
        "AuthorizerType",
        "IdentitySource",
        "JwtConfiguration",
        "AuthorizerUri",
        "AuthorizerPayloadFormatVersion",
        "EnableSimpleResponses",
        "AuthorizerResultTtlInSeconds",
    ),
    "AWS::ApiGatewayV2::Route": (
        "RouteKey",
        "AuthorizationType",
        "AuthorizerId",
        "AuthorizationScopes",
        "Target",
    ),
    "AWS::ApiGatewayV2::Integration": ("IntegrationType", "IntegrationUri", "PayloadFormatVersion"),
    "AWS::Cognito::UserPoolClient": (
        "ExplicitAuthFlows",
        "AllowedOAuthFlows",
        "AllowedOAuthScopes",
        "CallbackURLs",
        "LogoutURLs",
        "SupportedIdentityProviders",
    ),
    "AWS::Cognito::UserPoolDomain": ("UserPoolId",),
    "AWS::Cognito::UserPoolResourceServer": ("Identifier", "Scopes"),
    "AWS::Lambda::Function": (
        "Runtime",
        "Architectures",
        "Handler",
        "MemorySize",
        "Timeout",
        "Role",
        "Environment",
    ),
    "AWS::IAM::Role": ("AssumeRolePolicyDocument", "Path"),
    "AWS::IAM::RolePolicy": ("PolicyDocument",),
    "AWS::Logs::LogGroup": ("RetentionInDays",),
    "AWS::ApiGateway::Authorizer": (
        "Type",
        "ProviderARNs",
        "IdentitySource",
        "AuthorizerUri",
        "AuthorizerResultTtlInSeconds",
    ),
    "AWS::ApiGateway::Method": ("AuthorizationType", "AuthorizerId", "AuthorizationScopes", "Integration"),
}


def _live(kind: str, props: dict[str, Any], rec: dict[str, Any], records: dict[str, Any], client: Any) -> Any:
    """The live resource's fields, by the template's property names (the describe calls `status`
    makes, and the reads of the resource's own type)."""
    api = records.get("api", {}).get("id")
    rest = records.get("rest_api", {}).get("id")
    pool = records.get("user_pool", {}).get("id")
    if kind == "AWS::ApiGatewayV2::Authorizer":
        return client("apigatewayv2").get_authorizer(ApiId=api, AuthorizerId=rec["id"])
    if kind == "AWS::ApiGatewayV2::Route":
        return client("apigatewayv2").get_route(ApiId=api, RouteId=rec["id"])
    if kind == "AWS::ApiGatewayV2::Integration":
        return client("apigatewayv2").get_integration(ApiId=api, IntegrationId=rec["id"])
    if kind == "AWS::Cognito::UserPoolClient":
        return client("cognito-idp").describe_user_pool_client(UserPoolId=pool, ClientId=rec["id"])[
            "UserPoolClient"
        ]
    if kind == "AWS::Cognito::UserPoolDomain":
        return client("cognito-idp").describe_user_pool_domain(Domain=props["Domain"])["DomainDescription"]
    if kind == "AWS::Cognito::UserPoolResourceServer":
        return client("cognito-idp").describe_resource_server(UserPoolId=pool, Identifier=rec["id"])[
            "ResourceServer"
        ]
    if kind == "AWS::Lambda::Function":
        config = client("lambda").get_function_configuration(FunctionName=rec["name"])
        module, function = config["Handler"].rsplit(".", 1)
        config["Handler"] = f"index.{function}"  # inline code is CloudFormation's `index` module
        config["Code"] = {"ZipFile": source(module)}  # ... and it is the module the live one runs
        return config
    if kind == "AWS::IAM::Role":
        return client("iam").get_role(RoleName=rec["name"])["Role"]
    if kind == "AWS::IAM::RolePolicy":
        return client("iam").get_role_policy(RoleName=props["RoleName"], PolicyName=props["PolicyName"])
    if kind == "AWS::Logs::LogGroup":
        groups = client("logs").describe_log_groups(logGroupNamePrefix=rec["name"])["logGroups"]
        return {
            "RetentionInDays": next(g for g in groups if g["logGroupName"] == rec["name"]).get(
                "retentionInDays"
            )
        }
    if kind == "AWS::ApiGateway::Authorizer":
        live = client("apigateway").get_authorizer(restApiId=rest, authorizerId=rec["id"])
        return {k[:1].upper() + k[1:]: v for k, v in live.items()}
    if kind == "AWS::ApiGateway::Method":
        live = client("apigateway").get_method(restApiId=rest, resourceId=rec["resource"], httpMethod="GET")
        out = {k[:1].upper() + k[1:]: v for k, v in live.items()}
        integration = live.get("methodIntegration", {})
        out["Integration"] = {
            "Type": integration.get("type"),
            "Uri": integration.get("uri"),
            "IntegrationHttpMethod": integration.get("httpMethod"),
        }
        return out
    raise AssertionError(kind)


def test_template_says_what_up_local_built(local_daemon: Any) -> None:
    """After `up --local`, every property issue 22 lists (authorizers' issuer, audiences, identity
    source, type, payload version, simple responses, TTL; routes and scopes; both clients' flows,
    callback URLs and scopes; the domain; the resource server; each function's runtime,
    architecture, handler, memory, timeout; each role's trust and inline policy; each log group's
    retention; the REST authorizers and methods) is in the live stack as the template says."""
    up = run("up", "--local", "--stack", "eqv", "--output", "json")
    try:
        assert up.exit_code == 0, up.output
        state = json.loads((paths.home() / "eqv.local.json").read_text())
        records = state["resources"]
        ctx = export_context("eqv", state["account_id"])
        template = build(ctx)
        document = template.document()
        place = {
            PSEUDO["region"]: "us-west-2",
            PSEUDO["account"]: state["account_id"],
            PSEUDO["partition"]: "aws",
            PSEUDO["dns_suffix"]: "amazonaws.com",
        }
        value, unit_of = _resolver(template, records, place)

        def client(service: str) -> Any:
            return server_client(local_daemon, service)

        compared: dict[str, int] = {}
        mismatches = []
        for name, resource in document["Resources"].items():
            watched = WATCHED.get(resource["Type"])
            if not watched:
                continue
            props = value(resource["Properties"])
            live = _live(resource["Type"], props, records[unit_of[name]], records, client)
            for prop in watched:
                if prop not in props:
                    continue
                compared[resource["Type"]] = compared.get(resource["Type"], 0) + 1
                if not _same(live.get(prop), props[prop]):
                    mismatches.append(f"{name}.{prop}: live {live.get(prop)!r} != template {props[prop]!r}")
        assert mismatches == [], "\n".join(mismatches)
        assert set(compared) == set(WATCHED) and sum(compared.values()) >= 90, compared  # all were there
    finally:
        assert run("down", "--local", "--stack", "eqv").exit_code == 0
