"""The contract's resource primitives: read and set a replica's CPU and memory limits."""
from __future__ import annotations

from chaoslib.backends.base.contract import Contract
from chaoslib.backends.base.types import Limits, OomKill


class LimitPrimitives(Contract):
    """CPU and memory limits of the replicas."""

    def get_limits(self, *, target: str) -> Limits:
        """The CPU and memory limits of a replica."""
        raise self._missing("get_limits")

    def set_limits(self, *, target: str, limits: Limits) -> None:
        """Set a replica's CPU and memory limits (takes effect for new processes at least)."""
        raise self._missing("set_limits")

    def default_limits(self) -> Limits:
        """The limits a replica has in a healthy stack."""
        raise self._missing("default_limits")

    def oom_kills(self, *, since: float) -> dict[str, list[OomKill]]:
        """The OOM kills of each replica since `since` (epoch seconds), from the engine's own record of events.

        Optional: a backend whose metrics keep counting a replica's OOM kills across its restarts
        (the native cgroups persist) returns none, and the metrics tell. Never from a flag that
        outlives a restart: only a kill that happened after `since` counts.
        """
        return {}
