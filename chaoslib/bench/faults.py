"""Benchmark of every scenario on the live stack: inject -> effect, inject -> first page, panic -> recovered.

Figures are printed as medians over several runs, with the ratio to the figures before
issue #15 (targets: every scenario pages within 25 s median, 30 s max).
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

from chaoslib import faults
from chaoslib.backends.base import Probe
from chaoslib.engine import injector
from chaoslib.errors import ChaosError, ObserveError
from chaoslib.observe import alerts
from chaoslib.observe.metrics import Metrics
from chaoslib.progress import Progress
from chaoslib.stack import Stack


def cases(stack: Stack, families: tuple[str, ...] | None = None) -> list[tuple[str, str, str, dict]]:
    """One representative run per scenario this backend can run (of `families`, None: every family):
    (family, scenario, target, params).

    Targets take turns; a scenario with a strength runs at the loud end of easy.
    """
    targets, out = stack.targets(), []
    runnable = [sc for sc in faults.SCENARIOS.values() if not stack.backend.features.lacks(sc.requires)
                and (families is None or sc.family in families)]
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
        ups = list(Metrics(stack.endpoint("prometheus")).query("traefik_service_server_up")["value"])
        return bool(ups) and all(float(v) == 1 for v in ups)
    text = requests.get(f"{url}/metrics", timeout=2).text
    ups = [line for line in text.splitlines() if line.startswith("traefik_service_server_up{")]
    return bool(ups) and all(line.endswith(" 1") for line in ups)


def recovered(stack: Stack) -> bool:
    """Every service healthy and every replica back in the load balancer's rotation."""
    return stack.healthy() and _lb_sees_all_servers(stack)


def _paging_alerts_firing(stack: Stack) -> bool:
    """A page is active in Alertmanager, or pending or firing in Prometheus.

    Pending counts: a page still pending from the previous run's fault would fire seconds
    after the next inject and be timed as its page.
    """
    df = alerts.active_alerts(stack.endpoint("alertmanager"))
    if len(df) and len(df[(df["severity"] == "page") & (df["state"] == "active")]):
        return True
    return not Metrics(stack.endpoint("prometheus")).query('ALERTS{severity="page"}').empty


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
    #: The families whose scenarios run (None: every family's).
    families: tuple[str, ...] | None = None

    def settle(self) -> None:
        """Wait until the stack is healthy and no page is firing, so each run starts clean."""
        wait_for(lambda: recovered(self.stack) and not _paging_alerts_firing(self.stack), timeout=240, interval=2)

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
            firing = alerts.wait_for_page(self.stack.endpoint("pager"), since=t0, timeout=self.page_timeout)
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
            for case in cases(self.stack, self.families):
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


#: Median time to first page before issue #15 (`bench faults --runs 2` on a fresh clone at
#: 27e83e4, as the issue gives them), per scenario and family: the peers of the ratios.
PAGE_BEFORE_S = {
    "lb-loss": 34.8, "lb-cutoff": 22.4, "db-cutoff": 33.4, "disk-full": 44.35, "disk-crashloop": 28.6,
    "cpu-starve": 28.6, "memory-starve": 26.3, "[network]": 31.5, "[disk]": 34.0, "[resources]": 28.4,
}
