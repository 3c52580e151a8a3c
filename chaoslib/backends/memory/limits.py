"""CPU and memory limits in memory: checked like cgroups; they act when a replica (re)starts, via `status`."""
from __future__ import annotations

import os

from ...errors import UsageError
from ..base import DEFAULT_LIMITS, Limits, check_memory



class MemoryLimits:
    """get_limits/set_limits/default_limits over each replica's `limits`."""

    def default_limits(self) -> Limits:
        return DEFAULT_LIMITS

    def get_limits(self, *, target: str) -> Limits:
        return self._check_target(target).limits

    def set_limits(self, *, target: str, limits: Limits) -> None:
        s = self._check_target(target)
        cores = os.cpu_count() or 1
        if limits.cpu is not None and not 0.001 <= limits.cpu <= cores:
            raise UsageError(f"cpu limit must be between 0.001 and {cores} cores, got {limits.cpu}",
                             field="cpu", value=limits.cpu)
        check_memory(limits.memory)
        s.limits = Limits(cpu=limits.cpu, memory=limits.memory)
