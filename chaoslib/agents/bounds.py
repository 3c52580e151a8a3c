"""How big and how slow an agent's answer may be: plain JSON-able data, cut to bounds that say they were cut.

An agent reads through a window of limited size (an LLM's context), so every table is cut to a row
cap, every series to a point cap, every text cell to a character cap; a cut answer carries
`truncated: true` and the size it had. Every call runs under a time limit, one call at a time.
"""
from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pandas as pd

from chaoslib.errors import ChaosError

T = TypeVar("T")


class CallTimedOut(ChaosError):
    """An agent's call did not answer within its time limit (the game goes on; ask again later)."""


@dataclass(frozen=True)
class Bounds:
    """The caps on every answer and call (the defaults suit an LLM's context window)."""

    #: Rows of any table: status, logs, log counts, pages, alerts, a view.
    max_rows: int = 100
    #: PromQL series in one answer (instant or range), and lines of one dashboard panel.
    max_series: int = 20
    #: Samples per series of a range query or a dashboard panel (the step grows to fit).
    max_points: int = 60
    #: Characters of one text cell (a log line, a summary).
    max_cell_chars: int = 300
    #: How far back a range query, a log search or a dashboard may look, in minutes.
    max_minutes: float = 120.0
    #: Seconds each call may take (observations, fixes, hints, finishing).
    call_timeout_s: float = 30.0
    #: Seconds a validation may take (waiting for recovery, then holding the steady state).
    validate_timeout_s: float = 300.0


def plain(value: Any) -> Any:
    """A JSON-able copy of `value` (NaN as None, tuples as lists, anything else odd as its text)."""
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, ending in an ellipsis that says it was cut."""
    return text if len(text) <= limit else text[:max(0, limit - 1)] + "…"


def table(frame: pd.DataFrame, bounds: Bounds, *, newest_last: bool = False,
          drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """A DataFrame as {"rows": records, "total_rows", "truncated"}: at most max_rows (the last ones when
    `newest_last`), empty cells left out of each record, text cells clipped."""
    total = len(frame)
    cut = frame.tail(bounds.max_rows) if newest_last else frame.head(bounds.max_rows)
    cut = cut.drop(columns=[c for c in drop if c in cut.columns])
    records = json.loads(cut.to_json(orient="records", date_format="iso")) if len(cut) else []
    rows = [{k: clip(v, bounds.max_cell_chars) if isinstance(v, str) else plain(v)
             for k, v in r.items() if v is not None and v != ""} for r in records]
    return {"rows": rows, "total_rows": total, "truncated": total > len(rows)}


def _epoch(t: Any) -> float:
    return round(pd.Timestamp(t).timestamp(), 3)


def series(frame: pd.DataFrame, bounds: Bounds, *, instant: bool) -> dict[str, Any]:
    """A long PromQL frame (time, labels..., value) as series: {"labels", "value"} for an instant query,
    {"labels", "points": [[unix_s, value], ...]} for a range; at most max_series, max_points each."""
    if frame.empty:
        return {"series": [], "total_series": 0, "truncated": False}
    labels = [c for c in frame.columns if c not in ("time", "value")]
    groups = list(frame.groupby(labels, dropna=False, sort=True)) if labels else [((), frame)]
    out, cut = [], False
    for key, rows in groups[:bounds.max_series]:
        keys = key if isinstance(key, tuple) else (key,)
        named = {k: plain(v) for k, v in zip(labels, keys, strict=True) if plain(v) not in (None, "")}
        if instant:
            out.append({"labels": named, "time": _epoch(rows["time"].iloc[-1]),
                        "value": plain(float(rows["value"].iloc[-1]))})
        else:
            points = [[_epoch(t), plain(float(v))] for t, v in zip(rows["time"], rows["value"], strict=True)]
            cut = cut or len(points) > bounds.max_points
            out.append({"labels": named, "points": points[-bounds.max_points:]})
    return {"series": out, "total_series": len(groups), "truncated": cut or len(groups) > len(out)}


def wide(frame: pd.DataFrame, bounds: Bounds) -> dict[str, Any]:
    """A wide frame (index time, one column per line) as {"columns", "points": [[unix_s, v...]]}, cut to
    max_series columns and thinned to max_points rows."""
    columns = [str(c) for c in frame.columns]
    total_rows, kept = len(frame), frame.iloc[:, :bounds.max_series]
    if len(kept) > bounds.max_points:
        step = math.ceil(len(kept) / bounds.max_points)
        kept = kept.iloc[::-1].iloc[::step].iloc[::-1]  # thinned from the newest sample back
    points = [[_epoch(t), *(plain(float(v)) for v in row)] for t, row in zip(kept.index, kept.to_numpy(), strict=True)]
    return {"columns": ["time", *columns[:bounds.max_series]], "points": points, "total_points": total_rows,
            "total_columns": len(columns), "truncated": len(points) < total_rows or len(columns) > bounds.max_series}


class Limiter:
    """One call at a time, each within a time limit: a call that overruns is answered with a one-line error
    (its thread finishes in the background, and the next call waits for it up to its own limit)."""

    def __init__(self) -> None:
        self._busy = threading.Lock()

    def run(self, what: str, fn: Callable[[], T], timeout_s: float) -> T:
        """`fn()`'s answer, or CallTimedOut when it (or the call before it) takes longer than `timeout_s`."""
        if not self._busy.acquire(timeout=timeout_s):
            raise CallTimedOut(f"{what}: an earlier call is still running after {timeout_s:g} s",
                               hint="wait, then ask again")
        box: dict[str, Any] = {}

        def work() -> None:
            try:
                box["value"] = fn()
            except BaseException as e:  # handed to the caller's thread below
                box["error"] = e
            finally:
                self._busy.release()
        worker = threading.Thread(target=work, name=f"agent-{what}", daemon=True)
        worker.start()
        worker.join(timeout_s)
        if worker.is_alive():
            raise CallTimedOut(f"{what} did not answer within {timeout_s:g} s",
                               hint="ask for less (fewer minutes, a narrower query), or wait and ask again")
        if "error" in box:
            raise box["error"]
        value: T = box["value"]
        return value


def dumps(value: Any) -> str:
    """Compact JSON (no spaces), anything JSON cannot say as its text."""
    return json.dumps(value, separators=(",", ":"), default=str, ensure_ascii=False)


def _longest_list(value: Any, parent: Any = None) -> tuple[list[Any] | None, Any]:
    """The list with the most items anywhere in `value`, and the dict or list holding it."""
    best: tuple[list[Any] | None, Any] = (value, parent) if isinstance(value, list) else (None, None)
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for child in children:
        found, holder = _longest_list(child, value)
        if found is not None and (best[0] is None or len(found) > len(best[0])):
            best = (found, holder)
    return best


def fit(value: Any, max_chars: int) -> str:
    """`value` as JSON of at most `max_chars` characters: its longest lists halved (keeping their last items,
    the newest) until it fits, saying `truncated: true` beside them; else its text clipped, inside JSON."""
    text = dumps(value)
    if len(text) <= max_chars:
        return text
    shrunk = json.loads(text)
    for _ in range(64):
        found, holder = _longest_list(shrunk)
        if found is None or len(found) <= 1:
            break
        del found[:len(found) // 2]
        if isinstance(holder, dict):
            holder["truncated"] = True
        if isinstance(shrunk, dict):
            shrunk["total_chars"] = len(text)
        smaller = dumps(shrunk)
        if len(smaller) <= max_chars:
            return smaller
    keep = max_chars - 80
    while True:  # escaping may lengthen the clipped text: clip it again until the JSON fits
        out = dumps({"truncated": True, "total_chars": len(text), "text": clip(text, max(0, keep))})
        if len(out) <= max_chars or keep <= 0:
            return out
        keep -= len(out) - max_chars
