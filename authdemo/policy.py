"""The least-privilege IAM policy for everything authdemo calls on real AWS (`authdemo policy`).

Pure data and one function. Each statement lists the exact actions of one service and the
narrowest resource AWS lets us name: the stack's role under its IAM path, its function and its
log group by name (`--stack`; otherwise every authdemo stack: `authdemo-*`). Some cannot be
narrowed: `sts:GetCallerIdentity`, `cognito-idp:CreateUserPool`/`ListUserPools` take no
resource, nor does `DescribeUserPoolDomain` (it names a domain), user pools get random IDs
(`userpool/*`), and HTTP and REST APIs random IDs (`/apis/*`, `/restapis/*`: API Gateway's IAM
resource ARNs, `arn:aws:apigateway:<region>::/restapis/<id>/...`). The client-credentials grant at the
domain's `/oauth2/token` is authorized by the client's secret, not by IAM.
`tests/test_policy.py` records every AWS operation of up (also --dry-run, --callback-port, an
adoption), test, token (--m2m, --refresh, --sign-out), status (--field m2m_client_secret),
logout, down (also --dry-run, --sweep) and of an `up --issuer` stack, and fails if this policy
does not allow one. `login` and `open` open the stack as `logout` does (GetCallerIdentity) and
otherwise talk only to the domain's OAuth endpoints, like `token --m2m`'s token request.

Implied actions (a call that needs a second permission):
- `lambda:CreateFunction` needs `iam:PassRole` for the role (only to Lambda: the condition);
- `lambda:GetFunction` returns the function's tags only with `lambda:ListTags` (discovery
  matches the stack's tag, so without it `down` never finds a function);
- creating with tags needs `iam:TagRole`, `logs:TagResource`, `lambda:TagResource`,
  `cognito-idp:TagResource`, and for API Gateway `apigateway:TagResource`/`POST` on `/tags/*`;
- the first `CreateApi` of an account makes API Gateway create its service-linked role
  (AWSServiceRoleForAPIGateway, trusted by `ops.apigateway.amazonaws.com`) with the caller's
  `iam:CreateServiceLinkedRole`: allowed for that role and that service only.
`cognito-idp:InitiateAuth` (sign-in), `cognito-idp:GlobalSignOut` (`test`'s signed-out row,
`token --sign-out`) and `cognito-idp:GetUser` (`token --sign-out` shows Cognito refusing the
token): authorized by the user's access token, not by IAM, so they are not listed.
"""

from __future__ import annotations

from typing import Any

from .units.base import Names

# The action lists below are a choice of ours, not a copy of AWS's: the IAM actions of the calls
# authdemo makes (the recording test in tests/test_policy.py derives those from each call's
# model and fails if one is missing); IAM's action names are not in botocore's models.

IAM_ROLE_ACTIONS = (
    "iam:CreateRole",
    "iam:GetRole",
    "iam:TagRole",
    "iam:DeleteRole",
    "iam:PutRolePolicy",
    "iam:GetRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:ListRolePolicies",
    "iam:ListAttachedRolePolicies",
    "iam:DetachRolePolicy",
)
#: The reads that ask whether a role exists. IAM matches a request against the role's ARN, which
#: holds its path (`role/authdemo/<stack>/<name>`); a role that does not exist has no path, so its
#: ARN is `role/<name>` and only a statement on that ARN lets IAM answer NoSuchEntity rather than
#: AccessDenied (docs/aws-notes.md, issue 19). Reads only: nothing is changed through that ARN.
IAM_ROLE_LOOKUPS = (
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:ListRolePolicies",
    "iam:ListAttachedRolePolicies",
)
LOGS_ACTIONS = (
    "logs:CreateLogGroup",
    "logs:PutRetentionPolicy",
    "logs:DeleteLogGroup",
    "logs:TagResource",
    "logs:ListTagsForResource",
)
#: API Gateway's service-linked role (developer guide, "Using service-linked roles for API
#: Gateway"): its service principal, and its name under IAM's path for service-linked roles.
APIGATEWAY_SERVICE = "ops.apigateway.amazonaws.com"
APIGATEWAY_LINKED_ROLE = f"aws-service-role/{APIGATEWAY_SERVICE}/AWSServiceRoleForAPIGateway"
#: DescribeUserPoolDomain names a domain, not a pool: it takes no resource either.
COGNITO_UNSCOPED_ACTIONS = (
    "cognito-idp:CreateUserPool",
    "cognito-idp:ListUserPools",
    "cognito-idp:DescribeUserPoolDomain",
)
COGNITO_POOL_ACTIONS = (
    "cognito-idp:DescribeUserPool",
    "cognito-idp:UpdateUserPool",
    "cognito-idp:DeleteUserPool",
    "cognito-idp:CreateUserPoolDomain",
    "cognito-idp:DeleteUserPoolDomain",
    "cognito-idp:CreateResourceServer",
    "cognito-idp:DescribeResourceServer",
    "cognito-idp:TagResource",
    "cognito-idp:CreateUserPoolClient",
    "cognito-idp:DescribeUserPoolClient",  # also reads the M2M client's secret
    "cognito-idp:UpdateUserPoolClient",
    "cognito-idp:ListUserPoolClients",
    "cognito-idp:AdminCreateUser",
    "cognito-idp:AdminGetUser",
    "cognito-idp:AdminSetUserPassword",
    "cognito-idp:CreateGroup",
    "cognito-idp:GetGroup",
    "cognito-idp:AdminAddUserToGroup",
    "cognito-idp:AdminListGroupsForUser",
)
LAMBDA_ACTIONS = (
    "lambda:CreateFunction",
    "lambda:GetFunction",
    "lambda:GetFunctionConfiguration",
    "lambda:UpdateFunctionConfiguration",
    "lambda:DeleteFunction",
    "lambda:AddPermission",
    "lambda:RemovePermission",
    "lambda:GetPolicy",
    "lambda:TagResource",
    "lambda:ListTags",
)
APIGATEWAY_ACTIONS = (
    "apigateway:GET",
    "apigateway:POST",
    "apigateway:PUT",  # the REST API's PutMethod and PutIntegration
    "apigateway:PATCH",
    "apigateway:DELETE",
    "apigateway:TagResource",
)


def policy(
    stack: str | None = None, partition: str = "aws", region: str = "*", account: str = "*"
) -> dict[str, Any]:
    """The identity policy authdemo needs; `stack` narrows the role, function and log group."""
    roles = f"arn:{partition}:iam::{account}:role"
    if stack is None:
        role: str | list[str] = f"{roles}/authdemo/*"
        role_names = ["authdemo-*-fn-role", "authdemo-*-authz-role"]
        function_names = ["authdemo-*-hello", "authdemo-*-authorizer"]
    else:
        names = Names(stack)
        role_names = [names.role, names.authorizer_role]  # both functions' roles
        role = [f"{roles}{names.role_path}{name}" for name in role_names]
        function_names = [names.function, names.authorizer_function]
    log_groups = [
        f"arn:{partition}:logs:{region}:{account}:log-group:/aws/lambda/{n}" for n in function_names
    ]
    functions = [f"arn:{partition}:lambda:{region}:{account}:function:{n}" for n in function_names]
    apis = f"arn:{partition}:apigateway:{region}::"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "WhoAmI", "Effect": "Allow", "Action": ["sts:GetCallerIdentity"], "Resource": "*"},
            {"Sid": "FunctionRole", "Effect": "Allow", "Action": list(IAM_ROLE_ACTIONS), "Resource": role},
            {
                "Sid": "AskWhetherFunctionRoleExists",  # by its path-less ARN: see IAM_ROLE_LOOKUPS
                "Effect": "Allow",
                "Action": list(IAM_ROLE_LOOKUPS),
                "Resource": [f"{roles}/{name}" for name in role_names],
            },
            {
                "Sid": "PassFunctionRoleToLambdaOnly",
                "Effect": "Allow",
                "Action": ["iam:PassRole"],
                "Resource": role,
                "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
            },
            {
                "Sid": "ApiGatewayServiceLinkedRole",  # made by the account's first CreateApi
                "Effect": "Allow",
                "Action": ["iam:CreateServiceLinkedRole"],
                "Resource": f"arn:{partition}:iam::{account}:role/{APIGATEWAY_LINKED_ROLE}",
                "Condition": {"StringEquals": {"iam:AWSServiceName": APIGATEWAY_SERVICE}},
            },
            {
                "Sid": "FunctionLogGroup",
                "Effect": "Allow",
                "Action": list(LOGS_ACTIONS),
                "Resource": [r for group in log_groups for r in (group, f"{group}:*")],
            },
            {
                "Sid": "FindLogGroupByName",  # a list call: allowed on the region's log groups
                "Effect": "Allow",
                "Action": ["logs:DescribeLogGroups"],
                "Resource": f"arn:{partition}:logs:{region}:{account}:log-group:*",
            },
            {
                "Sid": "CreateAndListUserPools",
                "Effect": "Allow",
                "Action": list(COGNITO_UNSCOPED_ACTIONS),
                "Resource": "*",
            },
            {
                "Sid": "UserPools",
                "Effect": "Allow",
                "Action": list(COGNITO_POOL_ACTIONS),
                "Resource": f"arn:{partition}:cognito-idp:{region}:{account}:userpool/*",
            },
            {
                "Sid": "Function",
                "Effect": "Allow",
                "Action": list(LAMBDA_ACTIONS),
                "Resource": functions,
            },
            {
                "Sid": "HttpAndRestApis",  # API Gateway v2 (/apis) and v1 (/restapis, issue 21)
                "Effect": "Allow",
                "Action": list(APIGATEWAY_ACTIONS),
                "Resource": [
                    f"{apis}/apis",
                    f"{apis}/apis/*",
                    f"{apis}/restapis",
                    f"{apis}/restapis/*",
                    f"{apis}/tags/*",
                ],
            },
            {
                "Sid": "CallTheIamRoute",  # `authdemo test` signs its requests to GET /iam (HTTP, REST)
                "Effect": "Allow",
                "Action": ["execute-api:Invoke"],
                "Resource": f"arn:{partition}:execute-api:{region}:{account}:*/*/GET/iam",
            },
        ],
    }
