"""How the aws-cli script finds a resource before it makes it, and how its cleanup deletes one.

Each creating operation a unit declares has a read that finds the resource by what `discover`
looks for (its name, and the stack's tag or IAM path where the read's answer carries them), and
the recorded fields (`Call.returns`) as paths in that answer; a top-level unit's creating
operation also names the calls that delete it. Every value comes from the declared call's own
parameters: nothing of the stack is described twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..units import TAG_KEY, Call, Ref

#: Calls that change nothing when made again (or replace what they made): the script makes them
#: every run, as `up` does (AdminSetUserPassword, PutRetentionPolicy), without looking first.
IDEMPOTENT = frozenset(
    {"PutRolePolicy", "AdminAddUserToGroup", "PutIntegration", "AdminSetUserPassword", "PutRetentionPolicy"}
)


@dataclass(frozen=True)
class Find:
    """A read whose answer, filtered by `where` (a JMESPath list expression), holds the resource
    as its first item; `fields`: recorded field -> path in that item; `present`: a path that is
    there whenever the item is (for a resource whose creation records nothing)."""

    call: Call
    where: tuple[str | Ref, ...]
    fields: Mapping[str, str] = field(default_factory=dict)
    present: str = ""


def _tagged(stack: str, tags: str) -> str:
    return f"{tags}.\"{TAG_KEY}\"=='{stack}'"


def _find(call: Call, stack: str) -> Find:
    p = call.params
    op, svc = call.operation, call.service
    finders: dict[tuple[str, str], Callable[[], Find]] = {
        ("iam", "CreateRole"): lambda: Find(
            Call(svc, "GetRole", {"RoleName": p["RoleName"]}),
            (f"[Role][?Path=='{p['Path']}']",),
            {"name": "RoleName", "arn": "Arn"},
        ),
        ("logs", "CreateLogGroup"): lambda: Find(
            Call(svc, "DescribeLogGroups", {"logGroupNamePrefix": p["logGroupName"]}),
            (f"logGroups[?logGroupName=='{p['logGroupName']}']",),
            present="logGroupName",
        ),
        ("cognito-idp", "CreateUserPool"): lambda: Find(
            Call(svc, "ListUserPools", {"MaxResults": 60}),
            (f"UserPools[?Name=='{p['PoolName']}']",),
            {"id": "Id"},
        ),
        ("cognito-idp", "CreateUserPoolClient"): lambda: Find(
            Call(svc, "ListUserPoolClients", {"UserPoolId": p["UserPoolId"], "MaxResults": 60}),
            (f"UserPoolClients[?ClientName=='{p['ClientName']}']",),
            {"id": "ClientId"},
        ),
        ("cognito-idp", "AdminCreateUser"): lambda: Find(
            Call(svc, "AdminGetUser", {"UserPoolId": p["UserPoolId"], "Username": p["Username"]}),
            ("[@]",),
            present="Username",
        ),
        ("cognito-idp", "CreateGroup"): lambda: Find(
            Call(svc, "GetGroup", {"GroupName": p["GroupName"], "UserPoolId": p["UserPoolId"]}),
            ("[Group]",),
            present="GroupName",
        ),
        ("cognito-idp", "CreateUserPoolDomain"): lambda: Find(
            Call(svc, "DescribeUserPoolDomain", {"Domain": p["Domain"]}),
            ("[DomainDescription][?UserPoolId=='", p["UserPoolId"], "']"),
            present="Domain",
        ),
        ("cognito-idp", "CreateResourceServer"): lambda: Find(
            Call(
                svc, "DescribeResourceServer", {"UserPoolId": p["UserPoolId"], "Identifier": p["Identifier"]}
            ),
            ("[ResourceServer]",),
            {"id": "Identifier"},
        ),
        ("apigatewayv2", "CreateApi"): lambda: Find(
            Call(svc, "GetApis", {}),
            (f"Items[?Name=='{p['Name']}' && {_tagged(stack, 'Tags')}]",),
            {"id": "ApiId", "endpoint": "ApiEndpoint"},
        ),
        ("apigatewayv2", "CreateStage"): lambda: Find(
            Call(svc, "GetStages", {"ApiId": p["ApiId"]}),
            (f"Items[?StageName=='{p['StageName']}']",),
            {"name": "StageName"},
        ),
        ("apigatewayv2", "CreateAuthorizer"): lambda: Find(
            Call(svc, "GetAuthorizers", {"ApiId": p["ApiId"]}),
            (f"Items[?Name=='{p['Name']}']",),
            {"id": "AuthorizerId"},
        ),
        ("apigatewayv2", "CreateIntegration"): lambda: Find(
            Call(svc, "GetIntegrations", {"ApiId": p["ApiId"]}),
            ("Items[?IntegrationUri=='", p["IntegrationUri"], "']"),
            {"id": "IntegrationId"},
        ),
        ("apigatewayv2", "CreateRoute"): lambda: Find(
            Call(svc, "GetRoutes", {"ApiId": p["ApiId"]}),
            (f"Items[?RouteKey=='{p['RouteKey']}']",),
            {"id": "RouteId"},
        ),
        ("lambda", "CreateFunction"): lambda: Find(
            Call(svc, "GetFunction", {"FunctionName": p["FunctionName"]}),
            (f"[@][?{_tagged(stack, 'Tags')}].Configuration",),
            {"name": "FunctionName", "arn": "FunctionArn"},
        ),
        ("lambda", "AddPermission"): lambda: Find(
            Call(svc, "GetPolicy", {"FunctionName": p["FunctionName"]}),
            (f"[@][?contains(Policy, '\"{p['StatementId']}\"')]",),
            present="RevisionId",
        ),
        ("apigateway", "CreateRestApi"): lambda: Find(
            Call(svc, "GetRestApis", {}),
            (f"items[?name=='{p['name']}' && {_tagged(stack, 'tags')}]",),
            {"id": "id", "root": "rootResourceId"},
        ),
        ("apigateway", "CreateResource"): lambda: Find(
            Call(svc, "GetResources", {"restApiId": p["restApiId"]}),
            (f"items[?pathPart=='{p['pathPart']}' && parentId=='", p["parentId"], "']"),
            {"id": "id"},
        ),
        ("apigateway", "CreateAuthorizer"): lambda: Find(
            Call(svc, "GetAuthorizers", {"restApiId": p["restApiId"]}),
            (f"items[?name=='{p['name']}']",),
            {"id": "id"},
        ),
        ("apigateway", "PutMethod"): lambda: Find(
            Call(
                svc,
                "GetMethod",
                {"restApiId": p["restApiId"], "resourceId": p["resourceId"], "httpMethod": p["httpMethod"]},
            ),
            ("[@]",),
            present="httpMethod",
        ),
        ("apigateway", "CreateDeployment"): lambda: Find(
            Call(svc, "GetStage", {"restApiId": p["restApiId"], "stageName": p["stageName"]}),
            ("[@]",),
            {"deployment": "deploymentId"},
        ),
    }
    finder = finders.get((svc, op))
    if finder is None:
        raise KeyError(f"the aws-cli export cannot find what {svc} {op} makes: add it to awscli_finds")
    return finder()


def find(call: Call, stack: str) -> Find | None:
    """The read that finds what `call` makes (None: the call is made every run)."""
    return None if call.operation in IDEMPOTENT else _find(call, stack)


def deletes(call: Call, names: Mapping[str, Any]) -> list[Call]:
    """The calls that delete what a top-level unit's creating `call` made, the resource's ID as
    the Ref its find captured; `names`: what the deletion needs of the stack's other declarations
    (the role's inline policy, the pool's domain)."""
    p = call.params
    table: dict[tuple[str, str], Callable[[Ref], list[Call]]] = {
        ("iam", "CreateRole"): lambda ref: [
            *(
                Call("iam", "DeleteRolePolicy", {"RoleName": p["RoleName"], "PolicyName": name})
                for name in names.get("policies", ())
            ),
            Call("iam", "DeleteRole", {"RoleName": p["RoleName"]}),
        ],
        ("logs", "CreateLogGroup"): lambda ref: [
            Call("logs", "DeleteLogGroup", {"logGroupName": p["logGroupName"]})
        ],
        ("cognito-idp", "CreateUserPool"): lambda ref: [
            *(
                Call("cognito-idp", "DeleteUserPoolDomain", {"Domain": domain, "UserPoolId": ref})
                for domain in names.get("domains", ())
            ),
            Call("cognito-idp", "DeleteUserPool", {"UserPoolId": ref}),
        ],
        ("apigatewayv2", "CreateApi"): lambda ref: [Call("apigatewayv2", "DeleteApi", {"ApiId": ref})],
        ("lambda", "CreateFunction"): lambda ref: [
            Call("lambda", "DeleteFunction", {"FunctionName": p["FunctionName"]})
        ],
        ("apigateway", "CreateRestApi"): lambda ref: [
            Call("apigateway", "DeleteRestApi", {"restApiId": ref})
        ],
    }
    deleter = table.get((call.service, call.operation))
    if deleter is None:
        raise KeyError(f"the aws-cli export cannot delete what {call.service} {call.operation} makes")
    return deleter(Ref(names["key"]))
