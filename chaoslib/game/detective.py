"""The detective: reads only what the player can see and names every fault it finds.

It looks at the same signals the notebooks show (saturation and golden-signal metrics,
the load balancer's view of each server, restarts, the logs) and returns a hypothesis of one
finding per fault, with its evidence. Each family's rule lives in its module in
chaoslib/faults/; rules run in priority order, and a replica explained by a stronger rule
is not blamed again, so two faults on two replicas are both named. It backs the hint
engine, and CI's autopilot uses it to play unattended.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from chaoslib import faults
from chaoslib.backends.base import Progress, no_progress
from chaoslib.errors import ChaosError
from chaoslib.faults import Finding, Pending, Signals
from chaoslib.faults.network import LOSS_EVIDENCE_S, NETWORK, SLOW_MS, SLOW_SHARE  # noqa: F401 (the tests' vocabulary)
from chaoslib.observe.metrics import Metrics
from chaoslib.stack import Stack

__all__ = ["Hypothesis", "Signals", "gather", "diagnose", "investigate", "verdict", "LOSS_EVIDENCE_S", "NETWORK"]


@dataclass
class Hypothesis:
    """One finding per fault named (a family, its replicas, why), or why nothing is named yet."""

    findings: list[Finding] = field(default_factory=list)
    #: Families whose evidence is still thin: the detective waits for them before answering.
    pending: list[Pending] = field(default_factory=list)

    @property
    def named(self) -> bool:
        """True when it names something and waits for nothing."""
        return bool(self.findings) and not self.pending

    @property
    def family(self) -> str | None:
        """The family named ("a+b" for two faults), or None while nothing is named."""
        return "+".join(f.family for f in self.findings) if self.named else None

    @property
    def targets(self) -> list[str]:
        """Every replica named, sorted."""
        return sorted({t for f in self.findings for t in f.targets}) if self.named else []

    @property
    def cause(self) -> str:
        if self.pending:
            return "; ".join(p.reason for p in self.pending)
        return "; ".join(f.cause for f in self.findings) or "no clear cause yet"

    @property
    def evidence(self) -> list[str]:
        ev = [e for f in self.findings for e in f.evidence] + [e for p in self.pending for e in p.evidence]
        return ev or ["every replica looks normal"]

    @property
    def confidence(self) -> float:
        return min((f.confidence for f in self.findings), default=0.0) if self.named else 0.0

    def said(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """What it names, comparable with the truth: sorted (family, replicas) pairs."""
        return tuple(sorted(f.key() for f in self.findings)) if self.named else ()

    def to_dict(self) -> dict[str, Any]:
        return {"family": self.family, "targets": self.targets, "cause": self.cause, "evidence": self.evidence,
                "confidence": self.confidence,
                "findings": [{"family": f.family, "targets": sorted(f.targets), "cause": f.cause}
                             for f in self.findings] if self.named else []}


def gather(stack: Stack, *, metrics: Metrics | None, minutes: float = 5, since: float | None = None) -> Signals:
    """Read every family's signals over the last `minutes`, or only since `since` (epoch seconds).

    Every window, the fixed one-minute ones included, is cut at `since`: evidence from
    before a game began (the tail of the previous one) must not count in this one. Without
    monitoring (`metrics` None) the Prometheus signals read as empty.
    """
    now = time.time()
    seconds = max(15, int(now - since)) if since is not None else max(30, int(minutes * 60))
    w, w1 = f"{seconds}s", f"{min(seconds, 60)}s"
    values: dict[str, dict[str, float]] = {}
    for fam in faults.FAMILIES.values():
        for name, promql in fam.queries.items():
            if name not in values:
                values[name] = _by_replica(metrics, promql.format(w=w, w1=w1)) if metrics is not None else {}
        values.update({name: {} for name in fam.gathered if name not in values})
        if fam.gather is not None:
            try:
                # Cut at the game's start itself: the PromQL ranges need 15 s at least, a log line or
                # an engine event from just before the start is the previous game's.
                values.update(fam.gather(stack, since if since is not None else now - seconds))
            except ChaosError:  # a second opinion that cannot be read counts as nothing seen
                pass
    return Signals(window_s=seconds, **values)


def _by_replica(metrics: Metrics, promql: str) -> dict[str, float]:
    df = metrics.query(promql)
    if df.empty or "replica" not in df.columns:
        return {}
    return {r: float(v) for r, v in zip(df["replica"], df["value"], strict=True) if r == r}


def diagnose(s: Signals) -> Hypothesis:
    """Every family's rule, most specific evidence first; each replica is blamed on one fault at most."""
    found: list[Finding] = []
    pending: list[Pending] = []
    claimed: set[str] = set()
    for fam in faults.by_priority():
        said = fam.rule(s, claimed)
        if isinstance(said, Finding) and said.targets:
            found.append(said)
            claimed |= set(said.targets)
        elif isinstance(said, Pending):
            pending.append(said)
    return Hypothesis(found, pending)


def investigate(stack: Stack, *, metrics: Metrics | None, since: float | None = None,
                minutes: float = 5) -> Hypothesis:
    """The likely faults given what the stack shows now: since `since` (a game's start), else the last `minutes`."""
    return diagnose(gather(stack, metrics=metrics, since=since, minutes=minutes))


def verdict(stack: Stack, *, metrics: Metrics | None, since: float | None, timeout: float = 90, interval: float = 5,
            progress: Progress = no_progress) -> Hypothesis:
    """Ask until the detective names something (or `timeout` passes): what the autopilot submits."""
    start = time.monotonic()
    h = investigate(stack, metrics=metrics, since=since)
    while not h.named and time.monotonic() - start < timeout:
        progress(f"the detective is still looking ({time.monotonic() - start:.0f} s)")
        time.sleep(interval)
        h = investigate(stack, metrics=metrics, since=since)
    return h
