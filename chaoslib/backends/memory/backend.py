"""MemoryBackend: the contract's primitives composed over in-memory state, so logic tests need no root or stack."""
from __future__ import annotations

from chaoslib.backends.base import Backend, Features, NetworkRule
from chaoslib.backends.memory.database import MemoryDatabase
from chaoslib.backends.memory.disks import MemoryDisks
from chaoslib.backends.memory.lifecycle import MemoryLifecycle, Service
from chaoslib.backends.memory.limits import MemoryLimits
from chaoslib.backends.memory.logs import MemoryLogs
from chaoslib.backends.memory.network import MemoryNetwork
from chaoslib.backends.memory.releases import MemoryReleases
from chaoslib.config import Settings
from pollapp import releases


class MemoryBackend(MemoryNetwork, MemoryDisks, MemoryLimits, MemoryLogs, MemoryReleases, MemoryDatabase,
                    MemoryLifecycle, Backend):
    """A stack that lives in one Python object: state changes as the contract says, nothing real moves."""

    name = "memory"
    features = Features(has_netem=False, real_network=False, real_limits=False, disk_survives_restart=True,
                        needs_root=False, has_monitoring=False, log_lines=True,
                        load_burst=True, releases=True, database_sessions=True)

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.services: dict[str, Service] = {}
        self.rules: list[NetworkRule] = []
        self.held = []

    def reset_faults(self) -> list[str]:
        done = []
        if self.rules:
            done.append(f"removed {len(self.rules)} network rule(s)")
            self.rules.clear()
        for name in self.targets():
            if self.get_limits(target=name) != self.default_limits():
                self.set_limits(target=name, limits=self.default_limits())
                done.append(f"reset {name}'s limits")
            for path in self._tagged_junk(name):
                self.remove_file(target=name, path=path)
                done.append(f"removed {name}:{path}")
            if self.release(target=name) != releases.CURRENT:
                self.set_release(target=name, release=releases.CURRENT)
                done.append(f"rolled {name} back to release {releases.CURRENT}")
            if self.services[name].state != "RUNNING":
                self.ensure_running(target=name)
                done.append(f"started {name}")
        if self.load_factor() != 1:
            self.set_load_factor(factor=1.0)
            done.append("set the load generator's pace back to steady")
        for key in self.db_holders():
            done += self.stop_db_holder(key=key)
        return done

    def fault_footprint(self) -> dict:
        return {
            "ruleset": sorted((r.key, r.source, r.target, r.fraction) for r in self.rules),
            "limits": {n: (self.get_limits(target=n).cpu, self.get_limits(target=n).memory) for n in self.targets()},
            "disk_files": {n: sorted(self.services[n].files) for n in self.targets()},
            "junk": {n: self._tagged_junk(n) for n in self.targets()},
            "not_running": sorted(n for n, s in self.services.items() if s.state != "RUNNING"),
            "load_factor": self.load_factor(),
            "releases": {n: self.release(target=n) for n in self.targets()},
            "db_holders": self.db_holders(),
        }
