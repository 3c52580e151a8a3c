"""ruff and mypy over the code, with the project's configuration (pyproject.toml), and proof each can fail.

The static stage runs them before anything live. Each check fails with the tool's own output;
each has a "teeth" test: a throwaway module with a known fault that the tool must report, so a
green run means the tool looked (a wrong path or an empty file list would also exit 0).
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from skips import skip_or_fail

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "pyproject.toml"


def _run(tool: str, *args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """`python -m tool args...` with this interpreter (the venv's ruff and mypy, from the [test] extra)."""
    if importlib.util.find_spec(tool) is None:
        skip_or_fail(f"{tool} is not installed (`make deps` installs the [test] extra)")
    return subprocess.run([sys.executable, "-m", tool, *args], capture_output=True, text=True, timeout=600,
                          cwd=cwd)


def _output(proc: subprocess.CompletedProcess[str]) -> str:
    return f"{' '.join(proc.args[1:])}: exit {proc.returncode}\n{proc.stdout}{proc.stderr}"


def test_ruff_passes():
    """ruff over chaoslib and tests; no cache, so a checkout the user cannot write to is checked too."""
    proc = _run("ruff", "check", "--no-cache", "--config", str(CONFIG), "chaoslib", "tests")
    if proc.returncode != 0:
        pytest.fail(_output(proc), pytrace=False)


def test_mypy_passes(background):
    """mypy over chaoslib (the `files` of [tool.mypy]): strict on the game, the families and the contract.
    Run by the static stage's `background` fixture (started with the stage, without a cache: nothing lands in
    the checkout, issue #26)."""
    if importlib.util.find_spec("mypy") is None:
        skip_or_fail("mypy is not installed (`make deps` installs the [test] extra)")
    code, out = background.result("mypy")
    if code != 0 or "Success: no issues found" not in out:
        pytest.fail(f"mypy: exit {code}\n{out}", pytrace=False)


def test_ruff_flags_an_unused_import(tmp_path):
    module = tmp_path / "teeth.py"
    module.write_text('"""A module that imports what it never uses."""\nimport os\n')
    proc = _run("ruff", "check", "--no-cache", "--config", str(CONFIG), str(module), cwd=tmp_path)
    assert proc.returncode == 1, _output(proc)
    assert "F401" in proc.stdout and "teeth.py" in proc.stdout, _output(proc)


def _package(root: Path, dotted: str, source: str) -> Path:
    """Write module `dotted` (a.b.c) under root, with an __init__.py in each package on the way."""
    *packages, name = dotted.split(".")
    folder = root.joinpath(*packages)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(1, len(packages) + 1):
        root.joinpath(*packages[:i], "__init__.py").touch()
    path = folder / f"{name}.py"
    path.write_text(source)
    return path


def test_mypy_flags_a_wrong_type_and_is_strict_where_configured(tmp_path):
    """In chaoslib/game/ (strict) an unannotated function is an error as well as a wrong type; in
    chaoslib/cli/ (check_untyped_defs only) the wrong type inside an unannotated function still is,
    the missing annotation is not."""
    source = ('"""A module with a wrong type."""\n\n\ndef half(n):\n    count: int = "two"\n    return count\n')
    strict = _package(tmp_path, "chaoslib.game.teeth", source)
    loose = _package(tmp_path, "chaoslib.cli.teeth", source)
    proc = _run("mypy", "--config-file", str(CONFIG), "--cache-dir", str(tmp_path / ".mypy_cache"),
                str(strict.relative_to(tmp_path)), str(loose.relative_to(tmp_path)), cwd=tmp_path)
    assert proc.returncode == 1, _output(proc)
    lines = proc.stdout.splitlines()

    def codes(path: str) -> set[str]:
        return {line.rsplit("[", 1)[-1].rstrip("]") for line in lines if line.startswith(path) and "error:" in line}

    assert codes("chaoslib/game/teeth.py") == {"no-untyped-def", "assignment"}, _output(proc)
    assert codes("chaoslib/cli/teeth.py") == {"assignment"}, _output(proc)
