"""The docker backend's sweep of every fault trace (panic's last line of defence) and its footprint."""
from __future__ import annotations

from chaoslib import config
from chaoslib.backends.docker.database import DockerDatabase
from chaoslib.backends.docker.disks import DockerDisks
from chaoslib.backends.docker.engine import SERVICE_LABEL, docker_sdk
from chaoslib.backends.docker.limits import DockerLimits
from chaoslib.backends.docker.network import NETEM_CLEAR, NETEM_TABLE
from chaoslib.backends.docker.releases import DockerReleases
from chaoslib.errors import ServiceError
from chaoslib.kernel import nft
from pollapp import releases


class DockerSafety(DockerDatabase, DockerDisks, DockerLimits, DockerReleases):
    """reset_faults and fault_footprint over helpers, namespaces' tables, limits, disks, releases and
    database holders."""

    def reset_faults(self) -> list[str]:
        done = []
        docker = docker_sdk()
        for h in self._helpers():
            try:
                h.remove(force=True)
                done.append(f"removed helper container {h.short_id}")
            except docker.errors.NotFound:
                pass
        for key in self.db_holders():  # a holder's container and every session named for its fault
            done += self.stop_db_holder(key=key)

        def drop_table(holder) -> str | None:
            out = self._sweep_helper(holder, f"nft delete table {nft.FAMILY} {nft.TABLE} 2>/dev/null "
                                             "&& echo gone || true")
            if out.strip() == "gone":
                return f"removed the nftables table {nft.FAMILY} {nft.TABLE} in {holder.labels.get(SERVICE_LABEL)}"
            return None

        done += [line for line in self._parallel(drop_table, self._holders()) if line]
        if self.features.has_netem:
            for holder in self._holders():
                if self._sweep_helper(holder, NETEM_CLEAR).strip() == "gone":
                    done.append(f"removed the netem shaper in {holder.labels.get(SERVICE_LABEL)}")
        containers = self._containers()
        for name in self.targets():
            c = containers[name]
            default = self._defaults_of(c)
            if self._limits_of(c) != default:
                self.set_limits(target=name, limits=default)
                done.append(f"reset {name}'s limits")

        def clean(name: str) -> list[str]:
            c = containers[name]
            if not c.attrs.get("State", {}).get("Running") and self._disk_volume(c) is None:
                return []
            if not self._disk(name, "tagged"):  # a read (fast where the volume is kept mounted)
                return []
            return [f"removed {name}:{p}" for p in self._disk(name, "clean")]

        for lines in self._parallel(clean, self.targets()):
            done += lines

        def roll_back(name: str) -> list[str]:
            try:
                if self._release_of(containers[name]) == (releases.CURRENT, {}):
                    return []
            except ServiceError:  # a release file the app cannot run: rolled back all the same
                pass
            self.set_release(target=name, release=releases.CURRENT)  # a restart: in parallel, each its own
            return [f"rolled {name} back to release {releases.CURRENT}"]

        for lines in self._parallel(roll_back, self.targets()):
            done += lines
        for name in self.targets():
            self.ensure_running(target=name)
        return done

    def fault_footprint(self) -> dict:
        containers = self._containers()
        holders = self._holders()
        tables = self._parallel(
            lambda h: self._sweep_helper(h, f"nft -s list table {nft.FAMILY} {nft.TABLE} 2>/dev/null; "
                                            f"nft -s list table inet {NETEM_TABLE} 2>/dev/null; true"),
            holders)
        targets = self.targets()
        running = [n for n in targets if containers[n].attrs.get("State", {}).get("Running")
                   or self._disk_volume(containers[n]) is not None]
        files = dict(zip(running, self._parallel(lambda n: self._disk(n, "list"), running), strict=True))
        junk = dict(zip(running, self._parallel(lambda n: self._disk(n, "tagged"), running), strict=True))
        return {
            "ruleset": {h.labels.get(SERVICE_LABEL): t for h, t in zip(holders, tables, strict=True)},
            "limits": {n: (lim.cpu, lim.memory) for n in targets for lim in [self._limits_of(containers[n])]},
            "disk_files": {n: sorted(p for p, _s, _m in files[n] if not config.is_app_file(p))
                           for n in running},
            "junk": junk,
            "helpers": sorted(h.id for h in self._helpers()),
            "containers": {s: c.id for s, c in sorted(containers.items())},
            "pids": {s: (c.attrs.get("State", {}).get("Pid") or None) for s, c in sorted(containers.items())},
            "releases": {n: self._release_of(containers[n])[0] for n in targets},
            "db_holders": self.db_holders(),
        }
