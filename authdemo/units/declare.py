"""What a unit declares: the AWS calls that make its resource, as data (issue 22).

The executor (`Unit.create`) and every exporter (aws-cli script, CloudFormation, SAM, serverless)
read the same declaration, so a property cannot be right in one and wrong in the other. A value
known only at run time is a marker: `Ref` (another unit's recorded ID), `Pseudo` (the stack's
region, account...), `Secret` (a password: never written by an exporter), `Join` (a string of
those); `resolve` replaces them with what a context knows, which is what the executor sends.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .base import Context, Rec

#: The names a `Pseudo` may have: what the stack's place gives.
PSEUDOS = ("region", "account", "partition", "dns_suffix")
#: The names a `Secret` may have: the context's stored passwords.
SECRETS = ("password", "student_password")


@dataclass(frozen=True)
class Ref:
    """Another unit's recorded ID, known once that unit exists."""

    key: str  # the unit's key ("user_pool")
    field: str = "id"  # its recorded field ("id", "arn", "name", "endpoint", "root", ...)


@dataclass(frozen=True)
class Pseudo:
    """What the stack's place gives: "region", "account", "partition", "dns_suffix"."""

    name: str

    def __post_init__(self) -> None:
        if self.name not in PSEUDOS:
            raise ValueError(f"Pseudo {self.name!r} is none of {PSEUDOS}")


@dataclass(frozen=True)
class Secret:
    """A value never written anywhere by an exporter: "password", "student_password"."""

    name: str

    def __post_init__(self) -> None:
        if self.name not in SECRETS:
            raise ValueError(f"Secret {self.name!r} is none of {SECRETS}")


@dataclass(frozen=True)
class Join:
    """A string made of parts: text, Ref, Pseudo (e.g. a source ARN with the API's id)."""

    parts: tuple[str | Ref | Pseudo, ...]


@dataclass(frozen=True)
class Call:
    """One AWS call as a unit declares it: what the executor sends and what every exporter reads."""

    service: str  # boto3 client name ("cognito-idp")
    operation: str  # botocore operation name ("CreateUserPool")
    #: The request as boto3 takes it; Ref/Pseudo/Join/Secret where a value is known only at run
    #: time; bytes for blobs (the function's zip).
    params: Mapping[str, Any]
    #: recorded field -> JMESPath in the answer ({"id": "UserPool.Id"}); empty for a call that completes.
    returns: Mapping[str, str] = field(default_factory=dict)
    note: str = ""  # why, in a few words (an exporter may print it as a comment)

    @property
    def method(self) -> str:
        """boto3's name of the operation ("create_user_pool")."""
        from botocore import xform_name  # botocore loads only when a call is made (CLI start)

        return str(xform_name(self.operation))


def arn(service: str, resource: str | Ref, *more: str | Ref, regional: bool = True) -> Join:
    """`arn:<partition>:<service>:<region>:<account>:<resource...>` with the place as Pseudo."""
    region: tuple[str | Ref | Pseudo, ...] = (Pseudo("region"),) if regional else ()
    return Join(
        ("arn:", Pseudo("partition"), f":{service}:", *region, ":", Pseudo("account"), ":", resource, *more)
    )


def join(*parts: str | Ref | Pseudo) -> Join:
    return Join(tuple(parts))


def resolve(value: Any, ctx: Context) -> Any:
    """Ref/Pseudo/Join/Secret replaced by what ctx knows (recorded IDs, region, account, the
    stored passwords), recursively through dicts and lists: what the executor sends."""
    if isinstance(value, Ref):
        return ctx.rec(value.key)[value.field]
    if isinstance(value, Pseudo):
        if value.name == "account":
            return ctx.account()
        return str(getattr(ctx, value.name))
    if isinstance(value, Secret):
        return str(getattr(ctx, value.name))
    if isinstance(value, Join):
        return "".join(str(resolve(part, ctx)) for part in value.parts)
    if isinstance(value, Mapping):
        return {k: resolve(v, ctx) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [resolve(v, ctx) for v in value]
    return value


def returned(call: Call, answer: Mapping[str, Any]) -> Rec:
    """What the call's `returns` names in AWS's answer."""
    import jmespath  # type: ignore[import-untyped]

    return {name: jmespath.search(path, answer) for name, path in call.returns.items()}


def send(ctx: Context, call: Call, client: Any = None) -> dict[str, Any]:
    """Send the call, resolved, through `client` (default: the context's client of its service)."""
    target = client if client is not None else ctx.clients(call.service)
    answer: dict[str, Any] = getattr(target, call.method)(**resolve(call.params, ctx))
    return answer


def refs(value: Any) -> list[Ref]:
    """Every Ref in a declared value (its order of first appearance)."""
    found: list[Ref] = []

    def walk(item: Any) -> None:
        if isinstance(item, Ref):
            if item not in found:
                found.append(item)
        elif isinstance(item, Join):
            walk(list(item.parts))
        elif isinstance(item, Mapping):
            for v in item.values():
                walk(v)
        elif isinstance(item, (list, tuple)):
            for v in item:
                walk(v)

    walk(value)
    return found
