"""Logs in memory: each service keeps the lines its starts and crashes wrote; no files, no ledger."""
from __future__ import annotations

from pathlib import Path

from chaoslib.backends.memory.lifecycle import MemoryLifecycle


class MemoryLogs(MemoryLifecycle):
    """log_files/tail_log/write_log_line/vote_ledger over each service's `log`."""

    def log_files(self) -> dict[str, list[Path]]:
        return {}

    def tail_log(self, *, service: str, lines: int = 20) -> str:
        s = self.services.get(service)
        return "\n".join(s.log[-lines:]) if s else ""

    def write_log_line(self, *, service: str, line: str) -> None:
        self._service(service).log.append(line)

    def set_load_factor(self, *, factor: float) -> None:
        self.pace = factor

    def load_factor(self) -> float:
        return getattr(self, "pace", 1.0)

    def vote_ledger(self) -> list[dict] | None:
        return None
