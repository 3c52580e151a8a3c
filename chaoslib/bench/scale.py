"""`chaosctl bench scale --replicas 1,3,6`: what grows with the number of app replicas.

For each size the stack is brought down and up again with that many replicas, then:
start-up time (warm: the second `up` of the size), memory (median PSS), time to first page
for one scenario per family, and the detective's accuracy over a few seeded games per
family. One table at the end; a stack that was up is left up at its size before.
"""
from __future__ import annotations

import re
import statistics
import time
from dataclasses import dataclass, field

from chaoslib import faults
from chaoslib.bench.faults import FaultBench, cases
from chaoslib.bench.footprint import measure
from chaoslib.bench.trials import run_trials
from chaoslib.errors import UsageError
from chaoslib.progress import Progress
from chaoslib.stack import Stack

MIB = 1024 * 1024


def parse_sizes(text: str, *, maximum: int) -> list[int]:
    """'1,3,6' -> [1, 3, 6]; a clear error for anything else."""
    if not re.fullmatch(r"\s*\d+(\s*,\s*\d+)*\s*", text or ""):
        raise UsageError(f"--replicas must be a comma-separated list of replica counts, got {text!r}",
                         field="replicas", value=text, hint="for example --replicas 1,3,6")
    sizes = [int(x) for x in text.split(",")]
    bad = [n for n in sizes if not 1 <= n <= maximum]
    if bad:
        raise UsageError(f"--replicas: each count must be between 1 and {maximum}, got {bad[0]}",
                         field="replicas", value=text)
    return list(dict.fromkeys(sizes))


@dataclass
class SizeResult:
    """The figures for one stack size."""

    replicas: int
    startup_s: list[float] = field(default_factory=list)
    pss_mib: float = 0.0
    rss_mib: float = 0.0
    processes: int = 0
    page_s: dict[str, float | None] = field(default_factory=dict)
    detective_right: int = 0
    detective_games: int = 0

    @property
    def startup_median_s(self) -> float:
        return statistics.median(self.startup_s) if self.startup_s else float("nan")


def one_per_family(stack: Stack) -> list[tuple[str, str, str, dict]]:
    """The first runnable scenario of each family, on the first replica."""
    seen: dict[str, tuple[str, str, str, dict]] = {}
    for fam, scenario, _target, params in cases(stack):
        seen.setdefault(fam, (fam, scenario, stack.targets()[0], params))
    return list(seen.values())


def _timed_up(stack: Stack, replicas: int, progress: Progress) -> float:
    t = time.monotonic()
    stack.up(replicas=replicas, progress=lambda line: None)
    took = time.monotonic() - t
    progress(f"    up with {replicas} replicas: {took:.1f} s")
    return took


def measure_size(stack: Stack, replicas: int, *, starts: int, seeds: int, settle_s: float,
                 progress: Progress = print) -> SizeResult:
    """Restart the stack at `replicas` and measure it (see the module docstring)."""
    r = SizeResult(replicas)
    progress(f"{replicas} replica(s)")
    stack.down()
    _timed_up(stack, replicas, progress)  # cold for this size: new replicas' disks and users
    for _ in range(starts):
        stack.down()
        r.startup_s.append(_timed_up(stack, replicas, progress))
    progress(f"    letting the load run {settle_s:g} s before measuring memory")
    time.sleep(settle_s)
    fp = measure(stack.backend, samples=3, interval=3.0, progress=lambda line: None)
    r.pss_mib, r.rss_mib, r.processes = fp.total.pss_bytes / MIB, fp.total.rss_bytes / MIB, fp.total.processes
    progress(f"    memory: {r.pss_mib:.0f} MiB PSS ({r.rss_mib:.0f} MiB RSS, {r.processes} processes)")
    bench = FaultBench(stack, runs=1, progress=lambda line: progress("  " + line))
    for case in one_per_family(stack):
        run = bench.one(*case)
        r.page_s[run.scenario] = run.page_s
    if seeds:
        verdicts = run_trials(stack, seeds=seeds, progress=lambda line: progress("    " + line))
        r.detective_right = sum(t.right for ts in verdicts.values() for t in ts)
        r.detective_games = sum(len(ts) for ts in verdicts.values())
    return r


def report(results: list[SizeResult]) -> str:
    """One line per size, and the growth per added replica between the smallest and largest."""
    scenarios = sorted({s for r in results for s in r.page_s})
    head = f"{'replicas':>8} {'start-up p50':>12} {'PSS MiB':>8} {'RSS MiB':>8} {'procs':>5}"
    head += "".join(f" {('page ' + s):>20}" for s in scenarios) + "   detective"
    lines = [head]
    for r in results:
        pages = "".join(f" {('-' if r.page_s.get(s) is None else f'{r.page_s[s]:.1f} s'):>20}" for s in scenarios)
        det = f"{r.detective_right}/{r.detective_games}" if r.detective_games else "-"
        lines.append(f"{r.replicas:8d} {r.startup_median_s:11.1f}s {r.pss_mib:8.0f} {r.rss_mib:8.0f}"
                     f" {r.processes:5d}{pages}   {det}")
    if len(results) > 1:
        lo, hi = min(results, key=lambda r: r.replicas), max(results, key=lambda r: r.replicas)
        added = hi.replicas - lo.replicas
        lines.append(f"each added replica: {(hi.pss_mib - lo.pss_mib) / added:+.1f} MiB PSS, "
                     f"{(hi.startup_median_s - lo.startup_median_s) / added:+.2f} s start-up "
                     f"({hi.replicas} vs {lo.replicas} replicas: PSS x{hi.pss_mib / lo.pss_mib:.2f}, "
                     f"start-up x{hi.startup_median_s / lo.startup_median_s:.2f})")
    return "\n".join(lines)


def scale(stack: Stack, sizes: list[int], *, starts: int = 3, seeds: int = 3, settle_s: float = 30.0,
          progress: Progress = print) -> list[SizeResult]:
    """Measure every size in turn; the families' scenarios come from the faults catalogue."""
    if not faults.FAMILIES:
        raise UsageError("no fault family is registered")
    before = len(stack.targets()) if stack.backend.is_up() else None
    try:
        return [measure_size(stack, n, starts=starts, seeds=seeds, settle_s=settle_s, progress=progress)
                for n in sizes]
    finally:
        if before is not None and before != sizes[-1]:
            progress(f"back to {before} replicas")
            stack.down()
            stack.up(replicas=before, progress=lambda line: None)
