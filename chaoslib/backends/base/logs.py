"""The contract's log primitives: captured log files, a service's last lines, the load generator's ledger."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from chaoslib.backends.base.contract import Contract


class LogPrimitives(Contract):
    """What the services wrote."""

    def log_files(self) -> dict[str, list[Path]]:
        """Captured log files by service (native), for the log search engine."""
        raise self._missing("log_files")

    def tail_log(self, *, service: str, lines: int = 20) -> str:
        """The last lines a service wrote."""
        raise self._missing("tail_log")

    def vote_ledger(self) -> list[dict[str, Any]] | None:
        """The load generator's ledger of vote attempts (`ack` true for an acknowledged vote).

        Optional: a backend that cannot read it returns None, and the postmortem says so.
        """
        return None
