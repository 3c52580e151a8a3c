"""The native stack's sweep of every fault trace (panic's last line of defence) and its footprint."""
from __future__ import annotations

import re
import subprocess

from chaoslib import config
from chaoslib.backends.base import DEFAULT_LIMITS
from chaoslib.backends.local.disks import LocalDisks
from chaoslib.errors import ChaosError, ServiceError, SweepError
from chaoslib.kernel import disks, netem, nft
from chaoslib.kernel.netem import NetemShaper
from chaoslib.native import owner
from pollapp import releases


class LocalSafety(LocalDisks):
    """reset_faults and fault_footprint over the firewall, shaper, cgroups, disks and releases."""

    def reset_faults(self) -> list[str]:
        """Sweep every trace a fault can leave, each step on its own; SweepError lists what failed."""
        done: list[str] = []
        failures: list[str] = []

        def step(what: str, action) -> None:
            try:
                action()
            except (ChaosError, OSError, subprocess.SubprocessError) as e:
                failures.append(f"{what}: {e.one_line() if isinstance(e, ChaosError) else e}")

        if not owner.owns_host(self.settings):
            return [f"left the host's firewall and cgroups alone: they belong to the running stack in {owner.owner()}"]

        def table() -> None:
            if nft.delete_table():
                done.append("removed the nftables table inet chaos")

        def shaper() -> None:
            if NetemShaper(self.settings.run_dir / "netem.json").clear():
                done.append("removed the netem shaper")

        def pace() -> None:
            if self.load_factor() != 1:
                self.set_load_factor(factor=1.0)
                done.append("set the load generator's pace back to steady")

        def holders() -> None:
            for key in self.db_holders():
                done.extend(self.stop_db_holder(key=key))

        step("the nftables table inet chaos", table)
        step("the database's holders", holders)
        step("the load generator's pace", pace)
        step("the netem shaper", shaper)
        supervised = self.supervisor.running()
        for name in self.targets():
            def limits(name: str = name) -> None:
                if self.cgroups.exists(name) and self.get_limits(target=name) != DEFAULT_LIMITS:
                    self.set_limits(target=name, limits=DEFAULT_LIMITS)
                    done.append(f"reset {name}'s limits")

            def junk(name: str = name) -> None:
                if disks.is_mounted(self.settings.disk_path(name)):
                    for path in self._tagged_junk(name):
                        self.remove_file(target=name, path=path)
                        done.append(f"removed {name}:{path}")

            def release(name: str = name) -> None:
                if supervised and self.release(target=name) != releases.CURRENT:
                    self.set_release(target=name, release=releases.CURRENT)
                    done.append(f"rolled {name} back to release {releases.CURRENT}")

            def running(name: str = name) -> None:
                if supervised:
                    self.ensure_running(target=name)
                elif self._stack_file() is not None and self.cgroups.exists(name) and self.cgroups.pids(name):
                    # The replica outlived its supervisor: it runs unsupervised, maybe as the fault left it.
                    # (A stack that crashed whole has nothing running to fix: its next `up` starts it all.)
                    raise ServiceError(name, "cannot be restarted: supervisord is not running")

            step(f"{name}'s limits", limits)
            step(f"{name}'s junk", junk)
            step(f"{name}'s release", release)
            step(f"{name} running", running)
        if failures:
            raise SweepError(done, failures)
        return done

    def fault_footprint(self) -> dict:
        limits = {n: self.get_limits(target=n) for n in self.targets() if self.cgroups.exists(n)}
        disk = {}
        for n in self.targets():
            if disks.is_mounted(self.settings.disk_path(n)):
                disk[n] = sorted(f.path for f in self.list_files(target=n) if not config.is_app_file(f.path))
        return {
            # Counters move with traffic: the rules, not their packet counts, are the footprint
            # (the chaos table, and the latency fault's chaos_netem table).
            "ruleset": re.sub(r"counter packets \d+ bytes \d+", "counter", nft.ruleset()),
            "qdisc_lo": netem.qdiscs("lo"),
            "limits": {n: (lim.cpu, lim.memory) for n, lim in limits.items()},
            "disk_files": disk,
            "mounts": disks.mounted_under(self.settings.state_dir) if self.settings.state_dir.exists() else [],
            "cgroups": self.cgroups.groups(),
            "junk": {n: self._tagged_junk(n) for n in disk},
            "load_factor": self.load_factor(),
            "releases": {n: self.release(target=n) for n in self.targets()},
            # A holder's process, pid file or session (backends/base/database.py).
            "db_holders": self.db_holders(),
        }
