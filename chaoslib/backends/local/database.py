"""The native database's sessions: pg_stat_activity read and ended as the superuser, holders as processes."""
from __future__ import annotations

from pathlib import Path

from chaoslib import config
from chaoslib.backends.base import DbSession, check_holder, check_one_session, no_session
from chaoslib.backends.local.state import LocalState
from chaoslib.errors import UsageError
from chaoslib.native import credentials, pg_sessions

#: How long starting a holder waits for its sessions (the idle one races the replicas for FILL_S at most).
HOLD_WAIT_S = 25.0


class LocalDatabase(LocalState):
    """start_db_holder/stop_db_holder/db_holders/db_activity/terminate_db_backend over native/pg_sessions.py."""

    def _socket_dir(self) -> Path:
        return self.settings.run_dir / "pg"

    def start_db_holder(self, *, key: str, kind: str, amount: int) -> None:
        check_holder(key, kind, amount)
        if not self.is_up():
            raise UsageError("the stack is not running", hint="start it with `chaosctl up`")
        pid = pg_sessions.start_holder(self.settings.run_dir, credentials.password(self.settings, config.DB_USER),
                                       key=key, kind=kind, amount=amount)
        if not pg_sessions.wait_holding(self._socket_dir(), key, kind, pid=pid, timeout=HOLD_WAIT_S):
            log = self.settings.run_dir / "db-holders" / f"{key}.log"
            tail = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
            raise UsageError(f"the database holder of {key} holds no session: {tail[0] if tail else 'no log'}",
                             hint="see `chaosctl logs postgres`")

    def stop_db_holder(self, *, key: str) -> list[str]:
        return pg_sessions.stop_holder(self.settings.run_dir, self._socket_dir(), key)

    def db_holders(self) -> list[str]:
        return pg_sessions.holders(self.settings.run_dir, self._socket_dir())

    def db_activity(self) -> list[DbSession]:
        return pg_sessions.activity(self._socket_dir())

    def db_max_connections(self) -> int:
        return pg_sessions.max_connections(self._socket_dir())

    def terminate_db_backend(self, *, pid: int | None = None, application_name: str | None = None) -> list[int]:
        check_one_session(pid, application_name)
        ended = pg_sessions.terminate(self._socket_dir(), pid=pid, application_name=application_name)
        if pid is not None and not ended:
            raise no_session(pid)
        return ended
