"""`authdemo export --format aws-cli`: the stack as a bash script in the course guide's style.

One `aws` command per call the units declare, in the order `up` makes them (planner.up_order),
each written by `authdemo.awscli.command` (the text `up --explain` shows); each ID a later
command needs is captured into a variable (`--query ... --output text`). Safe to rerun from the
top after a failure: each creating step first looks for its resource by the name (and the stack's
tag or IAM path) `discover` looks for, and reuses its ID (awscli_finds.py). CreateFunction is
retried while the new role propagates, as `up` does. Passwords come from variables or are asked
for (`read -s`), never written. `bash <script> delete` is its cleanup: the top-level resources in
the order `down` deletes them (each takes its children with it).
"""

from __future__ import annotations

import base64
import shlex
import textwrap
from collections.abc import Iterable

from .. import planner
from ..awscli import blob_files, command, default_name
from ..units import Call, Context, Ref, Secret, Unit
from ..units.awslambda import ROLE_NOT_READY, ROLE_WAIT_SECONDS, Function
from ..units.declare import refs
from .awscli_finds import Find, deletes, find

#: The shell variables the Secrets are read from: the first is the one `authdemo up` reads too.
SECRET_VARIABLES = {"password": "AUTHDEMO_PASSWORD", "student_password": "AUTHDEMO_STUDENT_PASSWORD"}
ROLE_RETRY_SECONDS = 2


def secret_variable(secret: Secret) -> str:
    return SECRET_VARIABLES[secret.name]


def render(ctx: Context) -> str:
    """The script for the stack `ctx` describes (records empty: see authdemo.export.write)."""
    units = planner.profile_units(ctx)
    order = planner._topological(planner.up_order(units))
    declared = {key: units[key].declare(ctx) for key in order}
    secrets = sorted({s.name for calls in declared.values() for c in calls for s in _secrets(c.params)})
    build: list[str] = []
    files: dict[str, bytes] = {}
    captured: set[Ref] = set()
    for key in order:
        build += _steps(units[key], declared[key], ctx, captured)
        for call in declared[key]:
            files.update(blob_files(call))
    cleanup = _cleanup(ctx, units, declared)
    return "\n".join(
        [
            _header(ctx, secrets),
            "build() {",
            *_indent(_unpack(files) + build),
            '  echo "Built the stack; delete it with: bash $0 delete" >&2',
            "}",
            "",
            "delete() {",
            *_indent(cleanup),
            '  echo "Deleted the stack." >&2',
            "}",
            "",
            'case "${1:-build}" in',
            "  build) ask_passwords; build ;;",
            "  delete) delete ;;",
            '  *) echo "usage: bash $0 [build|delete]" >&2; exit 2 ;;',
            "esac",
            "",
        ]
    )


HEADER = """\
#!/usr/bin/env bash
# authdemo stack @STACK@ (@PROFILE@) in @REGION@, as aws-cli commands:
# one `aws` command per call `authdemo up` makes, in its order, each ID kept in a variable
# for the next (authdemo export --format aws-cli).
#   bash <this file>          build the stack (safe to rerun from the top after a failure:
#                             each step first looks for its resource, and reuses it)
#   bash <this file> delete   delete it, in the order `authdemo down` does
# Needs bash, base64 and the aws CLI (v1 or v2) with credentials for the account (an endpoint
# too, e.g. `eval "$(authdemo local env)"`). Passwords: $AUTHDEMO_PASSWORD (and
# $AUTHDEMO_STUDENT_PASSWORD), else asked for; never written anywhere.
set -euo pipefail
export AWS_PAGER=""
# The stack's region (the domain prefix is made for it): export again with --region for another.
export AWS_REGION=@QREGION@ AWS_DEFAULT_REGION=@QREGION@
AWS_PARTITION=@PARTITION@
AWS_DNS_SUFFIX=@DNS_SUFFIX@

step() { printf '==> %s\\n' "$*" >&2; }
# What a look-up printed when it found nothing (the text output of null is "None").
missing() { [ -z "$1" ] || [ "$1" = None ]; }
# A look-up's first line that is not "None" (--output text applies --query to each page).
first() { awk '$0 != "None" && $0 != "" && !done { print; done = 1 }'; }
# ask VAR PROMPT: the variable's value, else typed in (not shown).
ask() {
  if [ -z "${!1:-}" ]; then
    read -rsp "$2: " "$1" || { echo "Set $1 (or run this in a terminal)." >&2; exit 2; }
    echo >&2
  fi
}
ask_passwords() {
@ASKS@
}
# retry N CMD...: CMD until it succeeds, N times at most, 2 s apart (a pool whose domain is still
# being deleted cannot be deleted yet).
retry() {
  local n="$1" i=1
  shift
  until "$@"; do
    if [ "$i" -ge "$n" ]; then return 1; fi
    i=$((i + 1))
    sleep 2
  done
}
# Lambda refuses a role IAM has not propagated yet: retry, as `authdemo up` does.
until_role_ready() {
  local out err attempt=0
  err="$(mktemp)"
  while true; do
    if out="$("$@" 2>"$err")"; then rm -f "$err"; printf '%s\\n' "$out"; return 0; fi
    attempt=$((attempt + 1))
    case "$(tr '[:upper:]' '[:lower:]' <"$err")" in
      @NOT_READY@)
        if [ "$attempt" -ge @ATTEMPTS@ ]; then cat "$err" >&2; rm -f "$err"; return 1; fi
        echo "    the role is not assumable yet, retry $attempt" >&2
        sleep @SLEEP@ ;;
      *) cat "$err" >&2; rm -f "$err"; return 1 ;;
    esac
  done
}
"""


def _header(ctx: Context, secrets: list[str]) -> str:
    profile = f"JWT authorizer for {ctx.issuer}" if ctx.issuer else "Cognito"
    profile += ", HTTP and REST APIs" if ctx.rest and not ctx.issuer else ", HTTP API"
    asks = [
        f"  ask {SECRET_VARIABLES[name]} {shlex.quote('Password of ' + _user(ctx, name))}" for name in secrets
    ]
    values = {
        "@STACK@": ctx.names.stack,
        "@PROFILE@": profile,
        "@REGION@": ctx.region,
        "@QREGION@": shlex.quote(ctx.region),
        "@PARTITION@": shlex.quote(ctx.partition),
        "@DNS_SUFFIX@": shlex.quote(ctx.dns_suffix),
        "@ASKS@": "\n".join(asks) or "  :",
        "@NOT_READY@": "|".join(f"*{shlex.quote(m)}*" for m in ROLE_NOT_READY),
        "@ATTEMPTS@": str(int(ROLE_WAIT_SECONDS / ROLE_RETRY_SECONDS)),
        "@SLEEP@": str(ROLE_RETRY_SECONDS),
    }
    text = HEADER
    for token, value in values.items():
        text = text.replace(token, value)
    return text + 'AWS_ACCOUNT_ID="$(aws sts get-caller-identity --query Account --output text)"\n'


def _user(ctx: Context, secret: str) -> str:
    return ctx.names.student if secret == "student_password" else ctx.username


def _secrets(value: object) -> Iterable[Secret]:
    if isinstance(value, Secret):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _secrets(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _secrets(item)


def _aws(call: Call) -> str:
    return command(call, names=default_name, secret=secret_variable)


def _steps(unit: Unit, calls: list[Call], ctx: Context, captured: set[Ref]) -> list[str]:
    """One unit's lines: its creating call (looked for first), then the calls that complete it."""
    lines = ["", f"step {shlex.quote(unit.label)}"]
    for i, call in enumerate(calls):
        missing = [r for r in refs(call.params) if r not in captured]
        if missing:
            raise ValueError(f"{unit.key}: {call.operation} needs {missing}, captured by no earlier step")
        if call.note:
            lines.append(f"# {call.operation}: {call.note}")
        found = find(call, ctx.names.stack) if i == 0 else None
        make = _aws(call)
        if isinstance(unit, Function) and i == 0:
            make = f"until_role_ready {make}"
        if found is None:
            lines.append(f"{make} >/dev/null")
            continue
        fields = [f for f in call.returns if f in found.fields]
        variables = [default_name(Ref(unit.key, f)) for f in fields]
        look = f'found="$({_look(found, fields)})"'
        if unit.parent:  # inside a container made by this run: nothing to look for (as `up` does)
            lines += ['found=""', f'[ -n "${{{_new(unit.parent)}:-}}" ] || {look}']
        else:
            lines.append(look)
        made = f" --query {_select([call.returns[f] for f in fields])} --output text" if fields else ""
        lines += [
            'if missing "$found"; then',
            f'  found="$({make}{made})"' if fields else f"  {make} >/dev/null",
            *([f"  {_new(unit.key)}=1"] if unit.parent is None else []),
            "fi",
        ]
        if variables:
            lines.append(f'read -r {" ".join(variables)} <<<"$found"')
        captured.update(Ref(unit.key, f) for f in fields)
    if isinstance(unit, Function):
        lines.append(
            f'aws lambda wait function-active-v2 --function-name "${default_name(Ref(unit.key, "name"))}"'
        )
    return lines


def _new(key: str) -> str:
    """The variable set when this run made the resource (its children need no look-up)."""
    return f"NEW_{key.upper()}"


def _select(paths: list[str]) -> str:
    return shlex.quote(paths[0] if len(paths) == 1 else "[" + ", ".join(paths) + "]")


def _look(found: Find, fields: list[str]) -> str:
    """The look-up, its answer's first line that is not "None": with `--output text` the aws CLI
    applies --query to each page (docs/aws-notes.md), so a list of several pages prints a line
    per page. A failed look-up (a resource not there) prints nothing."""
    read = f"{_aws(found.call)} --query {_query(found, fields)} --output text"
    return f"{{ {read} 2>/dev/null || true; }} | first"


def _query(found: Find, fields: list[str]) -> str:
    """The look-up's --query: the first item `where` selects, its fields (or `present`)."""
    paths = [found.fields[f] for f in fields] or [found.present]
    tail = f" | [0].{paths[0]}" if len(paths) == 1 else f" | [0].[{', '.join(paths)}]"
    return _double_quoted([*found.where, tail])


def _double_quoted(parts: Iterable[str | Ref]) -> str:
    """One double-quoted shell word: text escaped, each Ref as its variable."""
    out = []
    for part in parts:
        if isinstance(part, Ref):
            out.append("${" + default_name(part) + "}")
        else:
            out.append("".join("\\" + c if c in '"$`\\' else c for c in part))
    return '"' + "".join(out) + '"'


class _Raw(str):
    """A line kept at column 0 (a here-document's)."""


def _unpack(files: dict[str, bytes]) -> list[str]:
    """The functions' code, written to a working directory the commands run in (`fileb://`)."""
    lines = ['work="$(mktemp -d)"', "trap 'rm -rf \"$work\"' EXIT", 'cd "$work"']
    for name, blob in sorted(files.items()):
        encoded = base64.b64encode(blob).decode()
        lines += [
            f"base64 -d >{shlex.quote(name)} <<'ZIP'",
            *map(_Raw, textwrap.wrap(encoded, 76)),
            _Raw("ZIP"),
        ]
    return lines


def _cleanup(ctx: Context, units: dict[str, Unit], declared: dict[str, list[Call]]) -> list[str]:
    """Each top-level resource, found as the build finds it, deleted with its children."""
    every = planner.units_by_key()
    lines: list[str] = []
    for key in planner._topological(planner.down_order(units)):
        if key not in declared:
            continue
        call = declared[key][0]
        kids = planner.children(units, key)
        names = {
            "key": key,
            "policies": [
                declared[k][0].params["PolicyName"]
                for k in kids
                if declared[k][0].operation == "PutRolePolicy"
            ],
            "domains": [
                declared[k][0].params["Domain"]
                for k in kids
                if declared[k][0].operation == "CreateUserPoolDomain"
            ],
        }
        found = find(call, ctx.names.stack)
        assert found is not None, key
        fields = [f for f in call.returns if f in found.fields][:1] or []
        variable = default_name(Ref(key, fields[0])) if fields else "found"
        look = _look(found, fields)
        lines += [
            "",
            f"step {shlex.quote('delete ' + every[key].label)}",
            f'{variable}="$({look})"',
        ]
        lines.append(f'if ! missing "${variable}"; then')
        for delete in deletes(call, names):
            quiet = (
                delete.operation.startswith("DeleteRolePolicy") or delete.operation == "DeleteUserPoolDomain"
            )
            retried = "retry 30 " if delete.operation == "DeleteUserPool" else ""
            lines.append(f"  {retried}{_aws(delete)}" + (" 2>/dev/null || true" if quiet else ""))
        lines.append("fi")
    return lines


def _indent(lines: list[str]) -> list[str]:
    return [f"  {line}" if line and not isinstance(line, _Raw) else line for line in lines]
