"""CPU and memory limits in memory: checked like cgroups; they act when a replica (re)starts, via `status`."""
from __future__ import annotations

import os

from ...errors import UsageError
from ..base import Limits

#: Healthy-stack limits of each replica (as the local backend's).
DEFAULT_LIMITS = Limits(cpu=1.0, memory=512 * 1024 * 1024)


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
        if limits.memory is not None and not 4 * 1024 * 1024 <= limits.memory <= 64 * 1024 ** 3:
            raise UsageError(f"memory limit must be between 4 MiB and 64 GiB, got {limits.memory} bytes",
                             field="memory", value=limits.memory)
        s.limits = Limits(cpu=limits.cpu, memory=limits.memory)
