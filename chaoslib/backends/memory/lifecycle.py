"""Lifecycle and processes in memory: replicas boot, crash-loop and restart like supervised processes."""
from __future__ import annotations

import itertools
import shutil
import time
from dataclasses import dataclass, field

from chaoslib.backends.base import (
    DATABASE,
    LOAD_BALANCER,
    Backend,
    Limits,
    NetworkRule,
    Progress,
    ServiceStatus,
    no_progress,
)
from chaoslib.engine.registry import Registry
from chaoslib.errors import UsageError
from pollapp import releases

#: A replica's working set once booted: a memory limit below it OOM-kills the app at boot.
WORKING_SET_BYTES = 48 * 2**20
#: Below this many cores the app answers health checks too late to count as healthy.
MIN_HEALTHY_CPU = 0.05
#: What the app writes at boot (its boot record): a disk with less free space cannot boot it.
BOOT_BYTES = 4096
#: Services besides the replicas, with their kind (as `status` reports them).
INFRA = {"postgres": "database", "traefik": "proxy", "loadgen": "load"}
MAX_REPLICAS = 9
_pids = itertools.count(20_000)


@dataclass
class MemFile:
    """One file on a replica's in-memory disk."""

    size_bytes: int
    mtime: float
    tag: str = ""


@dataclass
class Service:
    """One supervised service: its state, pid, restarts and, for a replica, its limits and disk."""

    name: str
    kind: str
    state: str = "STOPPED"
    pid: int | None = None
    started_at: float | None = None
    restarts: int = 0
    detail: str = ""
    limits: Limits = Limits()
    disk_size: int = 0
    files: dict[str, MemFile] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    #: A replica's release, and its history: (when it started running it, version), oldest first.
    release: str = ""
    releases: list[tuple[float, str]] = field(default_factory=list)
    #: The knob overrides its release runs with (APP_* variables: set_release's `settings`).
    knobs: dict[str, str] = field(default_factory=dict)


class MemoryLifecycle(Backend):
    """up/down/status/targets and restart/stop/ensure_running/pid_of over `self.services`.

    The base of every memory mixin: the state they share (MemoryBackend sets it) is declared here.
    """

    services: dict[str, Service]
    rules: list[NetworkRule]

    def up(self, *, replicas: int | None = None, progress: Progress = no_progress) -> None:
        if replicas is not None and not 1 <= replicas <= MAX_REPLICAS:
            raise UsageError(f"--replicas must be between 1 and {MAX_REPLICAS}, got {replicas}", field="replicas",
                             value=replicas)
        if self.services:
            have = len(self.targets())
            if replicas is not None and replicas != have:
                raise UsageError(f"the stack is already up with {have} replicas",
                                 hint="run `chaosctl down` first to change the replica count")
        else:
            count = replicas or self.settings.replicas
            self.settings.replicas = count
            for name, kind in INFRA.items():
                self.services[name] = Service(name, kind)
            for i in range(1, count + 1):
                self.services[f"app{i}"] = Service(f"app{i}", "replica", limits=self.default_limits(),
                                                   disk_size=self.settings.disk_mb * 2**20,
                                                   release=releases.CURRENT,
                                                   releases=[(time.time(), releases.CURRENT)])
        for s in self.services.values():
            if s.state != "RUNNING":
                self._start(s)
        progress(f"all {len(self.services)} services running (in memory)")

    def down(self, *, purge: bool = False, progress: Progress = no_progress) -> None:
        self.services.clear()
        self.rules.clear()
        Registry(self.settings.faults_file).close_all(reason="stack down")
        if purge and self.settings.state_dir.exists():
            progress(f"removing {self.settings.state_dir}")
            shutil.rmtree(self.settings.state_dir)

    def is_up(self) -> bool:
        return bool(self.services)

    def targets(self) -> list[str]:
        return [s.name for s in self.services.values() if s.kind == "replica"]

    def status(self) -> list[ServiceStatus]:
        return [self._status(s) for s in self.services.values()]

    def _status(self, s: Service) -> ServiceStatus:
        running = s.state == "RUNNING"
        problem = self._health_problem(s) if running else (s.detail or s.state.lower())
        st = ServiceStatus(name=s.name, kind=s.kind, state=s.state, address=f"memory://{s.name}", pid=s.pid,
                           uptime_s=time.time() - s.started_at if running and s.started_at else None,
                           restarts=s.restarts, healthy=running and not problem, detail=problem or "running",
                           release=s.release)
        if s.kind == "replica":
            used = sum(f.size_bytes for f in s.files.values())
            st.memory_bytes = WORKING_SET_BYTES if running else 0
            st.memory_limit_bytes, st.cpu_limit_cores = s.limits.memory, s.limits.cpu
            st.cpu_seconds, st.disk_used_bytes, st.disk_size_bytes = 0.0, used, s.disk_size
        return st

    def _health_problem(self, s: Service) -> str:
        """Why a running service fails its health check now ("" when it passes)."""
        if s.kind != "replica":
            return ""
        cut = [r for r in self.rules if r.fraction >= 1.0 and (r.source, r.target) == (LOAD_BALANCER, s.name)]
        if cut:
            return "cut off from the load balancer"
        if any((r.source, r.target) == (s.name, DATABASE) for r in self.rules):
            return "database unreachable"
        if s.limits.cpu is not None and s.limits.cpu < MIN_HEALTHY_CPU:
            return f"CPU throttled at {s.limits.cpu} cores: health checks time out"
        if sum(f.size_bytes for f in s.files.values()) >= s.disk_size:
            return "disk full: writes fail with ENOSPC"
        return self._db_problem(s.name)

    def _db_problem(self, name: str) -> str:
        """Why a replica cannot use the database now ("" when it can; memory/database.py knows)."""
        return ""

    def _start(self, s: Service) -> None:
        """Start one service as the supervisor would: a replica that cannot boot crash-loops (BACKOFF)."""
        reason = ""
        if s.kind == "replica":
            if s.limits.memory is not None and s.limits.memory < WORKING_SET_BYTES:
                reason = "OOM-killed while booting: memory limit below the working set"
            elif s.disk_size - sum(f.size_bytes for f in s.files.values()) < BOOT_BYTES:
                reason = "exited at boot: cannot write its boot record (no space left on device)"
        if reason:
            s.state, s.pid, s.started_at, s.detail = "BACKOFF", None, None, reason
            s.restarts += 1
        else:
            s.state, s.pid, s.started_at, s.detail = "RUNNING", next(_pids), time.time(), ""
        s.log.append(f"{time.strftime('%H:%M:%S')} {s.name}: {reason or f'started (pid {s.pid})'}")

    def _service(self, name: str) -> Service:
        if name not in self.services:
            raise UsageError(f"unknown service {name!r}: services are {', '.join(self.services) or 'none (down)'}",
                             field="target", value=name, hint="see `chaosctl status`")
        return self.services[name]

    def _check_target(self, target: str) -> Service:
        if target not in self.targets():
            raise UsageError(f"unknown target {target!r}", field="target", value=target,
                             hint=f"targets are {', '.join(self.targets())}")
        return self.services[target]

    def restart(self, *, target: str) -> None:
        s = self._service(target)
        s.state, s.pid = "STOPPED", None
        self._start(s)

    def stop(self, *, target: str) -> None:
        s = self._service(target)
        s.state, s.pid, s.started_at, s.detail = "STOPPED", None, None, ""

    def ensure_running(self, *, target: str) -> None:
        s = self._service(target)
        if s.state != "RUNNING":
            self._start(s)

    def pid_of(self, *, target: str) -> int | None:
        return self._service(target).pid
