"""The contract's database primitives: sessions a fault holds open, what pg_stat_activity shows, ending one.

A database fault is a client of PostgreSQL the fault starts (a *holder*): its connections carry
an application_name made of a plausible client's name and the fault's id (`tally-batch-f-1a2b3c`:
a player reading pg_stat_activity is not told which session is the fault), so undo, panic and the
TTL end exactly those sessions (and the holder) and nothing else (HOLDER_NAME matches them).
`db_activity` is the player's view (pg_stat_activity), and `terminate_db_backend` the player's fix
(pg_terminate_backend by pid or by application name).
"""
from __future__ import annotations

from chaoslib.backends.base.contract import Contract
from chaoslib.errors import UsageError
from chaoslib.native.holders import HOLDER_KINDS, HOLDER_NAME, DbSession, holder_key, holder_name

__all__ = ["HOLDER_KINDS", "HOLDER_NAME", "DatabasePrimitives", "DbSession", "check_holder", "check_one_session",
           "holder_key", "holder_name", "no_session"]

def check_holder(key: str, kind: str, amount: int) -> None:
    """A one-line UsageError for a holder kind or amount the contract does not know."""
    if holder_key(f"{HOLDER_KINDS.get(kind, 'x')}-{key}") != key:
        raise UsageError(f"a holder's key must look like f-1a2b3c, got {key!r}", field="key", value=key)
    if kind not in HOLDER_KINDS:
        raise UsageError(f"unknown holder kind {kind!r}: kinds are {', '.join(HOLDER_KINDS)}", field="kind",
                         value=kind)
    if not 0 <= amount <= 1000:
        raise UsageError(f"a holder's amount must be between 0 and 1000, got {amount}", field="amount", value=amount)


def check_one_session(pid: int | None, application_name: str | None) -> None:
    """A one-line UsageError unless exactly one of `pid` and `application_name` names what to end."""
    if (pid is None) == (application_name is None):
        raise UsageError("name one session: a pid or an application_name", field="pid")


def no_session(pid: int) -> UsageError:
    """The one-line error for a pid that names no session of the database."""
    return UsageError(f"no database session with pid {pid}", field="pid", value=pid,
                      hint="look at the db-activity view")


class DatabasePrimitives(Contract):
    """start_db_holder, stop_db_holder, db_activity, terminate_db_backend (Features.database_sessions)."""

    def start_db_holder(self, *, key: str, kind: str, amount: int) -> None:
        """Start a process holding connections named holder_name(key, kind).

        kind "locks": one open transaction holding the row locks of the `amount` hottest polls'
        choices (re-taken as the hot set moves); kind "idle": idle connections filling every slot a
        client may take (`amount` left free), the replicas' own connections recycled so they must reconnect.
        """
        raise self._missing("start_db_holder")

    def stop_db_holder(self, *, key: str) -> list[str]:
        """End the holder of `key`: its process and every connection named for it; what was done
        (idempotent: nothing when it is gone)."""
        raise self._missing("stop_db_holder")

    def db_holders(self) -> list[str]:
        """The keys of every holder with a process or a connection left (panic's sweep and the footprint)."""
        raise self._missing("db_holders")

    def db_activity(self) -> list[DbSession]:
        """Every client session of the app's database, oldest transaction first (pg_stat_activity)."""
        raise self._missing("db_activity")

    def db_max_connections(self) -> int:
        """How many connections the database takes from clients other than superusers."""
        raise self._missing("db_max_connections")

    def terminate_db_backend(self, *, pid: int | None = None, application_name: str | None = None) -> list[int]:
        """End one session (by pid) or every session of an application; the pids ended."""
        raise self._missing("terminate_db_backend")
