"""The names a database fault's holder gives its sessions, and a session as pg_stat_activity shows it.

Below the backend contract (which re-exports them), so the native stack's own code can use them.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass

#: What a holder does with its connections (hold row locks in an open transaction, or sit idle), and the
#: client its connections pretend to be.
HOLDER_KINDS = {"locks": "tally-batch", "idle": "report-pool"}
#: Every holder's application_name, and only theirs: a client's name and a fault id (injector's f-<6 hex>).
HOLDER_NAME = re.compile("^(?:" + "|".join(HOLDER_KINDS.values()) + r")-(f-[0-9a-f]{6})$")


def holder_name(key: str, kind: str) -> str:
    """The application_name of a fault's connections."""
    return f"{HOLDER_KINDS[kind]}-{key}"


def holder_key(application_name: str) -> str | None:
    """The fault key of a holder's connection name (None: not a holder's)."""
    m = HOLDER_NAME.match(application_name or "")
    return m.group(1) if m else None


@dataclass(frozen=True)
class DbSession:
    """One row of pg_stat_activity as a player reads it."""

    pid: int
    application_name: str
    usename: str
    state: str
    #: Seconds since its transaction began (0 outside a transaction).
    xact_age_s: float
    wait_event: str
    query: str
    #: The sessions this one waits for (pg_blocking_pids): a lock's holder.
    blocked_by: tuple[int, ...] = ()

    def to_dict(self) -> dict:
        return {**asdict(self), "blocked_by": list(self.blocked_by)}
