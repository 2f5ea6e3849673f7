"""The AWS resources of a stack, one small unit each, one module per AWS service.

A new resource goes in its service's module (a new service: a new module), as a `Unit`
subclass (see base.py for the contract), and into `UNITS` below. The engine derives the
order of `up` and `down` from each unit's `needs` and `parent`.
"""

from __future__ import annotations

from .apigateway import ROUTE_KEY, Api, Authorizer, Integration, Route, Stage
from .awslambda import Function, Permission, function_zip
from .base import TAG_KEY, Context, MemoryRecords, Names, Rec, Records, Unit
from .cognito import AppClient, User, UserPool
from .iam import Role, RolePolicy
from .logs import LogGroup

UNITS: tuple[type[Unit], ...] = (
    Role,
    RolePolicy,
    LogGroup,
    UserPool,
    AppClient,
    User,
    Api,
    Stage,
    Authorizer,
    Function,
    Integration,
    Permission,
    Route,
)


def all_units() -> list[Unit]:
    return [cls() for cls in UNITS]


__all__ = [
    "ROUTE_KEY",
    "TAG_KEY",
    "UNITS",
    "Context",
    "MemoryRecords",
    "Names",
    "Rec",
    "Records",
    "Unit",
    "all_units",
    "function_zip",
]
