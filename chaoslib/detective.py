"""The detective: reads only what the player can see and names the likely fault.

It looks at the same signals the notebooks show (saturation and golden-signal metrics,
the load balancer's view of each server, restarts, the logs) and returns a hypothesis
with its evidence. It backs the hint engine, and CI's autopilot uses it to play unattended.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from .errors import ChaosError
from .observe.logs import Logs
from .observe.metrics import Metrics
from .stack import Stack

NETWORK, DISK, RESOURCES = "network", "disk", "resources"
#: Packet loss is only named on this much evidence (seconds of the load balancer's view).
LOSS_EVIDENCE_S = 45.0
#: A proxied request slower than this counts as slow; a replica with this share of slow
#: requests (and at least MIN_REQUESTS of them) shows packet loss on the way to it.
SLOW_MS, SLOW_SHARE, MIN_REQUESTS = 250.0, 0.08, 10


@dataclass
class Hypothesis:
    """A family, the affected targets, the suspected cause and the evidence, in words."""

    family: str | None
    targets: list[str]
    cause: str = ""
    evidence: list[str] = field(default_factory=list)
    confidence: float = 0.0

    def to_dict(self) -> dict:
        return {"family": self.family, "targets": self.targets, "cause": self.cause,
                "evidence": self.evidence, "confidence": self.confidence}


def _by_replica(metrics: Metrics, promql: str) -> dict[str, float]:
    df = metrics.query(promql)
    if df.empty or "replica" not in df.columns:
        return {}
    return {r: float(v) for r, v in zip(df["replica"], df["value"]) if r == r}


@dataclass
class Signals:
    """Per-replica figures over the last few minutes, as the notebooks query them."""

    disk_used: dict[str, float]
    disk_errors: dict[str, float]
    oom_kills: dict[str, float]
    throttled: dict[str, float]
    cpu_limit: dict[str, float]
    memory_ratio: dict[str, float]
    memory_limit_mb: dict[str, float]
    restarts: dict[str, float]
    lb_up: dict[str, float]
    scrape_up: dict[str, float]
    db_errors: dict[str, float]
    db_log_errors: dict[str, int]
    #: How many seconds of evidence these figures cover.
    window_s: float = 300.0
    #: Per replica, the share of proxied requests that took over SLOW_MS (Traefik's access log).
    lb_slow: dict[str, float] = field(default_factory=dict)

    @classmethod
    def gather(cls, stack: Stack, *, metrics: Metrics | None = None, minutes: float = 5,
               since: float | None = None) -> "Signals":
        """Read the signals over the last `minutes`, or only since `since` (epoch seconds).

        Every window, the fixed one-minute ones included, is cut at `since`: evidence from
        before a game began (the tail of the previous one) must not count in this one.
        """
        m = metrics or Metrics()
        now = time.time()
        seconds = max(15, int(now - since)) if since is not None else max(30, int(minutes * 60))
        w, w1 = f"{seconds}s", f"{min(seconds, 60)}s"
        logs = Logs(backend=stack.backend)
        db_log = {}
        try:
            df = logs.search(text="database unreachable", since=now - seconds, limit=None)
            if not df.empty:
                db_log = {str(k): int(v) for k, v in df.groupby("replica").size().items() if k}
        except ChaosError:  # logs are a second opinion; metrics decide
            db_log = {}
        try:
            lb_slow = _slow_by_replica(stack, logs, since=now - seconds)
        except ChaosError:
            lb_slow = {}
        throttled = (f"sum by (replica) (rate(container_cpu_cfs_throttled_periods_total{{replica!=''}}[{w1}]))"
                     f" / (sum by (replica) (rate(container_cpu_cfs_periods_total{{replica!=''}}[{w1}])) > 0)")
        return cls(
            disk_used=_by_replica(m, "max by (replica) (replica:disk_used:ratio)"),
            disk_errors=_by_replica(m, f"sum by (replica) (increase(pollapp_disk_write_errors_total[{w}]))"),
            oom_kills=_by_replica(m, f"sum by (replica) (increase(container_oom_events_total[{w}]))"),
            throttled=_by_replica(m, throttled),
            cpu_limit=_by_replica(m, "max by (replica) (container_spec_cpu_quota / container_spec_cpu_period)"),
            memory_ratio=_by_replica(m, "max by (replica) (replica:memory_working_set:ratio_limit)"),
            memory_limit_mb=_by_replica(m, "max by (replica) (container_spec_memory_limit_bytes) / 1048576"),
            restarts=_by_replica(m, f"sum by (replica) (increase(chaos_process_restarts_total[{w}]))"),
            lb_up=_by_replica(m, f"avg by (replica) (avg_over_time(traefik_service_server_up[{w1}]))"),
            scrape_up=_by_replica(m, f"avg by (replica) (avg_over_time(up{{job='pollapp'}}[{w1}]))"),
            db_errors=_by_replica(m, f"sum by (replica) (increase(django_db_new_connection_errors_total[{w}]))"),
            db_log_errors=db_log,
            window_s=float(seconds),
            lb_slow=lb_slow,
        )


def _slow_by_replica(stack: Stack, logs: Logs, *, since: float) -> dict[str, float]:
    """From Traefik's JSON access log: per replica, the share of requests slower than SLOW_MS.

    Packet loss between the load balancer and a replica shows here first: lost segments are
    retransmitted after 200 ms or more, so that replica's requests get slow while its peers'
    do not. Replicas with fewer than MIN_REQUESTS requests in the window are left out.
    """
    import json

    replicas = {s.address: s.name for s in stack.status() if s.kind == "replica" and s.address}
    df = logs.search(service="traefik", text="ServiceAddr", since=since, limit=None)
    counts: dict[str, list[int]] = {}
    for line in df.get("line", []):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        name = replicas.get(entry.get("ServiceAddr", ""))
        if name is None or "OriginDuration" not in entry:
            continue
        seen = counts.setdefault(name, [0, 0])
        seen[0] += 1
        seen[1] += entry["OriginDuration"] / 1e6 > SLOW_MS
    return {r: slow / total for r, (total, slow) in counts.items() if total >= MIN_REQUESTS}


def investigate(stack: Stack, *, metrics: Metrics | None = None, minutes: float | None = None) -> Hypothesis:
    """The most likely fault given what the stack shows now (by default: since the game began)."""
    if minutes is not None:
        return diagnose(Signals.gather(stack, metrics=metrics, minutes=minutes))
    from .game import current

    state = current(stack)
    if state is None:
        return diagnose(Signals.gather(stack, metrics=metrics, minutes=5))
    return diagnose(Signals.gather(stack, metrics=metrics, since=state.started_at))


def verdict(stack: Stack, *, timeout: float = 90, interval: float = 5,
            progress: Callable[[str], None] = lambda _: None) -> Hypothesis:
    """Ask until the detective names a family (or `timeout` passes): what the autopilot submits."""
    start = time.monotonic()
    h = investigate(stack)
    while h.family is None and time.monotonic() - start < timeout:
        progress(f"the detective is still looking ({time.monotonic() - start:.0f} s)")
        time.sleep(interval)
        h = investigate(stack)
    return h


def diagnose(s: Signals) -> Hypothesis:
    """Rules an on-call engineer would apply, most specific evidence first."""
    full = sorted(r for r, v in s.disk_used.items() if v >= 0.95)
    if full:
        ev = [f"{r}: disk {s.disk_used[r]:.0%} used" for r in full]
        ev += [f"{r}: {s.disk_errors[r]:.0f} failed disk writes" for r in full if s.disk_errors.get(r, 0) > 0]
        ev += [f"{r}: restarted {s.restarts[r]:.0f} times" for r in full if s.restarts.get(r, 0) >= 1]
        return Hypothesis(DISK, full, "disk full", ev, 0.9)

    oom = sorted(r for r, v in s.oom_kills.items() if v > 0)
    if oom:
        ev = [f"{r}: {s.oom_kills[r]:.0f} OOM kills, memory limit {s.memory_limit_mb.get(r, 0):.0f} MiB" for r in oom]
        return Hypothesis(RESOURCES, oom, "memory limit too low", ev, 0.9)
    starved = sorted(r for r, v in s.cpu_limit.items() if v < 0.2) or \
        sorted(r for r, v in s.throttled.items() if v > 0.5)
    if starved:
        ev = [f"{r}: CPU limit {s.cpu_limit.get(r, float('nan')):.2f} cores, "
              f"throttled {s.throttled.get(r, 0):.0%} of periods" for r in starved]
        return Hypothesis(RESOURCES, starved, "CPU limit too low", ev, 0.85)

    db = sorted(set(r for r, v in s.db_errors.items() if v > 0) | set(s.db_log_errors))
    if db:
        ev = [f"{r}: {s.db_errors.get(r, 0):.0f} database connection errors, "
              f"{s.db_log_errors.get(r, 0)} 'database unreachable' log lines" for r in db]
        return Hypothesis(NETWORK, db, "cut off from the database", ev, 0.8)

    out = sorted(r for r in s.scrape_up if s.scrape_up[r] >= 0.99 and
                 (s.lb_up.get(r, 1.0) < 0.95 or s.lb_slow.get(r, 0.0) >= SLOW_SHARE))
    if out:
        ev = [f"{r}: in the load balancer's rotation {s.lb_up.get(r, 1.0):.0%} of the time, "
              f"{s.lb_slow.get(r, 0.0):.0%} of its proxied requests over {SLOW_MS:.0f} ms, "
              f"yet Prometheus reaches it directly and it has no resource trouble" for r in out]
        if all(s.lb_up.get(r, 1.0) < 0.2 for r in out):
            return Hypothesis(NETWORK, out, "cut off from the load balancer", ev, 0.7)
        if s.window_s < LOSS_EVIDENCE_S:
            # Loss shows as a few failed health checks among many: a short window can miss a
            # replica that suffers it too. Say so rather than name too few targets.
            return Hypothesis(None, [], "possible packet loss, evidence still thin",
                              ev + [f"only {s.window_s:.0f} s of evidence; wait for {LOSS_EVIDENCE_S:.0f} s"], 0.3)
        return Hypothesis(NETWORK, out, "packet loss between the load balancer and the replica", ev, 0.7)
    return Hypothesis(None, [], "no clear cause yet", ["every replica looks normal"], 0.0)
