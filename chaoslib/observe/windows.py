"""PromQL whose windows never reach before a cut: a game's views hold nothing of the game before.

A windowed function (`rate(x[1m])`, `increase(x[5m])`, `changes(...)`, `*_over_time`) answers at
time t from the samples of (t - W, t]. A game's views begin at its cut (`GameState.view_from`),
but for the first W after it a panel such as "OOM kills over 5 min" would still count the
previous game's kills. `since(expr, cut)` rewrites every windowed call, in the query and in the
recording rules it reads, to see only the samples at or after the cut: a count becomes "since the
cut" and a rate is divided by the time since the cut. Once t - W is past the cut, the query is
the original one, so a panel then shows exactly what the alerts evaluate.
"""
from __future__ import annotations

import functools
import re

from chaoslib.observe import fallback

#: `func(selector[W])`: the windowed calls the stack's queries use (a selector's labels may hold `[`).
_CALL = re.compile(r"\b(rate|increase|changes|delta|resets|\w+_over_time)\(\s*"
                   r"([A-Za-z_:][\w:]*(?:\{[^}]*\})?)\s*\[(\d+)([smhd])\]\s*\)")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}
#: The subquery's resolution: the fastest scrape and rule evaluation interval (stack/prometheus).
RESOLUTION_S = 2


def _seconds(number: str, unit: str) -> int:
    return int(number) * _UNIT[unit]


@functools.cache
def expanded(expr: str) -> str:
    """`expr` with every recording rule that holds a window replaced by its expression (recursively)."""
    out = expr.strip()
    for name, rule in fallback.rules().items():
        word = re.compile(rf"(?<![\w:]){re.escape(name)}(?![\w:])")
        if word.search(out) and lookback(rule):
            out = word.sub(f"({expanded(rule)})".replace("\\", "\\\\"), out)
    return out


@functools.cache
def lookback(expr: str) -> int:
    """The longest window, in seconds, that `expr` reads (through the recording rules it names); 0 for none."""
    own = [_seconds(m.group(3), m.group(4)) for m in _CALL.finditer(expr)]
    rules = [lookback(rule) for name, rule in fallback.rules().items()
             if re.search(rf"(?<![\w:]){re.escape(name)}(?![\w:])", expr)]
    return max([0, *own, *rules])


def _cut_call(match: re.Match[str], cut: float) -> str:
    func, selector, window = match.group(1), match.group(2), _seconds(match.group(3), match.group(4))
    seen = f"({selector} and on() (vector(time()) >= {cut:.3f}))[{window}s:{RESOLUTION_S}s]"
    if func == "rate":  # the increase since the cut, over the time since the cut (at most the window)
        return f"(increase({seen}) / scalar(clamp(vector(time() - {cut:.3f}), {RESOLUTION_S}, {window})))"
    return f"{func}({seen})"


def since(expr: str, cut: float) -> str:
    """`expr` seeing no sample before `cut` (a Unix time); unchanged when it has no window."""
    reach = lookback(expr)
    if not reach:
        return expr
    rewritten = _CALL.sub(lambda m: _cut_call(m, cut), expanded(expr))
    edge = cut + reach
    return (f"(({rewritten}) and on() (vector(time()) < {edge:.3f}))"
            f" or (({expr}) and on() (vector(time()) >= {edge:.3f}))")
