"""The units' declared calls as CloudFormation resources, per AWS resource type (issue 22).

One translator per (service, operation), in translators.py: the creating call makes the resource
(its logical ID is the unit's key in CamelCase: `user_pool` -> `UserPool`), a completing call fills in its
properties (PutRetentionPolicy -> the log group's RetentionInDays, PutIntegration -> the REST
method's Integration). A `Ref` becomes `Ref`/`Fn::GetAtt` of the unit it names, a `Pseudo` the
pseudo parameter (AWS::Region...), a `Join` an `Fn::Join`. What CloudFormation cannot do (a
user's password) is said as the command to run after the deploy, never with the secret in it.
The SAM and serverless exporters start from this template.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
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
        return {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": description,
            "Resources": self.resources,
            "Outputs": self.outputs(),
        }

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
    template = Template(ctx)
    for key, unit in _UNIT_BY_KEY.items():
        if unit.applies(ctx):
            template.calls[key] = list(unit.declare(ctx))
            template.ids.setdefault(key, logical_id(key))
    from .translators import TRANSLATORS  # they build on Template

    for key, calls in template.calls.items():
        for call in calls:
            translate = TRANSLATORS.get((call.service, call.operation))
            if translate is None:
                raise AuthdemoError(f"Internal error: no CloudFormation for {call.service} {call.operation}.")
            translate(template, key, call)
    return template
