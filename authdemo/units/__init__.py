"""The AWS resources of a stack, one small unit each, one module per AWS service.

A new resource goes in its service's module (a new service: a new module), as a `Unit`
subclass (see base.py for the contract), and into `UNITS` below. The engine derives the
order of `up` and `down` from each unit's `needs` and `parent`.
"""

from __future__ import annotations

from .apigateway import Api, Authorizer, Integration, LambdaAuthorizer, M2MAuthorizer, Stage
from .apigateway_rest import RestApi, RestAuthorizer, RestTokenAuthorizer
from .apigateway_rest_doors import DOORS as REST_DOORS
from .apigateway_rest_doors import REST_UNITS
from .apigateway_routes import ROUTE_KEY, ROUTES, IamRoute, LambdaRoute, M2MRoute, Route, ScopedRoute
from .awslambda import (
    AuthorizerFunction,
    AuthorizerPermission,
    Function,
    Permission,
    RestAuthorizerPermission,
    RestPermission,
    function_zip,
)
from .base import DEFAULT_CALLBACK_PORT, TAG_KEY, Context, MemoryRecords, Names, Rec, Records, Unit
from .cognito import AppClient, Group, Membership, Student, User, UserPool
from .cognito_oauth import M2M_SCOPE, Domain, M2MClient, ResourceServer
from .declare import Call, Join, Pseudo, Ref, Secret, resolve
from .iam import AuthorizerRole, AuthorizerRolePolicy, Role, RolePolicy
from .logs import AuthorizerLogGroup, LogGroup

UNITS: tuple[type[Unit], ...] = (
    Role,
    RolePolicy,
    AuthorizerRole,
    AuthorizerRolePolicy,
    LogGroup,
    AuthorizerLogGroup,
    UserPool,
    AppClient,
    User,
    Student,
    Group,
    Membership,
    Domain,
    ResourceServer,
    M2MClient,
    Api,
    Stage,
    Authorizer,
    M2MAuthorizer,
    Function,
    AuthorizerFunction,
    LambdaAuthorizer,
    AuthorizerPermission,
    Integration,
    Permission,
    Route,
    ScopedRoute,
    LambdaRoute,
    IamRoute,
    M2MRoute,
    RestApi,
    RestAuthorizer,
    RestTokenAuthorizer,
    *REST_UNITS,
    RestPermission,
    RestAuthorizerPermission,
)


def all_units() -> list[Unit]:
    return [cls() for cls in UNITS]


__all__ = [
    "DEFAULT_CALLBACK_PORT",
    "M2M_SCOPE",
    "REST_DOORS",
    "ROUTES",
    "ROUTE_KEY",
    "TAG_KEY",
    "UNITS",
    "Call",
    "Context",
    "Join",
    "MemoryRecords",
    "Names",
    "Pseudo",
    "Rec",
    "Records",
    "Ref",
    "Secret",
    "Unit",
    "all_units",
    "function_zip",
    "resolve",
]
