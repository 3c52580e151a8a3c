"""Per-replica cgroups (v1 cpu + cpuacct + memory, or v2 unified), owned by the project.

Every group lives under `chaos/` in each hierarchy, so a fault can only ever touch the
project's own groups. Figures are read in the units cAdvisor reports.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from chaoslib.errors import PrerequisiteError

ROOT = Path("/sys/fs/cgroup")
PARENT = "chaos"
CPU_PERIOD_US = 100_000


def _is_v2(root: Path = ROOT) -> bool:
    return (root / "cgroup.controllers").exists()


@dataclass
class CgroupStats:
    """One group's figures, named as cAdvisor names them."""

    cpu_usage_seconds: float
    cpu_periods: int
    cpu_throttled_periods: int
    cpu_throttled_seconds: float
    cpu_quota_us: int  # -1 when unlimited
    cpu_period_us: int
    memory_usage_bytes: int
    memory_working_set_bytes: int
    memory_limit_bytes: int  # 0 when unlimited
    memory_failcnt: int
    oom_kills: int


class Cgroups:
    """The project's cgroups: create, join, limit, read, remove."""

    def __init__(self, root: Path = ROOT) -> None:
        self.root = root
        self.v2 = _is_v2(root)

    # -- paths ------------------------------------------------------------------
    def _dirs(self, name: str) -> dict[str, Path]:
        if self.v2:
            return {"unified": self.root / PARENT / name}
        return {c: self.root / c / PARENT / name for c in ("cpu", "cpuacct", "memory")}

    def check(self) -> None:
        """Fail with a clear message when the controllers we need are not mounted."""
        if self.v2:
            controllers = (self.root / "cgroup.controllers").read_text().split()
            missing = {"cpu", "memory"} - set(controllers)
        else:
            missing = {c for c in ("cpu", "cpuacct", "memory") if not (self.root / c / "cgroup.procs").exists()}
        if missing:
            raise PrerequisiteError(f"cgroup controllers not available: {', '.join(sorted(missing))}",
                                    hint="the native backend needs the cpu and memory cgroup controllers")

    def exists(self, name: str) -> bool:
        return all(d.is_dir() for d in self._dirs(name).values())

    def create(self, name: str) -> None:
        """Create the group in every hierarchy (idempotent)."""
        if self.v2:
            parent = self.root / PARENT
            parent.mkdir(exist_ok=True)
            _write(self.root / "cgroup.subtree_control", "+cpu +memory", ignore_errors=True)
            _write(parent / "cgroup.subtree_control", "+cpu +memory", ignore_errors=True)
        for d in self._dirs(name).values():
            d.mkdir(parents=True, exist_ok=True)

    def join(self, name: str, pid: int) -> None:
        """Move a process into the group."""
        for d in self._dirs(name).values():
            _write(d / "cgroup.procs", str(pid))

    def pids(self, name: str) -> list[int]:
        found: set[int] = set()
        for d in self._dirs(name).values():
            try:
                found.update(int(x) for x in (d / "cgroup.procs").read_text().split())
            except FileNotFoundError:
                pass
        return sorted(found)

    def remove(self, name: str, *, timeout: float = 5.0) -> None:
        """Remove the group (its processes must have exited); then the parent if empty."""
        deadline = time.monotonic() + timeout
        for d in self._dirs(name).values():
            while d.exists():
                try:
                    d.rmdir()
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
        self.remove_parent_if_empty()

    def remove_parent_if_empty(self) -> None:
        parents = [self.root / PARENT] if self.v2 else [self.root / c / PARENT for c in ("cpu", "cpuacct", "memory")]
        for p in parents:
            try:
                if p.is_dir() and not any(x.is_dir() for x in p.iterdir()):
                    p.rmdir()
            except OSError:
                pass

    def groups(self) -> list[str]:
        """Every group under the project's parent."""
        base = self.root / PARENT if self.v2 else self.root / "memory" / PARENT
        if not base.is_dir():
            return []
        return sorted(p.name for p in base.iterdir() if p.is_dir())

    def leftovers(self) -> list[str]:
        """Paths of any project cgroup directory still present (for `down` and tests)."""
        parents = [self.root / PARENT] if self.v2 else [self.root / c / PARENT for c in ("cpu", "cpuacct", "memory")]
        return [str(p) for p in parents if p.exists()]

    # -- limits -----------------------------------------------------------------
    def set_cpu(self, name: str, cores: float | None) -> None:
        """Limit CPU to `cores` (None = unlimited) with CFS quota."""
        quota = -1 if cores is None else max(1000, int(cores * CPU_PERIOD_US))
        d = self._dirs(name)
        if self.v2:
            _write(d["unified"] / "cpu.max", f"{'max' if quota < 0 else quota} {CPU_PERIOD_US}")
        else:
            _write(d["cpu"] / "cpu.cfs_period_us", str(CPU_PERIOD_US))
            _write(d["cpu"] / "cpu.cfs_quota_us", str(quota))

    def get_cpu(self, name: str) -> float | None:
        d = self._dirs(name)
        if self.v2:
            max_quota, max_period = (d["unified"] / "cpu.max").read_text().split()
            return None if max_quota == "max" else int(max_quota) / int(max_period)
        quota = int((d["cpu"] / "cpu.cfs_quota_us").read_text())
        period = int((d["cpu"] / "cpu.cfs_period_us").read_text())
        return None if quota < 0 else quota / period

    def set_memory(self, name: str, limit: int | None) -> None:
        """Limit memory (bytes, None = unlimited). Below current usage the kernel may refuse."""
        d = self._dirs(name)
        if self.v2:
            _write(d["unified"] / "memory.max", "max" if limit is None else str(limit))
            return
        _write(d["memory"] / "memory.limit_in_bytes", "-1" if limit is None else str(limit))

    def get_memory(self, name: str) -> int | None:
        d = self._dirs(name)
        if self.v2:
            raw = (d["unified"] / "memory.max").read_text().strip()
            return None if raw == "max" else int(raw)
        value = int((d["memory"] / "memory.limit_in_bytes").read_text())
        return None if value >= (1 << 62) else value

    # -- figures ----------------------------------------------------------------
    def stats(self, name: str) -> CgroupStats:
        """Read the group's CPU and memory figures."""
        d = self._dirs(name)
        if self.v2:
            return self._stats_v2(d["unified"])
        cpu_stat = _kv(d["cpu"] / "cpu.stat")
        mem_stat = _kv(d["memory"] / "memory.stat")
        usage = int((d["memory"] / "memory.usage_in_bytes").read_text())
        inactive = mem_stat.get("total_inactive_file", 0)
        limit = self.get_memory(name) or 0
        oom = _kv(d["memory"] / "memory.oom_control").get("oom_kill", 0)
        return CgroupStats(
            cpu_usage_seconds=int((d["cpuacct"] / "cpuacct.usage").read_text()) / 1e9,
            cpu_periods=cpu_stat.get("nr_periods", 0),
            cpu_throttled_periods=cpu_stat.get("nr_throttled", 0),
            cpu_throttled_seconds=cpu_stat.get("throttled_time", 0) / 1e9,
            cpu_quota_us=int((d["cpu"] / "cpu.cfs_quota_us").read_text()),
            cpu_period_us=int((d["cpu"] / "cpu.cfs_period_us").read_text()),
            memory_usage_bytes=usage,
            memory_working_set_bytes=max(0, usage - inactive),
            memory_limit_bytes=limit,
            memory_failcnt=int((d["memory"] / "memory.failcnt").read_text()),
            oom_kills=oom,
        )

    def _stats_v2(self, d: Path) -> CgroupStats:
        cpu_stat = _kv(d / "cpu.stat")
        mem_stat = _kv(d / "memory.stat")
        usage = int((d / "memory.current").read_text())
        quota, period = (d / "cpu.max").read_text().split()
        events = _kv(d / "memory.events")
        raw_max = (d / "memory.max").read_text().strip()
        return CgroupStats(
            cpu_usage_seconds=cpu_stat.get("usage_usec", 0) / 1e6,
            cpu_periods=cpu_stat.get("nr_periods", 0),
            cpu_throttled_periods=cpu_stat.get("nr_throttled", 0),
            cpu_throttled_seconds=cpu_stat.get("throttled_usec", 0) / 1e6,
            cpu_quota_us=-1 if quota == "max" else int(quota),
            cpu_period_us=int(period),
            memory_usage_bytes=usage,
            memory_working_set_bytes=max(0, usage - mem_stat.get("inactive_file", 0)),
            memory_limit_bytes=0 if raw_max == "max" else int(raw_max),
            memory_failcnt=events.get("max", 0),
            oom_kills=events.get("oom_kill", 0),
        )


def _kv(path: Path) -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        text = path.read_text()
    except FileNotFoundError:
        return out
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("-").isdigit():
            out[parts[0]] = int(parts[1])
    return out


def _write(path: Path, value: str, *, ignore_errors: bool = False) -> None:
    try:
        fd = os.open(path, os.O_WRONLY)
        try:
            os.write(fd, value.encode())
        finally:
            os.close(fd)
    except OSError:
        if not ignore_errors:
            raise
