"""Benchmarks on the live stack: fault effect, recovery and paging latency; log search speed.

Figures are printed as medians over several runs (targets from the issues: effect within
5 s, recovery within 20 s, first page within 45 s, a 15-minute log search within 1 s).
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import Callable

from chaoslib import faults
from chaoslib.engine import injector
from chaoslib.errors import ChaosError, ObserveError
from chaoslib.backends.base import Probe
from chaoslib.observe import alerts
from chaoslib.stack import Stack

Progress = Callable[[str], None]

def cases(stack: Stack) -> list[tuple[str, str, str, dict]]:
    """One representative run per scenario this backend can run: (family, scenario, target, params).

    Targets take turns; a scenario with a strength runs at the loud end of easy.
    """
    targets, out = stack.targets(), []
    runnable = [sc for sc in faults.SCENARIOS.values() if not stack.backend.features.lacks(sc.requires)]
    for i, sc in enumerate(runnable):
        spec = sc.strength.get("easy")
        params = {spec.param: sc.params[spec.param].kind(spec.low)} if spec else {}
        out.append((sc.family, sc.name, targets[i % len(targets)], params))
    return out


def _effect_check(scenario: str, target: str, probe: Probe) -> Callable[[], bool]:
    """A check, seen from outside, that the fault now bites (its family's probe)."""
    fam = faults.family(faults.scenario(scenario).family)
    if fam.effect_probe is None:
        raise ChaosError(f"the {fam.name} family has no effect probe for {scenario}")
    return fam.effect_probe(scenario, target, probe)


def wait_for(check: Callable[[], bool], timeout: float, interval: float = 0.25) -> float | None:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            if check():
                return time.monotonic() - start
        except Exception:  # a probe racing a restart: try again
            pass
        time.sleep(interval)
    return None


def _lb_sees_all_servers(stack: Stack) -> bool:
    """Traefik has every replica back in rotation (its own metrics, not our probes).

    Read from Traefik itself where the backend publishes its metrics port, else as
    Prometheus last scraped them.
    """
    url = stack.backend.endpoints().get("traefik_metrics")
    if url is None:
        from chaoslib.observe.metrics import Metrics

        ups = list(Metrics().query("traefik_service_server_up")["value"])
        return bool(ups) and all(float(v) == 1 for v in ups)
    import requests

    text = requests.get(f"{url}/metrics", timeout=2).text
    ups = [line for line in text.splitlines() if line.startswith("traefik_service_server_up{")]
    return bool(ups) and all(line.endswith(" 1") for line in ups)


def recovered(stack: Stack) -> bool:
    """Every service healthy and every replica back in the load balancer's rotation."""
    return stack.healthy() and _lb_sees_all_servers(stack)


def _paging_alerts_firing() -> bool:
    """A page is active in Alertmanager, or pending or firing in Prometheus.

    Pending counts: a page still pending from the previous run's fault would fire seconds
    after the next inject and be timed as its page.
    """
    df = alerts.active_alerts()
    if len(df) and len(df[(df["severity"] == "page") & (df["state"] == "active")]):
        return True
    from chaoslib.observe.metrics import Metrics

    return not Metrics().query('ALERTS{severity="page"}').empty


@dataclass
class Run:
    family: str
    scenario: str
    effect_s: float | None
    page_s: float | None
    page_alert: str
    recovery_s: float | None


@dataclass
class FaultBench:
    """Inject each case, time effect and first page, panic, time recovery; repeat."""

    stack: Stack
    runs: int = 3
    page_timeout: float = 120.0
    progress: Progress = print
    results: list[Run] = field(default_factory=list)

    def settle(self) -> None:
        """Wait until the stack is healthy and no page is firing, so each run starts clean."""
        wait_for(lambda: recovered(self.stack) and not _paging_alerts_firing(), timeout=240, interval=2)

    def one(self, family: str, scenario: str, target: str, params: dict) -> Run:
        probe = self.stack.backend.probe()
        self.settle()
        check = _effect_check(scenario, target, probe)
        t0 = time.time()
        start = time.monotonic()
        injector.inject(self.stack, scenario, targets=[target], params=params)
        effect = wait_for(check, timeout=60)
        effect = None if effect is None else time.monotonic() - start
        try:
            firing = alerts.wait_for_page(since=t0, timeout=self.page_timeout)
            first = firing.sort_values("received_at").iloc[0]
            page_s, page_name = first["received_at"].timestamp() - t0, str(first["alertname"])
        except ObserveError:
            page_s, page_name = None, ""
        injector.panic(self.stack)
        rec = wait_for(lambda: recovered(self.stack), timeout=180, interval=0.5)
        run = Run(family, scenario, effect, page_s, page_name, rec)
        self.progress(f"  {scenario:15} effect {_fmt(effect)}  page {_fmt(page_s)} ({run.page_alert or 'none'})"
                      f"  recovery {_fmt(rec)}")
        return run

    def all(self) -> list[Run]:
        for i in range(self.runs):
            self.progress(f"round {i + 1} of {self.runs}")
            for case in cases(self.stack):
                self.results.append(self.one(*case))
        return self.results

    def report(self) -> str:
        """Medians per scenario and family, the slowest page, and the ratio to the page median before #15."""
        lines = ["scenario / family      effect p50   page p50   page max   recovery p50   page p50 / before   (n)"]
        groups: dict[str, list[Run]] = {}
        for r in self.results:
            groups.setdefault(r.scenario, []).append(r)
            groups.setdefault(f"[{r.family}]", []).append(r)
        for name, rs in groups.items():
            page = _median([r.page_s for r in rs])
            pages = [r.page_s for r in rs if r.page_s is not None]
            before = PAGE_BEFORE_S.get(name)
            ratio = f"{page / before:.2f} ({before:.1f} s)" if page is not None and before else "-"
            lines.append(f"{name:22} {_fmt(_median([r.effect_s for r in rs])):>10} {_fmt(page):>10}"
                         f" {_fmt(max(pages) if pages else None):>10} {_fmt(_median([r.recovery_s for r in rs])):>14}"
                         f"   {ratio:>17}   ({len(rs)}; no page {sum(r.page_s is None for r in rs)})")
        return "\n".join(lines)


def _median(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f} s"


#: The log search's median before issue #15 (120,000 lines, last 15 minutes, every line parsed).
LOG_SEARCH_BEFORE_S = 0.76

#: Median time to first page before issue #15 (`bench faults --runs 2` on a fresh clone at
#: 27e83e4, as the issue gives them), per scenario and family: the peers of the ratios.
PAGE_BEFORE_S = {
    "lb-loss": 34.8, "lb-cutoff": 22.4, "db-cutoff": 33.4, "disk-full": 44.35, "disk-crashloop": 28.6,
    "cpu-starve": 28.6, "memory-starve": 26.3, "[network]": 31.5, "[disk]": 34.0, "[resources]": 28.4,
}
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


def log_search_bench(*, lines: int = 120_000, runs: int = 5, progress: Progress = print) -> dict:
    """Search the last 15 minutes of `lines` JSON log lines (30 minutes' worth on disk).

    Compares DuckDB (what chaoslib.observe.logs uses) with a plain Python loop over
    json.loads as the peer; returns medians in seconds, the ratio, and the speed-up over
    LOG_SEARCH_BEFORE_S (the search before it skipped what is older than the window).
    """
    import json
    import random
    import tempfile
    from pathlib import Path

    from chaoslib.observe.logs import Logs

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

        out = {"lines_on_disk": total}
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


def soak(*, minutes: float = 60, progress: Progress = print) -> dict:
    """Watch a healthy stack under default load: how many pages fired (target: none)."""
    from chaoslib.observe.metrics import Metrics

    m = Metrics()
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
        fired = alerts.pages(since=t0)
        fired = fired[fired["status"] == "firing"]
    except ObserveError:
        fired = []
    return {"minutes": minutes, "pages": len(fired),
            "alerts_pending_or_firing": sorted(set(pending["alertname"])) if not pending.empty else [],
            "p95_median_ms": statistics.median(p95s) * 1000 if p95s else None,
            "p95_max_ms": max(p95s) * 1000 if p95s else None,
            "error_ratio_max": max(errs) if errs else None}
