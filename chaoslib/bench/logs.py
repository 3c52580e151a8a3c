"""Benchmark of the log search: the last 15 minutes of 120,000 JSON lines, DuckDB against a Python loop."""
from __future__ import annotations

import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from chaoslib.observe.logs import Logs
from chaoslib.progress import Progress

#: The log search's median before issue #15 (120,000 lines, last 15 minutes, every line parsed).
LOG_SEARCH_BEFORE_S = 0.76


def log_search_bench(*, lines: int = 120_000, runs: int = 5, progress: Progress = print) -> dict:
    """Search the last 15 minutes of `lines` JSON log lines (30 minutes' worth on disk).

    Compares DuckDB (what chaoslib.observe.logs uses) with a plain Python loop over
    json.loads as the peer; returns medians in seconds, the ratio, and the speed-up over
    LOG_SEARCH_BEFORE_S (the search before it skipped what is older than the window).
    """
    rng = random.Random(7)
    now = time.time()
    with tempfile.TemporaryDirectory(prefix="chaos-logbench-") as tmp:
        files: dict[str, list[Path]] = {}
        per = lines // 3
        for r in ("app1", "app2", "app3"):
            path = Path(tmp) / f"{r}.log"
            with open(path, "w") as f:
                for i in range(per):
                    t = now - 1800 + 1800 * i / per
                    status = 500 if rng.random() < 0.02 else 200
                    rec = {"time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".000Z",
                           "level": "ERROR" if status == 500 else "INFO", "logger": "pollapp.access",
                           "message": f"GET /api/polls/ {status}", "replica": r, "pid": 100,
                           "request_id": f"{i:016x}", "method": "GET", "path": "/api/polls/", "status": status,
                           "duration_ms": round(rng.uniform(2, 80), 2), "event": "access"}
                    f.write(json.dumps(rec) + "\n")
                    if i % 500 == 0:
                        f.write("a plain line that is not JSON\n")
            files[r] = [path]
        total = sum(sum(1 for _ in open(p[0])) for p in files.values())
        logs = Logs(files)

        def duck() -> int:
            return len(logs.search(minutes=15, limit=None))

        def loop() -> int:
            cutoff, n = now - 900, 0
            for ps in files.values():
                for line in open(ps[0]):
                    try:
                        rec = json.loads(line)
                    except ValueError:
                        n += 1
                        continue
                    ts = time.mktime(time.strptime(rec["time"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
                    if ts >= cutoff:
                        n += 1
            return n

        out: dict[str, float] = {"lines_on_disk": total}
        for name, fn in (("duckdb", duck), ("python_loop", loop)):
            times, found = [], 0
            for _ in range(runs):
                t = time.perf_counter()
                found = fn()
                times.append(time.perf_counter() - t)
            out[f"{name}_median_s"] = statistics.median(times)
            out[f"{name}_rows"] = found
            progress(f"  {name:12} median {statistics.median(times):.3f} s over {runs} runs ({found} rows)")
        out["ratio_loop_over_duckdb"] = out["python_loop_median_s"] / out["duckdb_median_s"]
        out["before_s"] = LOG_SEARCH_BEFORE_S
        out["ratio_before_over_duckdb"] = LOG_SEARCH_BEFORE_S / out["duckdb_median_s"]
        return out
