"""The log search: a recent window read from where it starts gives exactly what reading every line gives."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from chaoslib.observe import logs
from chaoslib.observe.logs import Logs, window_offset

BASE = 1_700_000_000.0  # the first line's time
HOUR = 3600


def iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


def mixed_lines(start_untimed: bool = False) -> list[str]:
    """An hour of a service's output: JSON lines, plain and logfmt lines, tracebacks, blank lines."""
    out = ["booting, no time here", "Traceback (most recent call last):"] if start_untimed else []
    for i in range(3000):
        t = BASE + HOUR * i / 3000
        kind = i % 7
        if kind == 0:
            out.append(f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(t))}.123 UTC [42] LOG:  checkpoint starting")
        elif kind == 1:
            out.append(f'ts={iso(t)} caller=main.go level=warn msg="slow rule group"')
        elif kind == 2:
            out.append(json.dumps({"time": iso(t), "level": "ERROR", "logger": "django.request",
                                   "message": "Internal Server Error", "exc": "Traceback ...", "replica": "app1"}))
            # continuation lines: no time of their own, they take the line before's
            out += ["Traceback (most recent call last):", '  File "views.py", line 3, in vote', "OSError: [Errno 28]"]
        elif kind == 3:
            out.append(json.dumps({"StartUTC": iso(t), "DownstreamStatus": 502, "Duration": 1_500_000,
                                   "RequestMethod": "POST", "RequestPath": "/polls/1/vote/"}))
            out.append("")
        elif kind == 4:
            out.append('{"not json": ')
        else:
            out.append(json.dumps({"time": iso(t), "level": "INFO", "message": f"GET /api/polls/ {i}", "status": 200,
                                   "duration_ms": 3.5, "method": "GET", "path": "/api/polls/", "request_id": f"{i:x}"}))
    return out


@pytest.fixture
def files(tmp_path: Path) -> dict[str, list[Path]]:
    out = {}
    for name, untimed in (("app1", False), ("postgres", True)):
        path = tmp_path / f"{name}.log"
        path.write_text("\n".join(mixed_lines(untimed)) + "\n")
        out[name] = [path]
    old = tmp_path / "app1.log.1"  # a rotated file, wholly before the window
    old.write_text("\n".join(json.dumps({"time": iso(BASE - HOUR + i), "message": "old"}) for i in range(500)) + "\n")
    out["app1"].insert(0, old)
    return out


@pytest.mark.parametrize("window", [dict(since=BASE + 45 * 60), dict(since=BASE + 50 * 60, until=BASE + 55 * 60),
                                    dict(since=BASE + 45 * 60, text="errno"), dict(since=BASE + 45 * 60, level="error"),
                                    dict(since=BASE + 45 * 60, limit=100), dict(since=BASE - 10)])
def test_the_fast_path_returns_exactly_the_full_parse(files, window):
    kwargs = {"limit": None, **window}
    fast = Logs(files).search(**kwargs)
    full = Logs(files, fast=False).search(**kwargs)
    assert len(full) > 0
    pd.testing.assert_frame_equal(fast, full)


def test_the_window_has_every_kind_of_line(files):
    df = Logs(files).search(since=BASE + 45 * 60, limit=None)
    assert (~df["is_json"]).sum() and df["is_json"].sum()
    cont = df[df["line"] == "OSError: [Errno 28]"]
    before = df.loc[cont.index - 1]
    assert len(cont) > 10 and list(cont["time"]) == list(before["time"])  # inherited, and kept in file order
    assert df["time"].min() >= pd.Timestamp(BASE + 45 * 60, unit="s", tz="UTC") and not df["time"].isna().any()
    # postgres's two lines before its first stamp (BASE) were written by then: in a window from before BASE only
    untimed = Logs(files).search(since=BASE - 10, limit=None)
    untimed = untimed[untimed["time"].isna()]
    assert set(untimed["service"]) == {"postgres"} and len(untimed) == 2


def test_a_file_without_any_time_belongs_to_windows_up_to_its_last_write(tmp_path):
    """A summary printed without times (Locust's at exit): in a window that began before the file's last write
    (it may have been written then), not in one that began after (the previous game's, for a game begun since)."""
    path = tmp_path / "locust.log"
    path.write_text("Type     Name   # reqs\n--------|------|------\nPOST     /api/polls/[id]/vote/   574\n")
    os.utime(path, (BASE + 100, BASE + 100))
    files = {"locust": [path]}
    assert len(Logs(files).search(since=BASE + 50, limit=None)) == 3
    assert Logs(files).search(since=BASE + 150, limit=None).empty
    assert Logs(files, fast=False).search(since=BASE + 150, limit=None).empty


def test_locust_bracketed_times_are_read(tmp_path):
    """Locust stamps its lines `[2023-11-14 22:13:20,123] host/WARNING/root: ...`: each line has its own time."""
    path = tmp_path / "locust.log"
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(BASE))
    path.write_text(f"[{stamp},123] lab/ERROR/locust.runners: vote failed: 503\n")
    df = Logs({"locust": [path]}).search(since=BASE - 1, until=BASE + 1, limit=None)
    assert len(df) == 1 and df["time"][0] == pd.Timestamp(BASE, unit="s", tz="UTC") and df["level"][0] == "error"
    assert Logs({"locust": [path]}).search(since=BASE + 10, limit=None).empty


def test_locust_exit_summary_is_not_error_lines(tmp_path):
    """Locust's exit summary ("Error report", "500 Server Error" rows) is prose, not lines at level error;
    a level in capitals (PostgreSQL's, gunicorn's, Locust's own) and a traceback's head still are."""
    path = tmp_path / "locust.log"
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(BASE))
    path.write_text("\n".join([
        f"[{stamp},123] lab/INFO/locust.main: Shutting down (exit code 1)",
        "Error report",
        "# occurrences      Error",
        "1                  GET /api/polls/[id]/: HTTPError('500 Server Error: Internal Server Error for url: /x')",
        "12                 POST /api/polls/[id]/vote/: HTTP 500",
        f"{stamp}.001 UTC [42] ERROR:  canceling statement due to lock timeout",
        f"{stamp}.002 UTC [43] FATAL:  sorry, too many clients already",
        f"[{stamp} +0000] [7] [WARNING] Worker with pid 9 was terminated due to signal 9",
        "Traceback (most recent call last):",
        "warning: this prose is not a level either",
    ]) + "\n")
    df = Logs({"locust": [path]}).search(since=BASE - 1, until=BASE + 1, limit=None)
    assert len(df) == 10
    levelled = {line: level for line, level in zip(df["line"], df["level"], strict=True) if isinstance(level, str)}
    assert sorted(levelled.values()) == ["error", "error", "error", "warning"], levelled
    assert not any("Error" in line and "ERROR" not in line for line in levelled if "Traceback" not in line), levelled
    errors = Logs({"locust": [path]}).search(since=BASE - 1, until=BASE + 1, level="error", limit=None)
    assert sorted(line.split()[-1] for line in errors["line"]) == ["already", "last):", "timeout"], errors["line"]


def test_the_fast_path_skips_what_is_older_than_the_window(files):
    with duckdb.connect() as con:
        app1 = str(files["app1"][1])
        size = Path(app1).stat().st_size
        offset = window_offset(app1, BASE + 45 * 60, con)
        assert 0.6 * size < offset < 0.75 * size  # 45 min of 60, less the margin
        assert Path(app1).read_bytes()[offset - 1:offset] == b"\n"
        assert window_offset(str(files["app1"][0]), BASE + 45 * 60, con) > 0.9 * files["app1"][0].stat().st_size
        # a file starting with lines that have no time is read whole: they may belong to the window
        assert window_offset(str(files["postgres"][0]), BASE + 45 * 60, con) == 0
        assert window_offset(app1, BASE + logs.MARGIN_S / 2, con) == 0


def test_carriage_returns_and_odd_bytes_read_the_same(tmp_path):
    """Lines ended by \\r\\n or \\r, blank lines and the reader's \\x01 delimiter: fast and full agree."""
    lines = mixed_lines()
    for i in range(1, len(lines), 97):
        lines[i] = lines[i] + ("\x01tail" if i % 2 else "\r")
    path = tmp_path / "traefik.log"
    path.write_bytes(("\r\n".join(lines[:1500]) + "\n" + "\n".join(lines[1500:]) + "\n").encode())
    files = {"traefik": [path]}
    for since in (BASE + 20 * 60, BASE + 45 * 60):
        fast = Logs(files).search(since=since, limit=None)
        assert len(fast) > 100
        pd.testing.assert_frame_equal(fast, Logs(files, fast=False).search(since=since, limit=None))
    # a carriage return before the cut: its line count is unsure, so the whole file is read
    with duckdb.connect() as con:
        offset = window_offset(str(path), BASE + 45 * 60, con)
    assert offset > 0 and logs.rows_before(str(path), offset) == 0
    assert logs.rows_before(str(path), 0) == 0


def test_rows_before_counts_lines(tmp_path):
    path = tmp_path / "x.log"
    path.write_bytes(b"a\n\nb\nc\n")
    assert [logs.rows_before(str(path), o) for o in (0, 2, 3, 5)] == [0, 1, 2, 3]
