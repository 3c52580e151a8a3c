"""`chaosctl bench footprint`: what the running stack costs in memory, per service and in total.

Each service's processes come from the backend (`service_pids`: the process tree under
supervisord natively, the container's processes under Docker); their PSS and RSS are read
from /proc/<pid>/smaps_rollup. PSS is the honest total (shared pages divided among their
sharers); RSS, beside it, counts a shared page once per process. Medians over a few samples
taken seconds apart, so a request in flight or a GC cycle does not decide the figure.
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from chaoslib.backends.base import Backend, Progress, no_progress
from chaoslib.errors import UsageError
from chaoslib.kernel.procmem import ProcMemory, group_memory

MIB = 2**20


@dataclass(frozen=True)
class Footprint:
    """Median PSS and RSS (bytes) and process count per service, and the median total."""

    services: dict[str, ProcMemory]
    total: ProcMemory
    samples: int


def sample(backend: Backend) -> dict[str, ProcMemory]:
    """One reading: each running service's PSS, RSS and process count."""
    return {name: group_memory(pids) for name, pids in backend.service_pids().items()}


T = TypeVar("T")


def sampled(take: Callable[[], T], *, samples: int, interval: float, progress: Progress,
            describe: Callable[[T], str]) -> list[T]:
    """`samples` readings `interval` seconds apart, each told to `progress` (the native and Docker footprints)."""
    if samples < 1:
        raise UsageError(f"samples must be at least 1, got {samples}", field="samples", value=samples)
    readings: list[T] = []
    for i in range(samples):
        if i:
            time.sleep(interval)
        readings.append(take())
        progress(f"  sample {i + 1} of {samples}: {describe(readings[-1])}")
    return readings


def measure(backend: Backend, *, samples: int = 3, interval: float = 3.0,
            progress: Progress = no_progress) -> Footprint:
    """Median over `samples` readings `interval` seconds apart (the total is the median of the totals)."""
    readings = sampled(lambda: sample(backend), samples=samples, interval=interval, progress=progress,
                       describe=lambda r: f"{sum(m.pss_bytes for m in r.values()) / MIB:.0f} MiB PSS")
    names = sorted({n for r in readings for n in r})
    services = {n: _median_of([r[n] for r in readings if n in r]) for n in names}
    totals = [sum(r.values(), ProcMemory()) for r in readings]
    return Footprint(services=services, total=_median_of(totals), samples=samples)


def _median_of(values: list[ProcMemory]) -> ProcMemory:
    return ProcMemory(int(statistics.median(v.pss_bytes for v in values)),
                      int(statistics.median(v.rss_bytes for v in values)),
                      int(statistics.median(v.processes for v in values)))


def table(fp: Footprint) -> str:
    """A table, largest PSS first, and a total line (MiB)."""
    lines = [f"{'service':22} {'procs':>5} {'PSS MiB':>9} {'RSS MiB':>9}"]
    for name, m in sorted(fp.services.items(), key=lambda kv: -kv[1].pss_bytes):
        lines.append(f"{name:22} {m.processes:5d} {m.pss_bytes / MIB:9.1f} {m.rss_bytes / MIB:9.1f}")
    t = fp.total
    lines.append(f"{'total':22} {t.processes:5d} {t.pss_bytes / MIB:9.1f} {t.rss_bytes / MIB:9.1f}")
    return "\n".join(lines)
