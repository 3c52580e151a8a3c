"""Resource faults on the native stack: each replica's cgroup CPU and memory limits."""
from __future__ import annotations

from chaoslib.backends.base import DEFAULT_LIMITS, Limits, check_limits
from chaoslib.backends.local.state import LocalState
from chaoslib.errors import FaultError


class LocalLimits(LocalState):
    """Read and set a replica's cgroup limits."""

    def default_limits(self) -> Limits:
        return DEFAULT_LIMITS

    def get_limits(self, *, target: str) -> Limits:
        self._check_target(target)
        return Limits(cpu=self.cgroups.get_cpu(target), memory=self.cgroups.get_memory(target))

    def set_limits(self, *, target: str, limits: Limits) -> None:
        if target not in self.settings.replica_names():
            self._check_target(target)
        check_limits(limits)
        try:
            self.cgroups.set_cpu(target, limits.cpu)
            self.cgroups.set_memory(target, limits.memory)
        except OSError as e:
            if e.errno == 16:  # EBUSY: below what the running process uses
                raise FaultError(f"cannot set {target}'s memory limit below what it uses now",
                                 hint="stop or restart the replica with the new limit") from e
            raise FaultError(f"cannot set limits of {target}: {e}") from e
