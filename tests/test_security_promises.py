"""The table of security promises (docs/security-promises.md) against the tests it names: a
reviewer checks each promise by its tests, so a renamed or removed test must fail here rather
than leave a promise guarded by nothing. Tests are found with `ast` (collecting is too slow)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from authdemo import oidc
from authdemo.local import connections, execute_api, issuer, router, runtime
from authdemo.local.cognito_login import endpoints

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "docs" / "security-promises.md"
NAMED = re.compile(r"(tests/[\w/]+\.py)::([\w:]+)")


def rows() -> list[str]:
    """The table's rows of promises (not the header or separator lines)."""
    lines = TABLE.read_text(encoding="utf-8").splitlines()
    return [
        line
        for line in lines
        if line.startswith("|") and not line.startswith("| Promise") and not line.startswith("| ---")
    ]


def defined_tests(path: Path) -> set[str]:
    """`name` for each module-level test, `Class::name` for each test in a class."""
    found: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            found.add(node.name)
        elif isinstance(node, ast.ClassDef):
            found.update(
                f"{node.name}::{item.name}"
                for item in node.body
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name.startswith("test")
            )
    return found


def test_every_promise_names_a_test() -> None:
    """Each row of the table names at least one test: no promise stands untested."""
    assert len(rows()) >= 30  # the table was read, not an empty file
    bare = [row for row in rows() if not NAMED.search(row)]
    assert not bare, bare


def test_every_test_the_table_names_exists() -> None:
    """Every `file::name` in the table is a test defined in that file (by ast, not by collecting)."""
    known: dict[str, set[str]] = {}
    missing = []
    for row in rows():
        for file, name in NAMED.findall(row):
            path = ROOT / file
            if file not in known:
                known[file] = defined_tests(path) if path.is_file() else set()
            if name not in known[file]:
                missing.append(f"{file}::{name}")
    assert known and not missing, missing


def test_the_readme_figures_are_the_codes() -> None:
    """The figures the README's security section states are the ones the code uses (the
    behaviours are tested with short limits; this keeps the stated defaults honest)."""
    defaults = connections.Limits()
    assert (defaults.header_timeout, defaults.body_timeout, defaults.max_connections) == (20.0, 60.0, 64)
    assert endpoints.MAX_FORM_BYTES == issuer.MAX_TOKEN_REQUEST == 64 * 1024  # managed login, the issuer
    assert router.MAX_PUBLIC_BODY == 1024 * 1024  # an unsigned Cognito call
    assert execute_api.MAX_BODY_BYTES == 10 * 1024 * 1024  # an API
    assert router.MAX_CONTROL_BODY == 100 * 1024 * 1024  # a signed call
    assert runtime.DEFAULT_CONCURRENCY == 10 and runtime.IDLE_SECONDS == 5 * 60
    assert oidc.TIMEOUT_SECONDS == 1.5 and oidc.MAX_JWKS_BYTES == 150_000
