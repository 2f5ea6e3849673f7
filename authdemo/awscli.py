"""The `aws` command a person would type for one AWS call.

`up --explain` prints each call as it runs through this module and the aws-cli export writes
each declared call through it, so a slide's command is the text that ran. Every name and kind
of argument is read from botocore's model (the one the aws CLI itself builds its options from),
by the CLI's own rules: `botocore.xform_name(name, "-")`, a boolean as `--flag`/`--no-flag`, a
structure, list or map as JSON, a blob as `fileb://<file>` (one inside a parameter's structure,
as Lambda's `Code.ZipFile`, is the CLI's top-level `--zip-file`). Values known only at run time
(`Ref`, `Pseudo`, `Join`) are shell variables, so a command works when pasted after the lines
that set them; secrets never appear.
"""

from __future__ import annotations

import base64
import functools
import json
import re
import shlex
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .botodata import shared_loader
from .units.declare import Call, Join, Pseudo, Ref, Secret

#: What a secret (and, unless the caller owns its secrets, any value the model marks sensitive)
#: is shown as.
MASK = "***"

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# A variable's place in a rendered text: private-use code points no JSON dump or ID contains.
_SLOT = re.compile("\ue000([0-9]+)\ue001")
_ZIP = b"PK\x03\x04"


def default_name(ref: Ref) -> str:
    """The shell variable a Ref is: KEY_FIELD upper-cased ("USER_POOL_ID")."""
    return re.sub(r"\W", "_", f"{ref.key}_{ref.field}").upper()


def pseudo_name(pseudo: Pseudo) -> str:
    """The shell variable a Pseudo is: AWS_REGION, AWS_ACCOUNT_ID, AWS_PARTITION, AWS_DNS_SUFFIX."""
    return "AWS_ACCOUNT_ID" if pseudo.name == "account" else f"AWS_{pseudo.name.upper()}"


def command(
    call: Call,
    names: Callable[[Ref], str] | None = None,
    secret: Callable[[Secret], str] | None = None,
    endpoint_url: str | None = None,
    region: str | None = None,
    public: Collection[str] = (),
) -> str:
    """The `aws` command for `call` (resolved or declared), one line that works when pasted.

    `names(ref)` gives the shell variable holding a Ref's value (default :func:`default_name`:
    `"$USER_POOL_ID"`); a Pseudo is `"$AWS_REGION"`, `"$AWS_ACCOUNT_ID"`... (:func:`pseudo_name`).
    `secret(s)` gives the shell variable holding a Secret (`"$DEMO_PASSWORD"`), or any other text,
    shown quoted as a placeholder (default `'***'`). Without `secret`, every literal in a member
    the model marks `sensitive` (a password, and also a username or a function's environment:
    the model marks those too) is `'***'`: what a live call shows. A caller that gives `secret`
    has said which values are secret (the declaration's Secrets) and gets the other literals as
    declared: the aws-cli export needs its usernames. `public`: literals shown even where the model
    says sensitive, because they are no secret and authdemo shows them everywhere else (the stack's
    usernames, which are also their emails; `true`): `--explain` passes them, so only what is
    secret stays `'***'`. `--endpoint-url`/`--region` are appended
    when given. A variable inside JSON is spliced in as it is (an ID, a region: nothing to escape).
    Raises ValueError for a parameter the operation does not have."""
    render = _Render(call, names or default_name, secret, frozenset(public))
    op = _model(call.service).operation_model(call.operation)
    members = op.input_shape.members if op.input_shape is not None else {}
    words = ["aws", call.service, _kebab(call.operation)]
    for member, value in call.params.items():
        if value is None:
            continue
        if member not in members:
            raise ValueError(f"{call.service} {call.operation} has no parameter {member!r}")
        words.extend(render.argument(member, members[member], value))
    if endpoint_url:
        words += ["--endpoint-url", shlex.quote(endpoint_url)]
    if region:
        words += ["--region", shlex.quote(region)]
    return " ".join(words)


def blob_files(call: Call) -> dict[str, bytes]:
    """The files `command(call)` names with `fileb://`, and their content: whoever prints the
    command writes them beside it (the aws-cli export writes the functions' zips)."""
    return {name: blob for name, _, blob in _blobs(call)}


@functools.cache
def _model(service: str) -> Any:
    """botocore's model of `service`, through authdemo's shared loader (parsed once)."""
    from botocore.model import ServiceModel

    return ServiceModel(shared_loader().load_service_model(service, "service-2"), service_name=service)


def _kebab(name: str) -> str:
    from botocore import xform_name

    return str(xform_name(name, "-"))


def _blobs(call: Call) -> Iterator[tuple[str, int, bytes]]:
    """Each blob of `call`: its file name, `<FunctionName>.zip` (the call's first literal
    `...Name` parameter, else the operation; `-<member>` added when the call has several), the
    id of the very object in `call.params`, and its bytes."""
    found: list[tuple[str, int, bytes]] = []

    def walk(value: Any, member: str) -> None:
        if isinstance(value, bytes | bytearray):
            found.append((member, id(value), bytes(value)))
        elif isinstance(value, Mapping):
            for key, item in value.items():
                walk(item, str(key))
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item, member)

    walk(dict(call.params), call.operation)
    stem = next(
        (v for k, v in call.params.items() if k.endswith("Name") and isinstance(v, str) and v),
        _kebab(call.operation),
    )
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", stem)
    for member, ident, blob in found:
        suffix = f"-{_kebab(member)}" if len(found) > 1 else ""
        yield f"{stem}{suffix}{'.zip' if blob.startswith(_ZIP) else '.bin'}", ident, blob


@dataclass
class _Var:
    name: str


class _Render:
    """Turns one call's parameters into shell words (state: the variables met so far)."""

    def __init__(
        self,
        call: Call,
        names: Callable[[Ref], str],
        secret: Callable[[Secret], str] | None,
        public: frozenset[str] = frozenset(),
    ) -> None:
        self.names = names
        self.public = public
        self.secret = secret
        self.mask = secret is None  # no one has said what is secret: the model's `sensitive` does
        self.slots: list[str] = []
        self.files = {ident: name for name, ident, _ in _blobs(call)}
        self.call = call

    def argument(self, member: str, shape: Any, value: Any) -> list[str]:
        """The words of one top-level parameter (none for a structure all hoisted away)."""
        option = f"--{_kebab(member)}"
        kind = shape.type_name
        if kind == "boolean" and isinstance(value, bool):
            return [option if value else f"--no-{_kebab(member)}"]
        if kind == "blob" and isinstance(value, bytes | bytearray):
            return [option, f"fileb://{self._file(value)}"]
        words: list[str] = []
        if kind == "structure" and isinstance(value, Mapping):
            # The CLI's hoisting: a blob inside a parameter's structure is its own top-level
            # option named after the member (Lambda's `--zip-file` for Code.ZipFile).
            kept = {}
            for key, item in value.items():
                if isinstance(item, bytes | bytearray) and shape.members[key].type_name == "blob":
                    words += [f"--{_kebab(key)}", f"fileb://{self._file(item)}"]
                else:
                    kept[key] = item
            if not kept:
                return words
            value = kept
        self.slots = []
        sensitive = bool(shape.metadata.get("sensitive"))
        if kind in ("structure", "list", "map"):
            text = json.dumps(self._json(value, shape, sensitive), ensure_ascii=False, separators=(",", ":"))
        else:
            text = self._text(value, sensitive)
        return [option, self._word(text), *words]

    def _file(self, blob: bytes | bytearray) -> str:
        """The file name _blobs gave this very blob (the same object, walked the same way)."""
        return self.files[id(blob)]

    def _slot(self, name: str) -> str:
        self.slots.append(name)
        return f"\ue000{len(self.slots) - 1}\ue001"

    def _text(self, value: Any, sensitive: bool) -> str:
        """A scalar as text, its run-time values as variable slots."""
        if isinstance(value, Ref):
            return self._slot(self.names(value))
        if isinstance(value, Pseudo):
            return self._slot(pseudo_name(value))
        if isinstance(value, Join):
            return "".join(p if isinstance(p, str) else self._text(p, False) for p in value.parts)
        if isinstance(value, Secret):
            shown = self.secret(value) if self.secret is not None else MASK
            return self._slot(shown) if _NAME.match(shown) else shown
        if sensitive and self.mask and not (isinstance(value, str | bool) and _shown(value) in self.public):
            return MASK
        if isinstance(value, bytes | bytearray):  # a blob inside JSON: the CLI takes base64
            return base64.b64encode(value).decode()
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def _json(self, value: Any, shape: Any, sensitive: bool) -> Any:
        """`value` as a JSON-ready object under `shape`; sensitivity passes down to the leaves."""
        sensitive = sensitive or bool(shape.metadata.get("sensitive"))
        kind = shape.type_name
        if kind == "structure" and isinstance(value, Mapping):
            out = {}
            for key, item in value.items():
                if item is None:
                    continue
                if key not in shape.members:
                    raise ValueError(f"{self.call.operation}: {shape.name} has no member {key!r}")
                out[key] = self._json(item, shape.members[key], sensitive)
            return out
        if kind == "map" and isinstance(value, Mapping):
            return {str(k): self._json(v, shape.value, sensitive) for k, v in value.items()}
        if kind == "list" and isinstance(value, list | tuple):
            return [self._json(v, shape.member, sensitive) for v in value]
        if isinstance(value, bool | int | float) and not (
            sensitive and self.mask and _shown(value) not in self.public
        ):
            return value
        return self._text(value, sensitive)

    def _word(self, text: str) -> str:
        """One shell word for `text`: literal parts quoted, variable slots as "$NAME"."""
        parts: list[str | _Var] = []
        for i, piece in enumerate(_SLOT.split(text)):
            if i % 2:
                parts.append(_Var(self.slots[int(piece)]))
            elif piece:
                parts.append(piece)
        if not parts:
            return "''"
        if not any(isinstance(p, _Var) for p in parts):
            return shlex.quote(text)
        literals = [p for p in parts if isinstance(p, str)]
        if not any(c in lit for lit in literals for c in '"$`\\!'):  # one double-quoted word
            out = []
            for i, part in enumerate(parts):
                if isinstance(part, str):
                    out.append(part)
                else:
                    after = parts[i + 1] if i + 1 < len(parts) else ""
                    glued = isinstance(after, str) and re.match(r"[A-Za-z0-9_]", after)
                    out.append(f"${{{part.name}}}" if glued else f"${part.name}")
            return '"' + "".join(out) + '"'
        return "".join(shlex.quote(p) if isinstance(p, str) else f'"${p.name}"' for p in parts)


def _shown(value: str | bool | int | float) -> str:
    """A literal as `public` names it (`true` for True)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
