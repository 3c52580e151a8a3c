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
    # the agent protocol: the Game façade served to programs and over MCP (imports game; cli imports it)
    ("agents", ["chaoslib.agents"]),
    ("bench", ["chaoslib.bench"]),
    # other tools' formats (Chaos Toolkit): the catalogue and the SLOs, written for `chaosctl export`
    ("export", ["chaoslib.export"]),
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


def _graph() -> dict[str, set[str]]:
    mods = modules()
    return {m: {i for i in imports(m, p) if i in mods and not m.startswith(i + ".")} for m, p in mods.items()}


def test_no_import_cycle():
    """The import graph of chaoslib (function-level and TYPE_CHECKING imports included) has no cycle."""
    graph, state, cycles = _graph(), {}, []

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_the_cycle_check_sees_a_cycle():
    """Control: the same walk over a two-module circle reports it (so an empty answer means something)."""
    graph = {"a": {"b"}, "b": {"a"}, "c": set()}
    state: dict[str, str] = {}
    found = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                found.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"
    visit("a", ["a"])
    assert found == [["a", "b", "a"]]


def _environment_reads(tree: ast.AST) -> list[int]:
    """Lines that read or write the process environment (os.environ, os.getenv, os.putenv)."""
    return sorted(node.lineno for node in ast.walk(tree)
                  if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os"
                  and node.attr in ("environ", "getenv", "putenv", "environb"))


#: The modules that may read the environment: config (for everyone) and the load generator (Locust runs it alone).
ENVIRONMENT_READERS = ("chaoslib/config.py", "chaoslib/loadgen/")


def test_only_config_reads_the_environment():
    """os.environ appears in config.py (and the load generator Locust runs on its own) and nowhere else."""
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = str(path.relative_to(PACKAGE.parent))
        if rel.startswith(ENVIRONMENT_READERS):
            continue
        wrong += [f"{rel}:{n}" for n in _environment_reads(ast.parse(path.read_text()))]
    assert wrong == []


def test_the_environment_check_sees_a_read():
    """Control: a module reading os.environ or os.getenv is flagged."""
    assert _environment_reads(ast.parse("import os\nA = os.environ.get('X')\nB = os.getenv('Y')\n")) == [2, 3]


#: Imports inside functions are allowed only to defer a heavy, optional package (each with a comment
#: saying so). The count is held: a new one must be argued here.
DEFERRABLE = ("ipywidgets", "IPython", "matplotlib", "docker", "compose", "pandas", "nbformat", "nbclient",
              "chaoslib.observe.elastic", "chaoslib.engine.injector",
              # the MCP SDK (mcp, starlette, uvicorn) adds most of a second to every chaosctl: `chaosctl mcp` only
              "chaoslib.agents.server")
#: 18: each fault family's fix tab defers ipywidgets (network, disk, resources, deploy, database).
MAX_DEFERRED = 18


def function_level_imports() -> list[tuple[str, int, str, bool]]:
    """(file, line, module, commented on its line or above its run of imports) for each import in a function."""
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text()
        lines = text.splitlines()
        for fn in ast.walk(ast.parse(text)):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom):
                    names = [f"{node.module}.{a.name}" for a in node.names]
                else:
                    continue
                above = node.lineno - 2  # the comment may head a run of consecutive imports
                while above >= 0 and lines[above].strip().startswith(("import ", "from ")):
                    above -= 1
                commented = "#" in lines[node.lineno - 1] or lines[above].strip().startswith("#")
                out += [(str(path.relative_to(PACKAGE.parent)), node.lineno, name, commented) for name in names]
    return out


def test_imports_inside_functions_only_defer_heavy_packages():
    """Each import inside a function defers a heavy optional package and says so in a comment; they are counted."""
    found = function_level_imports()
    wrong = [f"{f}:{n}: {m}" for f, n, m, _ in found if not m.startswith(DEFERRABLE)]
    silent = [f"{f}:{n}: {m}" for f, n, m, commented in found if not commented]
    assert wrong == [] and silent == []
    assert len(found) <= MAX_DEFERRED, f"{len(found)} imports inside functions (at most {MAX_DEFERRED}): {found}"


def _private_calls_outside_the_lineage(package: Path) -> list[str]:
    """`self._name` in a class of `package` where `_name` is defined only by classes it does not inherit from."""
    classes: dict[str, tuple[list[str], set[str], list[tuple[int, str]], str]] = {}
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                bases = [b.id for b in node.bases if isinstance(b, ast.Name)]
                own = {f.name for f in node.body if isinstance(f, ast.FunctionDef)}
                used = [(n.lineno, n.attr) for n in ast.walk(node) if isinstance(n, ast.Attribute)
                        and isinstance(n.value, ast.Name) and n.value.id == "self"
                        and n.attr.startswith("_") and not n.attr.startswith("__")]
                classes[node.name] = (bases, own, used, path.name)

    def lineage(name: str) -> set[str]:
        bases, own, _, _ = classes.get(name, ([], set(), [], ""))
        return own.union(*(lineage(b) for b in bases if b in classes))
    defined = {m for _, own, _, _ in classes.values() for m in own}
    return [f"{file}:{line}: {name} calls {attr}" for name, (_, _, used, file) in classes.items()
            for line, attr in used if attr in defined and attr not in lineage(name)]


def test_the_local_mixins_call_only_private_methods_of_their_own_lineage():
    """A local backend mixin uses a private helper only from a class it inherits (declared), never a sibling's
    by the luck of the final class's composition (held for the local backend; issue 22)."""
    assert _private_calls_outside_the_lineage(PACKAGE / "backends" / "local") == []


def test_the_lineage_check_sees_a_sibling_call(tmp_path):
    """Control: a mixin calling a sibling mixin's private helper is reported."""
    (tmp_path / "a.py").write_text("class A:\n    def _helper(self):\n        return 1\n")
    (tmp_path / "b.py").write_text("class B:\n    def go(self):\n        return self._helper()\n")
    assert _private_calls_outside_the_lineage(tmp_path) == ["b.py:3: B calls _helper"]


def test_every_layer_names_modules_that_exist():
    """The layer list names only modules or packages that exist (a stale name would hold nothing)."""
    known = set(modules())
    stale = [p for _, prefixes in LAYERS for p in prefixes if p not in known]
    assert stale == []
