"""CPU and memory limits in memory: checked like cgroups; they act when a replica (re)starts, via `status`."""
from __future__ import annotations

from chaoslib.backends.base import DEFAULT_LIMITS, Limits, check_limits
from chaoslib.backends.memory.lifecycle import MemoryLifecycle


class MemoryLimits(MemoryLifecycle):
    """get_limits/set_limits/default_limits over each replica's `limits`."""

    def default_limits(self) -> Limits:
        return DEFAULT_LIMITS

    def get_limits(self, *, target: str) -> Limits:
        return self._check_target(target).limits

    def set_limits(self, *, target: str, limits: Limits) -> None:
        s = self._check_target(target)
        check_limits(limits)
        s.limits = Limits(cpu=limits.cpu, memory=limits.memory)
