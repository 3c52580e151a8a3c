"""The contract's outside probes: see a fault's effect as the affected party would, not through the app's metrics."""
from __future__ import annotations

from typing import Protocol

from chaoslib.backends.base.contract import Contract
from chaoslib.errors import NotSupported


class Probe(Protocol):
    """Acts from outside the app: as the load balancer, a replica, or the database exporter."""

    def lb_connect_failures(self, target: str, n: int) -> int:
        """How many of `n` TCP connects from the load balancer to a replica failed."""

    def lb_connect_seconds(self, target: str, n: int = 5) -> float:
        """Median seconds of the load balancer's TCP connects to a replica (-1 when none succeeded)."""

    def db_reachable_from(self, target: str) -> bool:
        """Can a replica open a TCP connection to the database?"""

    def db_reachable_from_exporter(self) -> bool:
        """Can the database exporter open a TCP connection to the database?"""

    def app_write_errno(self, target: str) -> int | None:
        """The errno of a write to a replica's disk as the replica would do it (None: it worked)."""

    def throttled_periods(self, target: str) -> int:
        """How many CPU periods the replica was throttled so far."""

    def oom_kills(self, target: str) -> int:
        """How many times the OOM killer acted on the replica so far."""

    def healthy(self, target: str) -> bool:
        """Does the replica answer its health check?"""

    def version(self, target: str) -> str | None:
        """The release the replica reports to its scraper (pollapp_build_info's version; None: no answer)."""

    def db_lock_waits(self) -> int:
        """How many database sessions wait for a lock another session holds (pg_blocking_pids; 0: none)."""



class ProbePrimitives(Contract):
    """Optional: a backend without outside probes says so with NotSupported."""

    def probe(self) -> Probe:
        """A Probe on this stack (benchmarks and tests time a fault's effect with it)."""
        raise NotSupported("outside probes", self.name)
