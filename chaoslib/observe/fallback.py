"""The `or <series> * 0` fallbacks of the panels' PromQL, recognised so their zeros never pass for data.

Error counters exist only once a first error was counted, so the error panels (and the
recording rules they read, stack/prometheus/rules/recording.yml) end in `or <series> * 0`:
an idle error panel draws a zero line instead of nothing. That zero line is synthetic: it
would be drawn just the same for a misspelt metric. `real(expr)` is the query without its
fallbacks (recording rules that carry one expanded into their own left side), so a panel's
series can be told apart: those the real side also returns are data, the rest are zeros
made up by the fallback.
"""
from __future__ import annotations

import functools
import re

import yaml

from chaoslib.config import REPO_ROOT

RULES_FILE = REPO_ROOT / "stack" / "prometheus" / "rules" / "recording.yml"
#: ` or <name>{...} * 0` closing a parenthesis or the whole query (`or` binds loosest, `*` tighter).
_FALLBACK = re.compile(r"\s+or\s+[A-Za-z_:][\w:]*(?:\{[^}]*\})?\s*\*\s*0(?=\s*(?:\)|$))")
_NAME = re.compile(r"(?<![\w:.\"'])[A-Za-z_:][\w:]*(?![\w:])")
#: What a name in PromQL can be besides a series: keywords, functions (followed by `(`) and label lists.
_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool",
             "offset", "inf", "nan"}
_NOT_SERIES = re.compile(r"\{[^}]*\}|\[[^\]]*\]|\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)"
                         r"|\"[^\"]*\"|'[^']*'")


@functools.cache
def rules() -> dict[str, str]:
    """The recording rules: record name -> its expression."""
    groups = yaml.safe_load(RULES_FILE.read_text())["groups"]
    return {r["record"]: r["expr"].strip() for g in groups for r in g["rules"] if "record" in r}


def _strip(expr: str) -> str:
    return _FALLBACK.sub("", expr).strip()


@functools.cache
def real(expr: str) -> str:
    """`expr` without its `or ... * 0` fallbacks, those of the recording rules it reads included."""
    out = expr.strip()
    for name, rule in rules().items():
        word = re.compile(rf"(?<![\w:]){re.escape(name)}(?![\w:])")
        if not word.search(out):
            continue
        expanded = real(rule)  # a rule reads only rules recorded before it: no cycle
        if expanded != rule:
            out = word.sub(f"({expanded})".replace("\\", "\\\\"), out)
    return _strip(out)


def has_fallback(expr: str) -> bool:
    """True when some of `expr`'s series can be zeros made up by a fallback."""
    return real(expr) != expr.strip()


def series_names(expr: str) -> set[str]:
    """The metric and recording-rule names a query reads (not its functions, keywords or labels)."""
    text = _NOT_SERIES.sub(" ", expr)
    return {m.group(0) for m in _NAME.finditer(text)
            if m.group(0).lower() not in _KEYWORDS and not re.match(r"\s*\(", text[m.end():])}
