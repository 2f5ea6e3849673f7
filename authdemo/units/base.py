"""What every resource unit shares: its names, its context, and the contract it fulfils.

A unit describes one AWS resource and acts on it, nothing more: it says what it needs
(`needs`), what contains it (`parent`: deleted together with it, e.g. the API's routes),
and knows how to `discover` itself (by its deterministic name *and* the stack's tag or IAM
path, so nothing foreign is ever touched), `create` itself (one creating call, returning
the IDs AWS gave), tell whether a recorded copy still `exists`, bring one to what `up`
wants (`configure`), and `delete` itself. Units never write the state file: the engine
records what `create`/`discover`/`configure` return, the moment they return it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from ..aws import Clients
from ..errors import AuthdemoError
from .declare import Call

#: A resource's recorded IDs, as kept in the state file (`{"id": ..., "arn": ...}`).
Rec = dict[str, Any]

TAG_KEY = "authdemo:stack"
#: The loopback port of the app client's callback URL unless `up --callback-port` says otherwise.
DEFAULT_CALLBACK_PORT = 8400


@dataclass(frozen=True)
class Names:
    """Every AWS name of a stack, derived from the stack name alone."""

    stack: str

    @property
    def prefix(self) -> str:
        return f"authdemo-{self.stack}"

    @property
    def role(self) -> str:
        return f"{self.prefix}-fn-role"

    @property
    def role_path(self) -> str:
        return f"/authdemo/{self.stack}/"

    @property
    def role_policy(self) -> str:
        return "write-own-logs"

    @property
    def function(self) -> str:
        return f"{self.prefix}-hello"

    @property
    def log_group(self) -> str:
        return f"/aws/lambda/{self.function}"

    @property
    def user_pool(self) -> str:
        return f"{self.prefix}-pool"

    @property
    def client(self) -> str:
        return f"{self.prefix}-client"

    @property
    def api(self) -> str:
        return f"{self.prefix}-api"

    @property
    def authorizer(self) -> str:
        return "cognito-jwt"

    @property
    def statement_id(self) -> str:
        return f"{self.prefix}-invoke"

    # The Lambda authorizer's function, with its own role and log group (issue #10).
    @property
    def authorizer_role(self) -> str:
        return f"{self.prefix}-authz-role"

    @property
    def authorizer_function(self) -> str:
        return f"{self.prefix}-authorizer"

    @property
    def authorizer_log_group(self) -> str:
        return f"/aws/lambda/{self.authorizer_function}"

    @property
    def lambda_authorizer(self) -> str:
        return "presenters-lambda"

    @property
    def authorizer_statement_id(self) -> str:
        return f"{self.prefix}-authorizer-invoke"

    @property
    def group(self) -> str:
        return "presenters"

    @property
    def student(self) -> str:
        return "student@example.com"

    # Managed login and machine-to-machine (issue 11): see cognito_oauth.py.
    @property
    def m2m_client(self) -> str:
        return f"{self.prefix}-m2m"

    @property
    def m2m_authorizer(self) -> str:
        return "cognito-m2m"

    @property
    def resource_server(self) -> str:
        return "authdemo"

    # The REST API half (issue 21): see apigateway_rest.py.
    @property
    def rest_api(self) -> str:
        return f"{self.prefix}-rest"

    @property
    def rest_stage(self) -> str:
        return "demo"

    @property
    def rest_authorizer(self) -> str:
        return "cognito-pool"

    @property
    def rest_token_authorizer(self) -> str:
        return "presenters-token"

    @property
    def rest_statement_id(self) -> str:
        return f"{self.prefix}-rest-invoke"

    @property
    def rest_authorizer_statement_id(self) -> str:
        return f"{self.prefix}-rest-authorizer-invoke"


class Records(Protocol):
    """Read access to the recorded IDs: the state file, or a dry run's in-memory copy."""

    def resource(self, key: str) -> Rec | None: ...

    def get(self, key: str, default: Any = None) -> Any: ...


class MemoryRecords:
    """Records kept in memory: what a dry run would have recorded, never written anywhere."""

    def __init__(self, resources: Mapping[str, Rec], settings: Mapping[str, Any]) -> None:
        self.resources = {k: dict(v) for k, v in resources.items()}
        self.settings = dict(settings)

    def resource(self, key: str) -> Rec | None:
        rec = self.resources.get(key)
        return dict(rec) if rec else None

    def get(self, key: str, default: Any = None) -> Any:
        return self.settings.get(key, default)


@dataclass
class Context:
    """What a unit needs to act: clients, the recorded IDs, names, and who/where we are."""

    clients: Clients
    records: Records
    names: Names
    region: str
    partition: str = "aws"  # arn:<partition>:... (aws-cn, aws-us-gov elsewhere)
    dns_suffix: str = "amazonaws.com"  # amazonaws.com.cn in China
    account_id: str = ""  # known up front for an existing stack; else from an ARN or STS
    username: str = "demo@example.com"
    password: str = ""
    student_password: str = ""
    callback_port: int = DEFAULT_CALLBACK_PORT  # the app client's loopback callback (`up --callback-port`)
    sign_up: bool = False  # `up --sign-up`: the pool lets people register themselves (email code)
    notify: Callable[[str, str], None] = lambda key, message: None  # progress notes (retries)
    remark: Callable[[str, str], None] = lambda key, message: None  # a note its finished row keeps
    fresh: set[str] = field(default_factory=set)  # keys created in this run
    #: The stack's profile: an external OIDC issuer (`up --issuer`) and the audiences its JWT
    #: authorizer accepts; "" for the Cognito stack. Units with `cognito = True` do not apply.
    issuer: str = ""
    audiences: tuple[str, ...] = ()
    #: `up --rest/--no-rest` (state `rest`, kept by later runs): the REST API half is built.
    rest: bool = True

    def account(self) -> str:
        """The account ID, without a round trip where an ARN already told it."""
        if not self.account_id:
            self.account_id = self.records.get("account_id") or ""
        if not self.account_id:
            self.account_id = self.clients.account_id()
        return self.account_id

    def arn(self, service: str, resource: str, region: str | None = None) -> str:
        """An ARN in this stack's partition and account (IAM ARNs have no region)."""
        where = self.region if region is None else region
        return f"arn:{self.partition}:{service}:{where}:{self.account()}:{resource}"

    @property
    def tags(self) -> dict[str, str]:
        return {TAG_KEY: self.names.stack, "authdemo:managed-by": "authdemo"}

    def rec(self, key: str) -> Rec:
        """The recorded IDs of a resource this one needs (present: the engine ran it first)."""
        rec = self.records.resource(key)
        if not rec:
            raise AuthdemoError(f"Internal error: {key} is needed but was not recorded.")
        return rec


class Unit:
    """Base of the resource units; subclasses fill in the AWS calls."""

    key: ClassVar[str]
    label: ClassVar[str]
    needs: ClassVar[tuple[str, ...]] = ()
    parent: ClassVar[str | None] = None  # deleted together with this unit
    # Among steps ready at once, higher starts first (the role: slowest to become usable).
    priority: ClassVar[int] = 0
    # Needs that matter only for creation: they do not order deletion (see Permission).
    create_only_needs: ClassVar[tuple[str, ...]] = ()
    id_field: ClassVar[str] = "id"
    #: Its name is its identity (a role, a function, a log group): a recorded copy is the only
    #: copy there can be, so `down` deletes it without looking for others first.
    named: ClassVar[bool] = False
    #: `up` creates before it looks (a look would delay the creation: see Role); the unit's
    #: `create` raises AuthdemoError with `aws_code == create_conflict` when the name is taken.
    create_conflict: ClassVar[str | None] = None
    #: A wait after `up` made or found it (e.g. "function active"): run as a step of its own.
    ready_label: ClassVar[str | None] = None
    #: Work that `down` can start at once, before `delete` is due (e.g. emptying the role).
    prepare_label: ClassVar[str | None] = None
    #: Lives in a region (False: IAM, global). In a region AWS does not have, only global
    #: resources can have been created: `down` of such a stack deletes those, forgets the rest.
    regional: ClassVar[bool] = True
    #: Part of the Cognito profile (the pool and what needs it): `up --issuer URL` builds a stack
    #: without these. `down` and `down --sweep` still look for every unit, whatever the profile.
    cognito: ClassVar[bool] = False

    def applies(self, ctx: Context) -> bool:
        """Whether `up` builds this unit for the stack's profile (see `cognito`)."""
        return not (self.cognito and ctx.issuer)

    def discover(self, ctx: Context) -> list[Rec]:
        """Every copy of this resource in AWS that belongs to the stack (name + tag/path)."""
        return []

    def declare(self, ctx: Context) -> list[Call]:
        """The calls that make this resource as `up` wants it on a fresh stack: the creating call
        first, then those that complete it (AdminSetUserPassword, PutRetentionPolicy, ...). Reads
        no AWS and no recorded ID (Ref stands for them): an exporter calls it on a Context whose
        records are empty (`MemoryRecords({}, settings)`), for the stack's profile (issuer,
        audiences, rest, sign_up, callback_port as the state or the options say). `create` sends
        the first (see declare.send); the completing calls are sent by `configure` on a fresh
        resource. The one place-bound value that is not a Pseudo is the domain's prefix, a digest
        of the account: a context for an exporter knows the account (`account_id`)."""
        raise NotImplementedError

    def create(self, ctx: Context) -> Rec:
        """Create it with one creating call; returns the IDs AWS answered with."""
        raise NotImplementedError

    def exists(self, ctx: Context, rec: Rec) -> bool:
        raise NotImplementedError

    def configure(self, ctx: Context, rec: Rec) -> Rec | None:
        """Bring a created, adopted or kept resource to what `up` wants; returns IDs to add."""
        return None

    def delete(self, ctx: Context, rec: Rec) -> None:
        """Delete it (NotFound counts as deleted); children go with it."""

    def describe(self, rec: Rec) -> str:
        return str(rec.get(self.id_field, ""))

    def wait_ready(self, ctx: Context, rec: Rec) -> None:
        """Wait until the resource can be used (see `ready_label`)."""

    def taken(self, ctx: Context) -> AuthdemoError:
        """The error when `create_conflict` says the name is taken and discovery finds no copy of ours."""
        return AuthdemoError(
            f"A {self.label} named for stack {ctx.names.stack!r} exists but is not authdemo's; "
            "choose another --stack."
        )

    def prepare_teardown(self, ctx: Context) -> bool:
        """See `prepare_label`; returns whether there was anything to prepare."""
        return False

    def teardown_targets(self, ctx: Context) -> list[Rec]:
        """The recorded copy and every discovered one, each once."""
        targets: list[Rec] = []
        rec = ctx.records.resource(self.key)
        if rec:
            targets.append(rec)
        for found in self.discover(ctx):
            if all(self.describe(found) != self.describe(t) for t in targets):
                targets.append(found)
        return targets


def sleep(seconds: float) -> None:
    """The only wait in provisioning: short, between polls (tests replace it)."""
    time.sleep(seconds)
