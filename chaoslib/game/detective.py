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
from typing import Callable

from chaoslib import faults
from chaoslib.errors import ChaosError
from chaoslib.faults import Finding, Pending
from chaoslib.faults.network import LOSS_EVIDENCE_S, NETWORK, SLOW_MS, SLOW_SHARE  # noqa: F401 (the tests' vocabulary)
from chaoslib.observe.metrics import Metrics
from chaoslib.stack import Stack

__all__ = ["Hypothesis", "Signals", "diagnose", "investigate", "verdict", "LOSS_EVIDENCE_S", "NETWORK"]


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

    def to_dict(self) -> dict:
        return {"family": self.family, "targets": self.targets, "cause": self.cause, "evidence": self.evidence,
                "confidence": self.confidence,
                "findings": [{"family": f.family, "targets": sorted(f.targets), "cause": f.cause}
                             for f in self.findings] if self.named else []}


class Signals:
    """Per-replica figures over the last few minutes, as the notebooks query them, by signal name.

    Each family says which it reads (its `queries` and `gather`); a signal nobody measured
    reads as empty, so a rule never fails on a missing series.
    """

    def __init__(self, window_s: float = 300.0, **values: dict[str, float]) -> None:
        #: How many seconds of evidence these figures cover.
        self.window_s = float(window_s)
        self.values = {k: dict(v) for k, v in values.items()}

    def __getattr__(self, name: str) -> dict[str, float]:
        if name.startswith("__") or name in ("values", "window_s"):
            raise AttributeError(name)
        return self.values.get(name, {})

    def __repr__(self) -> str:
        return f"Signals(window_s={self.window_s:.0f}, {self.values!r})"

    @classmethod
    def gather(cls, stack: Stack, *, metrics: Metrics | None = None, minutes: float = 5,
               since: float | None = None) -> "Signals":
        """Read every family's signals over the last `minutes`, or only since `since` (epoch seconds).

        Every window, the fixed one-minute ones included, is cut at `since`: evidence from
        before a game began (the tail of the previous one) must not count in this one.
        """
        now = time.time()
        seconds = max(15, int(now - since)) if since is not None else max(30, int(minutes * 60))
        w, w1 = f"{seconds}s", f"{min(seconds, 60)}s"
        values: dict[str, dict[str, float]] = {}
        m = metrics or (Metrics() if stack.backend.features.has_monitoring else None)
        for fam in faults.FAMILIES.values():
            for name, promql in fam.queries.items():
                if m is not None and name not in values:
                    values[name] = _by_replica(m, promql.format(w=w, w1=w1))
            if fam.gather is not None:
                try:
                    values.update(fam.gather(stack, now - seconds))
                except ChaosError:  # a second opinion that cannot be read counts as nothing seen
                    pass
        return cls(window_s=seconds, **values)


def _by_replica(metrics: Metrics, promql: str) -> dict[str, float]:
    df = metrics.query(promql)
    if df.empty or "replica" not in df.columns:
        return {}
    return {r: float(v) for r, v in zip(df["replica"], df["value"]) if r == r}


def diagnose(s: Signals) -> Hypothesis:
    """Every family's rule, most specific evidence first; each replica is blamed on one fault at most."""
    found, pending, claimed = [], [], set()
    for fam in faults.by_priority():
        said = fam.rule(s, claimed)
        if isinstance(said, Finding) and said.targets:
            found.append(said)
            claimed |= set(said.targets)
        elif isinstance(said, Pending):
            pending.append(said)
    return Hypothesis(found, pending)


def investigate(stack: Stack, *, metrics: Metrics | None = None, minutes: float | None = None) -> Hypothesis:
    """The likely faults given what the stack shows now (by default: since the game began)."""
    if minutes is not None:
        return diagnose(Signals.gather(stack, metrics=metrics, minutes=minutes))
    from chaoslib.game.session import current

    state = current(stack)
    if state is None:
        return diagnose(Signals.gather(stack, metrics=metrics, minutes=5))
    return diagnose(Signals.gather(stack, metrics=metrics, since=state.started_at))


def verdict(stack: Stack, *, timeout: float = 90, interval: float = 5,
            progress: Callable[[str], None] = lambda _: None) -> Hypothesis:
    """Ask until the detective names something (or `timeout` passes): what the autopilot submits."""
    start = time.monotonic()
    h = investigate(stack)
    while not h.named and time.monotonic() - start < timeout:
        progress(f"the detective is still looking ({time.monotonic() - start:.0f} s)")
        time.sleep(interval)
        h = investigate(stack)
    return h
