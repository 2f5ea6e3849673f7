"""A small YAML writer for the exported templates (the project does not depend on PyYAML).

Block style throughout; a string is written plain only when YAML reads it back as that same
string (anything else is JSON-quoted: JSON's strings are YAML's double-quoted scalars); source
code as a literal block. Intrinsic functions stay in their long form (`Ref:`, `Fn::GetAtt:`),
which every CloudFormation tool reads.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

_PLAIN = re.compile(r"^[A-Za-z_/$][A-Za-z0-9_ ./:@$*{}()+=-]*$")
_SPECIAL = re.compile(
    r"^(y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|"
    r"null|Null|NULL|~)$"
)


def scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    text = str(value)
    plain = (
        _PLAIN.match(text)
        and not _SPECIAL.match(text)
        and not text.endswith((" ", ":"))
        and ": " not in text
        and " #" not in text
        and not text.startswith(("{", "*"))
    )
    return text if plain else json.dumps(text)


def _key(key: str) -> str:
    return scalar(key)


def _block(text: str, indent: str) -> str:
    """A literal block (`|`): the text exactly, its final newline(s) kept by the chomping sign."""
    stripped = text.rstrip("\n")
    trailing = len(text) - len(stripped)
    chomp = "-" if trailing == 0 else ("" if trailing == 1 else "+")
    lines = text.split("\n")
    if trailing:
        lines = lines[:-1]
    body = "\n".join(f"{indent}{line}" if line else "" for line in lines)
    return f"|{chomp}\n{body}"


def _emit(value: Any, indent: str, out: list[str], key_prefix: str) -> None:
    """`key_prefix` is what precedes the value on its line ("Key:" or "-")."""
    if isinstance(value, Mapping) and value:
        if key_prefix:
            out.append(key_prefix)
        for k, v in value.items():
            _emit(v, indent + "  ", out, f"{indent}{_key(str(k))}:")
    elif isinstance(value, (list, tuple)) and value:
        if key_prefix:
            out.append(key_prefix)
        for item in value:
            if isinstance(item, Mapping) and item:
                first = True
                for k, v in item.items():
                    prefix = f"{indent}- " if first else f"{indent}  "
                    first = False
                    _emit(v, indent + "    ", out, f"{prefix}{_key(str(k))}:")
            else:
                _emit(item, indent + "  ", out, f"{indent}-")
    else:
        if isinstance(value, Mapping):
            text = "{}"
        elif isinstance(value, (list, tuple)):
            text = "[]"
        elif isinstance(value, str) and "\n" in value and not value.startswith((" ", "\t")):
            text = _block(value, indent)
        else:
            text = scalar(value)
        out.append(f"{key_prefix} {text}" if key_prefix else text)


def dump(document: Mapping[str, Any], header: str = "") -> str:
    """The document as YAML, after `header` (comment lines, each starting with '#')."""
    out: list[str] = [header.rstrip("\n")] if header else []
    for k, v in document.items():
        _emit(v, "  ", out, f"{_key(str(k))}:")
    return "\n".join(out) + "\n"
