"""The backend contract: the small, honest primitives every backend implements.

Written the way Django writes database backends: this module holds the contract, the
concrete backends (local.py, docker.py) sit beside it, and the rest of chaoslib (faults,
fixes, the game, the notebooks) is written only against `Backend`. A primitive a backend
must provide raises NotImplementedError naming itself; `features` (a Features of commented
booleans) says what a backend can do on this machine (e.g. has_netem only where the kernel
has the netem qdisc).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

#: A progress callback: called with one short line at each step of a long wait.
Progress = Callable[[str], None]


def no_progress(_: str) -> None:
    """The default progress callback: says nothing."""


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
    # Saturation figures, for replicas.
    cpu_seconds: float | None = None
    memory_bytes: int | None = None
    memory_limit_bytes: int | None = None
    cpu_limit_cores: float | None = None
    disk_used_bytes: int | None = None
    disk_size_bytes: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Limits:
    """CPU (in cores) and memory (in bytes) limits of a target; None means unlimited."""

    cpu: float | None = None
    memory: int | None = None


@dataclass(frozen=True)
class DiskUsage:
    """How full a target's own disk is."""

    used_bytes: int
    size_bytes: int

    @property
    def free_bytes(self) -> int:
        return max(0, self.size_bytes - self.used_bytes)

    @property
    def used_ratio(self) -> float:
        return self.used_bytes / self.size_bytes if self.size_bytes else 0.0


@dataclass(frozen=True)
class FileInfo:
    """A file on a target's disk, as an engineer would see it with `du`."""

    path: str  # relative to the disk's root
    size_bytes: int
    mtime: float


@dataclass
class NetworkRule:
    """One network fault rule as the backend holds it."""

    key: str  # the fault id that owns the rule
    source: str  # "lb" (the load balancer) or a replica name
    target: str  # a replica name or "postgres"
    fraction: float  # 1.0 = cut off
    extra: dict = field(default_factory=dict)


#: Sources and targets a network primitive understands besides replica names.
LOAD_BALANCER = "lb"
DATABASE = "postgres"


@dataclass(frozen=True)
class Features:
    """What a backend can do on this machine. Code reads a flag; it never asks which backend it has."""

    #: The kernel has the netem qdisc, so the latency fault (lb-latency) can run.
    has_netem: bool = False
    #: Network faults are firewall rules real packets meet (nftables), not only a record.
    real_network: bool = True
    #: Limits are real cgroups: the OOM killer and CFS throttling act on them.
    real_limits: bool = True
    #: A replica's disk keeps its files across a restart of the replica (a mount outlives the process).
    disk_survives_restart: bool = True
    #: Starting the stack or injecting a fault needs root (nftables, cgroups, mounts).
    needs_root: bool = False
    #: Prometheus and Alertmanager watch the stack, so steady state and pages can be read.
    has_monitoring: bool = True

    def lacks(self, needs: Iterable[str]) -> list[str]:
        """The flags among `needs` this backend does not have (an unknown flag counts as lacking)."""
        return sorted(n for n in needs if not getattr(self, n, False))


class Backend:
    """The contract. Subclasses override every primitive; the base raises NotImplementedError."""

    #: Short name used by `--backend` and in messages.
    name: str = "base"
    #: What this backend can do on this machine (see Features).
    features: Features = Features()

    def _missing(self, primitive: str) -> NotImplementedError:
        return NotImplementedError(f"{type(self).__name__} must implement Backend.{primitive}()")

    # -- lifecycle ----------------------------------------------------------------
    def up(self, *, replicas: int | None = None, progress: Progress = no_progress) -> None:
        """Start the whole stack and return once every service is healthy."""
        raise self._missing("up")

    def down(self, *, purge: bool = False, progress: Progress = no_progress) -> None:
        """Stop everything; leave no process, mount, cgroup or rule behind."""
        raise self._missing("down")

    def is_up(self) -> bool:
        """True when the stack's supervisor (or engine project) is running."""
        raise self._missing("is_up")

    def status(self) -> list[ServiceStatus]:
        """Every service with its state, health and restarts; replicas with saturation."""
        raise self._missing("status")

    def targets(self) -> list[str]:
        """The names of the app replicas faults can target (app1, app2, ...)."""
        raise self._missing("targets")

    # -- processes ----------------------------------------------------------------
    def restart(self, *, target: str) -> None:
        """Restart a service (a replica, or infrastructure) as an operator would."""
        raise self._missing("restart")

    def stop(self, *, target: str) -> None:
        """Stop a service and keep it stopped."""
        raise self._missing("stop")

    def ensure_running(self, *, target: str) -> None:
        """Start a service if it is not running (stopped, FATAL, or backing off in a crash loop)."""
        raise self._missing("ensure_running")

    def pid_of(self, *, target: str) -> int | None:
        """The main pid of a service, or None when it is not running."""
        raise self._missing("pid_of")

    # -- network ------------------------------------------------------------------
    def drop_packets(self, *, key: str, source: str, target: str, fraction: float) -> None:
        """Drop `fraction` (0 < f <= 1) of the packets from `source` to `target`, tagged with `key`."""
        raise self._missing("drop_packets")

    def delay_packets(self, *, key: str, source: str, target: str, delay_ms: int) -> None:
        """Add latency between `source` and `target` (needs the "netem" feature)."""
        raise self._missing("delay_packets")

    def remove_network_rules(self, *, key: str) -> int:
        """Remove every network rule tagged with `key`; return how many were removed."""
        raise self._missing("remove_network_rules")

    def network_rules(self) -> list[NetworkRule]:
        """The network fault rules currently in force."""
        raise self._missing("network_rules")

    # -- disk ---------------------------------------------------------------------
    def disk_usage(self, *, target: str) -> DiskUsage:
        """How full a replica's own disk is."""
        raise self._missing("disk_usage")

    def write_file(self, *, target: str, path: str, size_bytes: int, tag: str = "") -> int:
        """Write up to `size_bytes` of junk at `path` on a replica's disk (until it is full).

        `tag` marks the file as a fault's junk in a way `ls` does not show, so that
        `reset_faults` can find it without the registry.
        """
        raise self._missing("write_file")

    def list_files(self, *, target: str) -> list[FileInfo]:
        """Every file on a replica's disk, largest first."""
        raise self._missing("list_files")

    def remove_file(self, *, target: str, path: str) -> bool:
        """Remove one file (relative path) from a replica's disk; False if it was not there."""
        raise self._missing("remove_file")

    # -- resources ----------------------------------------------------------------
    def get_limits(self, *, target: str) -> Limits:
        """The CPU and memory limits of a replica."""
        raise self._missing("get_limits")

    def set_limits(self, *, target: str, limits: Limits) -> None:
        """Set a replica's CPU and memory limits (takes effect for new processes at least)."""
        raise self._missing("set_limits")

    def default_limits(self) -> Limits:
        """The limits a replica has in a healthy stack."""
        raise self._missing("default_limits")

    # -- logs ---------------------------------------------------------------------
    def log_files(self) -> dict[str, list[Path]]:
        """Captured log files by service (native), for the log search engine."""
        raise self._missing("log_files")

    def tail_log(self, *, service: str, lines: int = 20) -> str:
        """The last lines a service wrote."""
        raise self._missing("tail_log")

    def vote_ledger(self) -> list[dict] | None:
        """The load generator's ledger of vote attempts (`ack` true for an acknowledged vote).

        Optional: a backend that cannot read it returns None, and the postmortem says so.
        """
        return None

    # -- safety -------------------------------------------------------------------
    def reset_faults(self) -> list[str]:
        """Remove every trace any fault could leave (rules, limits, junk); say what was done.

        The last line of defence behind `panic`: it needs no record of what was injected.
        """
        raise self._missing("reset_faults")

    def fault_footprint(self) -> dict:
        """A snapshot of everything faults can change (rules, limits, disk use, pids).

        Tests compare it before and after to prove the host is exactly as before.
        """
        raise self._missing("fault_footprint")


def check_fraction(fraction: float) -> float:
    """Validate a packet-loss fraction: 0 < f <= 1."""
    from ..errors import UsageError

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
    return [s.name for s in items]
