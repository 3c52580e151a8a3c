"""Features: what a backend can do on this machine, as commented booleans code reads instead of a name."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


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
    #: Nothing in the stack undoes expired faults (no supervisor's warden): the injector starts a
    #: detached warden process (chaoslib.engine.warden) that lives while faults are active.
    warden_process: bool = False
    #: A line can be written into a service's captured log (write_log_line): the red herrings' warning.
    log_lines: bool = False
    #: The load generator's pace can be raised for a while (set_load_factor): the red herrings' traffic burst.
    load_burst: bool = False
    #: A replica can be rolled to another release of the app (set_release), which outlives its restarts.
    releases: bool = False
    #: The database's sessions can be read (pg_stat_activity), held by a fault's process and ended
    #: (start_db_holder, terminate_db_backend): the database family.
    database_sessions: bool = False

    def lacks(self, needs: Iterable[str]) -> list[str]:
        """The flags among `needs` this backend does not have (an unknown flag counts as lacking)."""
        return sorted(n for n in needs if not getattr(self, n, False))
