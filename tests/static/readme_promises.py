"""What counts as a README promise, found by machine, and the docs/testing.md table that maps each to its test.

A promise is any of three things the README shows, so nothing needs marking by hand:

- a command: every `make TARGET` and `chaosctl SUB` (`chaosctl bench NAME`), each with every `--flag`
  shown beside it, in code blocks and inline code ("chaosctl down --purge");
- a bold claim: the text of every `**...**` ("Six replicas play well");
- a figure: every number with a unit (%, ms, s, min, minutes, MiB, GiB, GB, cores, points, requests/s),
  outside code ("250 ms", "60-80 %").

A row of the table covers the commands shown in code in its promise cell, and the bold claims and
figures its promise cell quotes. A row may instead name a whole section as `§ Heading` when its test
cell names the bench that measured that section's figures (a `docs/bench-*.txt`): it then covers the
section's figures and bold claims, never its commands.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TABLE_HEADING = "## Each README promise and its test"

_CODE_BLOCK = re.compile(r"(?ms)^```.*?^```|^(?: {4}|\t)[^\n]*$")
_COMMAND = re.compile(r"\b(make|chaosctl)\s+([a-z][\w-]*)((?:\s+[a-z][\w-]*)?)")
_FLAG = re.compile(r"(?<![\w-])(--[a-z][\w-]*)")
_NUMBER = r"\d[\d,]*(?:\.\d+)?(?:-\d[\d,]*(?:\.\d+)?)?"
_UNIT = r"%|ms|s|min|minutes|minute|MiB|GiB|GB|cores|points|requests/s"
_FIGURE = re.compile(rf"(?<![\w.,-])({_NUMBER})\s?({_UNIT})(?![\w/])")
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.S)
_NODE = re.compile(r"^tests/[\w/]+\.py(::\w+(\[[^\]]*\])?)*$")


@dataclass(frozen=True)
class Row:
    """One row of the table: what it promises, what tests it, and the line it is on."""

    promise: str
    tests: str
    line: int


def _squash(text: str) -> str:
    return " ".join(text.replace("`", "").split())


def _code_spans(text: str) -> list[str]:
    return [m.group(0) for m in _CODE_BLOCK.finditer(text)] + re.findall(r"`([^`\n]+)`", text)


def commands(text: str) -> set[str]:
    """Every command shown in code, and each flag shown with it: {"chaosctl down", "chaosctl down --purge"}."""
    keys: set[str] = set()
    for span in _code_spans(text):
        for line in span.splitlines():
            line = re.split(r"\s#", line)[0]  # a shell comment says what the command does: no flags of its own
            found = list(_COMMAND.finditer(line))
            for i, m in enumerate(found):
                sub = m.group(2) + (m.group(3) if m.group(1) == "chaosctl" and m.group(2) == "bench" else "")
                name = f"{m.group(1)} {_squash(sub)}"
                keys.add(name)
                end = found[i + 1].start() if i + 1 < len(found) else len(line)
                keys |= {f"{name} {flag}" for flag in _FLAG.findall(line[m.end():end])}
    return keys


def _prose(text: str) -> str:
    """The text without code blocks and inline code spans' backticks (their words stay)."""
    return _CODE_BLOCK.sub(" ", text)


def bold_claims(text: str) -> set[str]:
    """The text of every bold phrase, squashed, without its closing punctuation."""
    return {_squash(m.group(1)).rstrip(".,:;") for m in _BOLD.finditer(_prose(text))}


def figures(text: str) -> set[str]:
    """Every number with a unit outside code, as "N unit"."""
    return {f"{m.group(1)} {m.group(2)}" for m in _FIGURE.finditer(_prose(text))}


def sections(text: str) -> dict[str, str]:
    """The README's sections by heading (## and ###), each up to the next heading."""
    parts = re.split(r"(?m)^#{2,3} (.+)$", text)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def promises(text: str) -> set[str]:
    """Every promise of a README, each a key a row must cover."""
    return ({f"command: {c}" for c in commands(text)} | {f"bold: {b}" for b in bold_claims(text)}
            | {f"figure: {f}" for f in figures(text)})


def _cells(line: str) -> list[str]:
    """A markdown table line's cells; a `|` inside backticks stays in its cell."""
    cells, cell, code = [], "", False
    for ch in line.strip().strip("|"):
        if ch == "`":
            code = not code
        if ch == "|" and not code:
            cells.append(cell.strip())
            cell = ""
        else:
            cell += ch
    return [*cells, cell.strip()]


def table(text: str) -> list[Row]:
    """The rows of docs/testing.md's README-promise table (header and rule left out)."""
    lines = text.splitlines()
    start = lines.index(TABLE_HEADING)
    rows = []
    for number, line in enumerate(lines[start + 1:], start + 2):
        if line.startswith("#"):
            break
        if line.startswith("|") and not line.startswith(("| README promise", "| ---")):
            promise, tests = _cells(line)[:2]
            rows.append(Row(promise, tests, number))
    return rows


def _quotes(cell: str, key: str) -> bool:
    return re.search(rf"(?<![\w.,-]){re.escape(key)}(?![\w/])", _squash(cell), re.I) is not None


def covered(readme: str, rows: list[Row]) -> set[str]:
    """The promise keys the rows cover (see the module docstring for the rules)."""
    keys: set[str] = set()
    sect = sections(readme)
    for row in rows:
        keys |= {f"command: {c}" for c in commands(row.promise)}
        for heading in sect:
            if f"§ {heading}" in row.promise and re.search(r"docs/bench-[\w-]+\.txt", row.tests):
                keys |= {f"bold: {b}" for b in bold_claims(sect[heading])}
                keys |= {f"figure: {f}" for f in figures(sect[heading])}
        text = row.promise
        keys |= {f"bold: {b}" for b in bold_claims(readme) if _quotes(text, b)}
        keys |= {f"figure: {f}" for f in figures(readme) if _quotes(text, f)}
    return keys


def unmapped(readme: str, rows: list[Row]) -> list[str]:
    """README promises no row covers, sorted."""
    return sorted(promises(readme) - covered(readme, rows))


def _defines(tree: ast.Module, names: list[str]) -> bool:
    """Does the module define names[0] (a class or function), and in it names[1]...?"""
    body: list[ast.stmt] = tree.body
    for name in names:
        node = next((n for n in body if isinstance(n, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                     and n.name == name), None)
        if node is None:
            return False
        body = node.body if isinstance(node, ast.ClassDef) else []
    return True


def missing_tests(row: Row, repo: Path = REPO) -> list[str]:
    """What the row's test cell names that does not exist (a file, class, function, or a bench's output).

    Code spans naming `tests/...` or `docs/...` are checked; a bare `TestX` or `test_x` after a file in
    the same cell is looked up in that file; other code (a word of the explanation) is left alone.
    """
    missing, current, named = [], None, 0
    for span in re.findall(r"`([^`]+)`", row.tests):
        if span.startswith("docs/"):
            named += 1
            if not (repo / span).is_file():
                missing.append(span)
            continue
        if re.fullmatch(r"(Test\w+|test_\w+)(::\w+)*", span) and current is not None:
            span = f"{current}::{span}"
        elif not span.startswith("tests/"):
            continue
        named += 1
        if not _NODE.match(span):
            missing.append(f"{span} (not a test node id)")
            continue
        path, *names = re.sub(r"\[[^\]]*\]", "", span).split("::")
        current = path
        file = repo / path
        if path.endswith("/") or not file.is_file():
            missing.append(span)
        elif names and not _defines(ast.parse(file.read_text()), names):
            missing.append(span)
    return missing if named else [f"line {row.line}: no test named"]
