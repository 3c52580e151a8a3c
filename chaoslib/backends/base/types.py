"""The values the backend contract speaks in: statuses, limits, disk figures, network rules, progress."""
from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from chaoslib.errors import UsageError
from chaoslib.kernel.disks import DiskUsage, FileInfo
from chaoslib.progress import Progress, no_progress

__all__ = ["DATABASE", "LOAD_BALANCER", "DiskUsage", "FileInfo", "Limits", "NetworkRule", "OomKill", "Progress",
           "ServiceStatus", "check_fraction", "names", "no_progress"]


@dataclass
class ServiceStatus:
    """One service of the stack as `status` reports it."""

    name: str
    kind: str  # "replica", "database", "proxy", "monitoring", "load", "control"
    state: str  # RUNNING, STARTING, BACKOFF, EXITED, FATAL, STOPPED, ...
    address: str = ""
    pid: int | None = None
    uptime_s: float | None = None
    restarts: int = 0
    healthy: bool = False
    detail: str = ""
    #: The app's release a replica runs (pollapp/releases.py); empty for the other services.
    release: str = ""
    #: The engine says the last exit was the OOM killer's (docker's State.OOMKilled); False when it cannot tell.
    oom_killed: bool = False
    # Saturation figures, for replicas.
    cpu_seconds: float | None = None
    memory_bytes: int | None = None
    memory_limit_bytes: int | None = None
    cpu_limit_cores: float | None = None
    disk_used_bytes: int | None = None
    disk_size_bytes: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Limits:
    """CPU (in cores) and memory (in bytes) limits of a target; None means unlimited."""

    cpu: float | None = None
    memory: int | None = None


@dataclass(frozen=True)
class OomKill:
    """One OOM kill of a replica: when, and the memory limit in force then (None when it cannot be told)."""

    at: float
    memory_limit_bytes: int | None


#: The limits a replica has in a healthy stack, on every backend.
DEFAULT_LIMITS = Limits(cpu=1.0, memory=512 * 2**20)
#: The memory limits every backend accepts (the Docker Engine refuses less than 6 MiB).
MIN_MEMORY_BYTES, MAX_MEMORY_BYTES = 6 * 2**20, 64 * 2**30


def check_limits(limits: Limits) -> None:
    """A one-line UsageError unless both limits are ones every backend accepts (CPU up to this machine's cores)."""
    cores = os.cpu_count() or 1
    if limits.cpu is not None and not 0.001 <= limits.cpu <= cores:
        raise UsageError(f"cpu limit must be between 0.001 and {cores} cores, got {limits.cpu}",
                         field="cpu", value=limits.cpu)
    check_memory(limits.memory)


def check_memory(memory: int | None) -> None:
    """A one-line UsageError unless `memory` (bytes) is None or a limit every backend accepts."""
    if memory is not None and not MIN_MEMORY_BYTES <= memory <= MAX_MEMORY_BYTES:
        raise UsageError(f"memory limit must be between {MIN_MEMORY_BYTES // 2**20} MiB and "
                         f"{MAX_MEMORY_BYTES // 2**30} GiB, got {memory} bytes", field="memory", value=memory)


@dataclass
class NetworkRule:
    """One network fault rule as the backend holds it."""

    key: str  # the fault id that owns the rule
    source: str  # "lb" (the load balancer) or a replica name
    target: str  # a replica name or "postgres"
    fraction: float  # 1.0 = cut off
    extra: dict[str, Any] = field(default_factory=dict)


#: Sources and targets a network primitive understands besides replica names.
LOAD_BALANCER = "lb"
DATABASE = "postgres"


def check_fraction(fraction: float) -> float:
    """Validate a packet-loss fraction: 0 < f <= 1."""
    try:
        value = float(fraction)
    except (TypeError, ValueError) as e:
        raise UsageError(f"loss fraction must be a number, got {fraction!r}", field="fraction",
                         value=fraction) from e
    if not 0.0 < value <= 1.0:
        raise UsageError(f"loss fraction must be in (0, 1], got {value}", field="fraction", value=value,
                         hint="use e.g. 0.3 for 30 percent")
    return value


def names(items: Iterable[ServiceStatus]) -> list[str]:
    """The names of some services, in order."""
    return [s.name for s in items]
