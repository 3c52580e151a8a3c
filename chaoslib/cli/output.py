"""How chaosctl prints: progress on stderr, the answer on stdout (as text, or as JSON with --json).

Stdout carries only the answer, so `--json` output is always parseable; what a long wait is
doing goes to stderr. Records print as their to_dict(), DataFrames as a list of records.
"""
from __future__ import annotations

import json
import sys
from typing import Any

import pandas as pd

from chaoslib.game.records import Record


def progress(line: str) -> None:
    """A progress line on stderr."""
    print(line, file=sys.stderr, flush=True)


def plain(obj: Any) -> Any:
    """`obj` as JSON-ready data: a record's to_dict(), a DataFrame's records, and lists and dicts of them."""
    if isinstance(obj, Record):
        return plain(obj.to_dict())
    if isinstance(obj, pd.DataFrame):
        return json.loads(obj.to_json(orient="records", date_format="iso"))
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    return obj


def print_json(obj: Any) -> None:
    """Print `obj` as indented JSON (anything JSON cannot say, as its text)."""
    print(json.dumps(plain(obj), indent=2, default=str))


def table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    """Rows as aligned columns under a header (the last column is left as long as it is)."""
    lines = [header, *rows]
    widths = [max(len(r[i]) for r in lines) + 2 for i in range(len(header) - 1)]
    return "\n".join("".join(cell.ljust(w) for cell, w in zip(r, widths, strict=False)) + r[-1] for r in lines)


def frame_text(frame: pd.DataFrame, *, empty: str) -> str:
    """A DataFrame as a person reads it (no index), or `empty` when it has no row."""
    return empty if frame.empty else frame.to_string(index=False)
