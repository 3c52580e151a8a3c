"""The database's sessions in memory: each replica's connections, the exporter's, and a fault's holders."""
from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

from chaoslib.backends.base import (
    DbSession,
    Progress,
    check_holder,
    check_one_session,
    holder_key,
    holder_name,
    no_progress,
    no_session,
)
from chaoslib.backends.memory.lifecycle import MemoryLifecycle
from chaoslib.errors import UsageError

#: max_connections and superuser_reserved_connections, as the native stack runs PostgreSQL.
MAX_CONNECTIONS, RESERVED = 100, 3
#: Connections each running replica keeps (its busiest threads).
PER_REPLICA = 2
LOCK_QUERY = ("SELECT c.id FROM polls_choice c WHERE c.question_id = ANY(%s) FOR UPDATE SKIP LOCKED")
VOTE_QUERY = 'UPDATE "polls_choice" SET "votes" = ("polls_choice"."votes" + 1) WHERE "polls_choice"."id" = %s'
_pids = itertools.count(40_000)


@dataclass
class HeldSession:
    """One connection a fault's holder keeps."""

    pid: int
    key: str
    kind: str
    since: float


class MemoryDatabase(MemoryLifecycle):
    """Holders' sessions are kept; the replicas' and the exporter's are derived from the free slots."""

    held: list[HeldSession]

    def down(self, *, purge: bool = False, progress: Progress = no_progress) -> None:
        super().down(purge=purge, progress=progress)
        self.held = []

    def _slots(self) -> int:
        return MAX_CONNECTIONS - RESERVED

    def start_db_holder(self, *, key: str, kind: str, amount: int) -> None:
        check_holder(key, kind, amount)
        if not self.is_up():
            raise UsageError("the stack is not running", hint="start it with `chaosctl up`")
        now = time.time()
        if kind == "locks":
            self.held.append(HeldSession(next(_pids), key, kind, now))
            return
        # Every slot but `amount` and the exporter's: the replicas' connections are recycled and cannot return.
        free = self._slots() - 1 - len(self.held) - amount
        self.held.extend(HeldSession(next(_pids), key, kind, now) for _ in range(max(0, free)))

    def stop_db_holder(self, *, key: str) -> list[str]:
        mine = [h for h in self.held if h.key == key]
        self.held = [h for h in self.held if h.key != key]
        return [f"ended {len(mine)} connection(s) of {holder_name(key, mine[0].kind)}"] if mine else []

    def db_holders(self) -> list[str]:
        return sorted({h.key for h in self.held})

    def db_max_connections(self) -> int:
        return self._slots()

    def _replica_sessions(self) -> list[DbSession]:
        free = self._slots() - len(self.held) - 1
        lockers = tuple(h.pid for h in self.held if h.kind == "locks")
        out = []
        for i, name in enumerate(t for t in self.targets() if self.services[t].state == "RUNNING"):
            for j in range(min(PER_REPLICA, max(0, free))):
                free -= 1
                waiting = bool(lockers) and j == 0
                out.append(DbSession(pid=30_000 + 10 * i + j, application_name=name, usename="polls",
                                     state="active" if waiting else "idle", xact_age_s=0.0,
                                     wait_event="Lock:transactionid" if waiting else "",
                                     query=VOTE_QUERY if waiting else "SELECT 1",
                                     blocked_by=lockers if waiting else ()))
        return out

    def db_activity(self) -> list[DbSession]:
        if not self.is_up():
            return []
        now = time.time()
        rows = [DbSession(pid=h.pid, application_name=holder_name(h.key, h.kind), usename="polls",
                          state="idle in transaction" if h.kind == "locks" else "idle",
                          xact_age_s=now - h.since if h.kind == "locks" else 0.0, wait_event="ClientRead",
                          query=LOCK_QUERY if h.kind == "locks" else "SELECT 1") for h in self.held]
        rows.append(DbSession(pid=29_999, application_name="postgres_exporter", usename="exporter", state="idle",
                              xact_age_s=0.0, wait_event="ClientRead", query="SELECT * FROM pg_stat_activity"))
        rows += self._replica_sessions()
        return sorted(rows, key=lambda r: -r.xact_age_s)

    def terminate_db_backend(self, *, pid: int | None = None, application_name: str | None = None) -> list[int]:
        check_one_session(pid, application_name)
        if application_name is not None and holder_key(application_name) is None:
            # A replica's or the exporter's sessions come back at once: ending them changes nothing here.
            return [r.pid for r in self.db_activity() if r.application_name == application_name]
        ended = [h.pid for h in self.held if h.pid == pid or holder_name(h.key, h.kind) == application_name]
        self.held = [h for h in self.held if h.pid not in ended]
        if pid is not None and not ended and pid not in {r.pid for r in self.db_activity()}:
            raise no_session(pid)
        return ended

    def _db_problem(self, name: str) -> str:
        """Why a replica cannot use the database now ("" when it can)."""
        if not any(r.application_name == name for r in self._replica_sessions()):
            return "database refuses connections: remaining connection slots are reserved for superusers"
        return ""
