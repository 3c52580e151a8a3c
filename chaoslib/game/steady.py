"""The steady state: what "healthy" means before a game starts and after a fix.

Asked the same way by `play` (may a game start?), validation (does the fix hold?) and the
benchmarks (is the stack back?), so all three agree:

- `service_problems`: every service healthy, every replica in the load balancer's rotation;
- `slo_problems`: the same, plus the error ratio and p95 latency within the objectives;
- `alert_problems`: no alert pending or firing in Prometheus, none active in Alertmanager;
- `quiet_problems`: what keeps a game from starting (after a recent fault, only its pages: see ECHO_S).

Each returns the problems as short phrases ("app2 out of rotation", "OOMKilled firing on
app2"): empty means steady. `wait_until` polls one of them with progress.
"""
from __future__ import annotations

import time
from collections.abc import Callable

from chaoslib.engine.injector import all_faults
from chaoslib.observe import alerts
from chaoslib.observe.metrics import Metrics
from chaoslib.progress import Progress, no_progress
from chaoslib.stack import Stack

#: Steady state: the objectives a fix is proven against.
SLO = {"error_ratio_max": 0.01, "p95_max_s": 0.25}

Check = Callable[[], list[str]]


def status_problems(stack: Stack) -> list[str]:
    """Services the backend's `status()` reports unhealthy (all a backend without monitoring can tell)."""
    return [f"{s.name} unhealthy" for s in stack.status() if not s.healthy]


def service_problems(stack: Stack, metrics: Metrics) -> list[str]:
    """Services that are not healthy and replicas the load balancer has out of rotation."""
    problems = status_problems(stack)
    up = metrics.query('traefik_service_server_up{service=~"polls@.*"}')
    if up.empty:
        problems.append("the load balancer reports no server")
    problems += [f"{r.get('replica', r.get('url'))} out of rotation" for _, r in up.iterrows() if r["value"] < 1]
    return problems


def slo_problems(stack: Stack, metrics: Metrics) -> list[str]:
    """Service problems, and the error ratio or p95 latency outside the objectives."""
    problems = service_problems(stack, metrics)
    err = metrics.value("lb:errors:ratio_rate20s", 0.0) or 0.0
    p95 = metrics.value("lb:latency_seconds:p95_20s", 0.0) or 0.0
    if err > SLO["error_ratio_max"]:
        problems.append(f"error ratio {err:.1%}")
    if p95 > SLO["p95_max_s"]:
        problems.append(f"p95 {p95 * 1000:.0f} ms")
    return problems


#: How long a fault echoes after it is undone: the longest window of a rule (restarts and OOM kills over 5 min).
#: Within it, a ticket is the undone fault's echo: a new game does not wait for it, and cuts its views instead.
ECHO_S = 300.0


def alert_problems(stack: Stack, *, severity: str | None = None) -> list[str]:
    """Alerts pending or firing in Prometheus, and alerts Alertmanager still holds as active (only `severity`'s)."""
    seen, problems = set(), []
    for _, a in alerts.rule_alerts(stack.endpoint("prometheus")).iterrows():
        if severity is not None and a["severity"] != severity:
            continue
        where = f" on {a['replica']}" if isinstance(a["replica"], str) else ""
        seen.add((a["alertname"], a["replica"] if isinstance(a["replica"], str) else None))
        problems.append(f"{a['alertname']} ({a['severity']}) {a['state']}{where}")
    for _, a in alerts.active_alerts(stack.endpoint("alertmanager")).iterrows():
        if severity is not None and a["severity"] != severity:
            continue
        replica = a["labels"].get("replica")
        if a["state"] == "active" and (a["alertname"], replica) not in seen:
            problems.append(f"{a['alertname']} ({a['severity']}) still active in Alertmanager"
                            + (f" on {replica}" if replica else ""))
    return problems


def quiet_problems(stack: Stack, metrics: Metrics, *, echo: bool = False) -> list[str]:
    """What keeps a game from starting: unhealthy services, replicas out of rotation, any alert.

    `echo` (a fault was undone less than ECHO_S ago): only pages count, since a ticket's longer window
    still holds the undone fault; the new game's views are cut at its start, so the player never sees it,
    and its page is one that starts after the injection. Pages clear within about 20 s of the undo.
    """
    return service_problems(stack, metrics) + alert_problems(stack, severity="page" if echo else None)


def last_undone(healed: list[float | None]) -> float | None:
    """The latest time a fault was undone (None: none ever was)."""
    return max((t for t in healed if t is not None), default=None)


def last_heal(stack: Stack) -> float | None:
    """The latest time a fault (or a red herring) of this stack was undone, from the registry."""
    return last_undone([f.healed_at for f in all_faults(stack)])


def echoing(stack: Stack) -> bool:
    """True within ECHO_S of a fault's undo: its tickets may still fire (see quiet_problems)."""
    healed = last_heal(stack)
    return healed is not None and time.time() - healed < ECHO_S


def view_from(*, started_at: float, last_heal: float | None) -> float | None:
    """Where a game's views begin: its start if a fault was undone within ECHO_S before it, else the end of
    that fault's echo (None when no fault was ever undone)."""
    if last_heal is None:
        return None
    return min(started_at, last_heal + ECHO_S)


def wait_until(check: Check, *, timeout: float, progress: Progress = no_progress, interval: float = 2.0,
               what: str = "a steady stack") -> list[str]:
    """Poll `check` until it returns no problem or `timeout` passes; return what is left (empty: steady).

    Progress gets a line at least every 5 s naming what is still wrong.
    """
    start, last = time.monotonic(), float("-inf")
    problems = check()
    while problems and time.monotonic() - start < timeout:
        now = time.monotonic()
        if now - last >= 5:
            progress(f"waiting for {what} ({now - start:.0f} s of at most {timeout:.0f}): {'; '.join(problems[:3])}")
            last = now
        time.sleep(interval)
        problems = check()
    return problems
