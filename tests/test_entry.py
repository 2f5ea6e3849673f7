"""Issue 19, section 5, item 1 (and the "never a traceback" rule): a Ctrl-C while Python is still
importing the CLI ends in one sentence and exit 130, as every later interruption does."""

from __future__ import annotations

import importlib.abc
import sys
from typing import Any

import pytest

from authdemo import entry
from authdemo.errors import ExitCode


class _InterruptedImport(importlib.abc.MetaPathFinder):
    """Ctrl-C arriving while `authdemo.cli` is being imported (the first ~60 ms of a command)."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> None:
        if name == "authdemo.cli":
            raise KeyboardInterrupt
        return None


def test_ctrl_c_while_the_cli_is_imported_is_one_sentence_and_exit_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No traceback: the sentence says nothing was done, and the exit code is the interruption's."""
    for name in [n for n in sys.modules if n == "authdemo.cli" or n.startswith("authdemo.cli.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [_InterruptedImport(), *sys.meta_path])
    with pytest.raises(SystemExit) as exited:
        entry.main(["--help"])
    assert exited.value.code == ExitCode.INTERRUPTED == entry.INTERRUPTED
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nothing was done" in err and "Traceback" not in err


def test_every_way_in_goes_through_the_guarded_entry() -> None:
    """The console script, `python -m authdemo` and the guide's two scripts all start at entry.main."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    scripts = (root / "pyproject.toml").read_text().split("[project.scripts]\n")[1].split("\n\n")[0]
    assert scripts == 'authdemo = "authdemo.entry:main"'
    for path in ("authdemo/__main__.py", "jwt_authorizer_demo.py", "jwt_authorizer_cleanup.py"):
        source = (root / path).read_text()
        assert "from .entry import main" in source or "from authdemo.entry import main" in source, path
