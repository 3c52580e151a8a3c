"""The shape of chaoslib: layers that only import downwards, small modules, no private name used across modules."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "chaoslib"

#: Layers, lowest first. A module is in the layer of the longest prefix that names it; it may
#: import only from its own layer or lower ones (function-level imports count too).
LAYERS = [
    ("foundation", ["chaoslib.errors", "chaoslib.config", "chaoslib.progress", "chaoslib.guard", "chaoslib.render",
                    "chaoslib.dockerconf", "chaoslib.observe.elastic", "chaoslib.observe.logs",
                    "chaoslib.observe.promrules"]),
    ("kernel", ["chaoslib.kernel"]),
    ("native", ["chaoslib.native"]),
    ("services", ["chaoslib.services"]),
    ("contract", ["chaoslib.backends.base"]),
    ("records", ["chaoslib.engine.registry", "chaoslib.engine.detached"]),
    ("backends", ["chaoslib.backends"]),
    ("stack", ["chaoslib.stack"]),
    ("observe", ["chaoslib.observe"]),
    ("faults", ["chaoslib.faults"]),
    ("engine", ["chaoslib.engine"]),
    ("game", ["chaoslib.game"]),
    ("bench", ["chaoslib.bench"]),
    ("cli", ["chaoslib.cli"]),
    ("package", ["chaoslib"]),
]
#: The core modules every backend package has (the contract's areas), so a reader finds
#: "how does docker do disks" in docker/disks.py and "how does local" in local/disks.py.
CORE_MODULES = {"lifecycle", "network", "disks", "limits", "logs"}
#: Modules allowed over MAX_LINES, and why.
LONG_MODULES: dict[str, str] = {}
MAX_LINES = 300


def modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def layer(module: str) -> int:
    best, rank = -1, 0
    for i, (_name, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and len(p) > best:
                best, rank = len(p), i
    return rank


def imports(module: str, path: Path) -> set[str]:
    """Every chaoslib module `module` imports (resolving relative imports)."""
    is_package = path.name == "__init__.py"
    base = module.split(".") if is_package else module.split(".")[:-1]
    found = set()
    known = modules()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("chaoslib")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                root = base[:len(base) - node.level + 1]
                target = ".".join(root + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("chaoslib"):
                continue
            for a in node.names:  # `from . import x` imports the module x when there is one
                found.add(f"{target}.{a.name}" if f"{target}.{a.name}" in known else target)
    return found


def test_no_module_imports_from_a_higher_layer():
    wrong = []
    for module, path in modules().items():
        for imported in imports(module, path):
            if layer(imported) > layer(module):
                wrong.append(f"{module} ({LAYERS[layer(module)][0]}) imports {imported} "
                             f"({LAYERS[layer(imported)][0]})")
    assert wrong == []


def test_no_backend_imports_another():
    wrong = []
    for module, path in modules().items():
        own = re.match(r"chaoslib\.backends\.(\w+)", module)
        if not own or own.group(1) == "base":
            continue
        for imported in imports(module, path):
            other = re.match(r"chaoslib\.backends\.(\w+)", imported)
            if other and other.group(1) not in ("base", own.group(1)):
                wrong.append(f"{module} imports {imported}")
    assert wrong == []


def backend_packages() -> list[Path]:
    return sorted(p for p in (PACKAGE / "backends").iterdir() if (p / "__init__.py").exists())


@pytest.mark.parametrize("package", backend_packages(), ids=lambda p: p.name)
def test_every_backend_package_has_the_core_modules(package):
    assert CORE_MODULES <= {p.stem for p in package.glob("*.py")}


def test_no_module_is_long():
    long = {str(p.relative_to(PACKAGE.parent)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert {k: v for k, v in long.items() if k not in LONG_MODULES} == {}


def test_every_module_says_what_it_is_for():
    missing = [m for m, p in modules().items() if not ast.get_docstring(ast.parse(p.read_text()))]
    assert missing == []


#: `name._private` where `name` is not self/cls: a private name used outside its own module.
PRIVATE = re.compile(r"(?<![\w.])(?!self\.|cls\.)([a-z_][a-z0-9_]*)\._[a-z]\w*")


def test_no_private_name_is_used_outside_its_module():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for n, line in enumerate(path.read_text().splitlines(), start=1):
            code = line.split("#", 1)[0]
            if PRIVATE.search(code):
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{n}: {line.strip()}")
    assert wrong == []
