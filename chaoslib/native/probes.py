"""Probes from outside the app: connect as the load balancer's user, write as a replica's user.

Tests and benchmarks use them to see a fault's effect the way the affected party would,
without trusting the app's own metrics.
"""
from __future__ import annotations

import subprocess
import sys
import urllib.request

from chaoslib import config
from chaoslib.kernel.cgroups import Cgroups
from chaoslib.kernel.probes import CONNECT, CONNECT_TIME, WRITE, reported_version
from chaoslib.native.users import uid_of


class OutsideProbe:
    """Acts from outside the app, as the load balancer's, a replica's or the exporter's user."""

    def __init__(self, backend):
        self.backend = backend

    def _as(self, user: str, *args: str) -> str:
        uid = uid_of(user)
        # --init-groups: the user's own groups (the stack's group `chaos` lets it reach its disk).
        cmd = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--init-groups", sys.executable, "-c", *args]
        return subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=120).stdout.strip()

    def lb_connect_failures(self, target: str, n: int) -> int:
        host = config.replica_address(config.replica_index(target))
        return int(self._as(config.TRAEFIK.user, CONNECT, host, str(config.APP_PORT), str(n)))

    def lb_connect_seconds(self, target: str, n: int = 5) -> float:
        """Median time of the load balancer's TCP connects to a replica (-1 when none succeeded)."""
        host = config.replica_address(config.replica_index(target))
        return float(self._as(config.TRAEFIK.user, CONNECT_TIME, host, str(config.APP_PORT), str(n)))

    def _db_ok(self, user: str) -> bool:
        return self._as(user, CONNECT, config.POSTGRES.host, str(config.POSTGRES.port), "3") == "0"

    def db_reachable_from(self, target: str) -> bool:
        return self._db_ok(config.replica_user(config.replica_index(target)))

    def db_reachable_from_exporter(self) -> bool:
        return self._db_ok("chaossvc")

    def app_write_errno(self, target: str) -> int | None:
        out = self._as(config.replica_user(config.replica_index(target)), WRITE,
                       str(self.backend.settings.disk_path(target)))
        return None if out == "ok" else int(out)

    def throttled_periods(self, target: str) -> int:
        return Cgroups().stats(target).cpu_throttled_periods

    def oom_kills(self, target: str) -> int:
        """How many times the OOM killer acted in the replica's cgroup."""
        return Cgroups().stats(target).oom_kills

    def healthy(self, target: str) -> bool:
        host = config.replica_address(config.replica_index(target))
        try:
            return urllib.request.urlopen(f"http://{host}:{config.APP_PORT}/healthz", timeout=2).status == 200
        except OSError:
            return False

    def version(self, target: str) -> str | None:
        return reported_version(f"http://{config.replica_address(config.replica_index(target))}:{config.APP_PORT}")

    def db_lock_waits(self) -> int:
        return sum(1 for r in self.backend.db_activity() if r.blocked_by)
