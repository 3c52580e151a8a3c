"""What `chaosctl status` shows for the native stack: each service's state, health and saturation."""
from __future__ import annotations

import concurrent.futures

from chaoslib.backends.base import ServiceStatus
from chaoslib.backends.local.state import LocalState
from chaoslib.kernel import disks, procmem
from chaoslib.native.programs import Program
from chaoslib.native.restarts import load as load_restarts
from chaoslib.native.supervisor import RUNNING, STARTING


class LocalStatus(LocalState):
    """Every service from supervisord, probed; replicas with their cgroup and disk figures."""

    def status(self) -> list[ServiceStatus]:
        if not self.supervisor.running():
            return []
        infos = {i["name"]: i for i in self.supervisor.info()}
        counts = load_restarts(self.settings.run_dir / "restarts.json")
        progs = [p for p in self._programs() if p.name in infos]

        def one(p: Program) -> ServiceStatus:
            info = infos[p.name]
            running = info["statename"] == RUNNING
            healthy, detail = (False, info.get("spawnerr") or info["statename"].lower())
            if running or (info["statename"] == STARTING and p.probe is not None):
                # Inside supervisord's startsecs a service that passes its health check is healthy.
                healthy, detail = p.probe() if p.probe else (True, "running")
            st = ServiceStatus(name=p.name, kind=p.kind, state=info["statename"], address=p.address,
                               pid=info["pid"] or None, uptime_s=(info["now"] - info["start"]) if running else None,
                               restarts=int(counts.get(p.name, {}).get("restarts", 0)), healthy=healthy,
                               detail=detail, release=p.env.get("APP_RELEASE", "") if p.kind == "replica" else "")
            if p.kind == "replica":
                self._add_saturation(st)
            return st

        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            return list(pool.map(one, progs))

    def _add_saturation(self, st: ServiceStatus) -> None:
        if self.cgroups.exists(st.name):
            stats = self.cgroups.stats(st.name)
            st.cpu_seconds = round(stats.cpu_usage_seconds, 3)
            st.memory_bytes = stats.memory_working_set_bytes
            st.memory_limit_bytes = stats.memory_limit_bytes or None
            st.cpu_limit_cores = self.cgroups.get_cpu(st.name)
        disk = self.settings.disk_path(st.name)
        if disks.is_mounted(disk):
            u = disks.usage(disk)
            st.disk_used_bytes, st.disk_size_bytes = u.used_bytes, u.size_bytes

    def service_pids(self) -> dict[str, list[int]]:
        """Each running program's process tree under supervisord, plus supervisord itself and its listener.

        JupyterLab (not `core`) is left out: it is the engineer's notebook, not the stack.
        """
        if not self.supervisor.running():
            return {}
        core = {p.name: p.core for p in self._programs()}  # absent: the restart counter (an event listener)
        children = procmem.children_map()
        out: dict[str, list[int]] = {}
        for info in self.supervisor.info():
            if info["statename"] == RUNNING and info["pid"] and core.get(info["name"], True):
                out[info["name"]] = procmem.process_tree(info["pid"], children)
        try:
            out["supervisord"] = [int((self.settings.run_dir / "supervisord.pid").read_text().strip())]
        except (FileNotFoundError, ValueError):
            pass
        return out
