"""Benchmarks of the whole stack: warm start-up to all healthy, and a long soak that must page nothing."""
from __future__ import annotations

import statistics
import time

from chaoslib.errors import ObserveError
from chaoslib.observe import alerts
from chaoslib.observe.metrics import Metrics
from chaoslib.progress import Progress
from chaoslib.stack import Stack

#: Start-up to all healthy before issue #15 (seconds), and the stack's memory (MiB, 3 replicas).
STARTUP_BEFORE_S = 10.5
PSS_BEFORE_MIB, RSS_BEFORE_MIB = 782.0, 1424.0


def startup_bench(stack: Stack, *, runs: int = 5, progress: Progress = print) -> dict:
    """`down` then `up` `runs` times (warm: the state folder is kept); the median to all healthy."""
    times = []
    if not stack.backend.is_up():
        stack.up(progress=lambda line: None)  # the first start may initialise the database
    for i in range(runs):
        stack.down()
        t = time.monotonic()
        stack.up(progress=lambda line: None)
        times.append(time.monotonic() - t)
        progress(f"  start {i + 1} of {runs}: all healthy in {times[-1]:.1f} s")
    med = statistics.median(times)
    return {"runs": times, "median_s": med, "max_s": max(times), "before_s": STARTUP_BEFORE_S,
            "ratio_before_over_now": STARTUP_BEFORE_S / med}


def soak(stack: Stack, *, minutes: float = 60, progress: Progress = print) -> dict:
    """Watch a healthy stack under default load: how many pages fired (target: none)."""
    m = Metrics(stack.endpoint("prometheus"))
    t0 = time.time()
    end = t0 + minutes * 60
    p95s, errs = [], []
    while time.time() < end:
        time.sleep(min(30, max(0, end - time.time())))
        p95s.append(m.value("lb:latency_seconds:p95_1m", 0.0) or 0.0)
        errs.append(m.value("lb:errors:ratio_rate1m", 0.0) or 0.0)
        progress(f"  {(time.time() - t0) / 60:5.1f} min: p95 {p95s[-1] * 1000:.0f} ms, errors {errs[-1]:.2%}")
    window = f"{int(minutes * 60)}s"
    pending = m.query(f'max_over_time(ALERTS{{severity="page"}}[{window}])')
    try:
        sent = alerts.pages(stack.endpoint("pager"), since=t0)
        fired = int((sent["status"] == "firing").sum())
    except ObserveError:
        fired = 0
    return {"minutes": minutes, "pages": fired,
            "alerts_pending_or_firing": sorted(set(pending["alertname"])) if not pending.empty else [],
            "p95_median_ms": statistics.median(p95s) * 1000 if p95s else None,
            "p95_max_ms": max(p95s) * 1000 if p95s else None,
            "error_ratio_max": max(errs) if errs else None}
