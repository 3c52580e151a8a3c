"""The contract's log primitives: captured log files, a service's last lines, the load generator's ledger and pace."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chaoslib.backends.base.contract import Contract


@dataclass(frozen=True)
class LogSource:
    """Where a backend's log lines come from, as the player is told (`str()` is the sentence)."""

    #: "files" (the native stack's captured files), "elasticsearch" or "engine" (Docker).
    kind: str
    #: The sentence shown: "logs from Elasticsearch ...", "logs from the Docker engine (...)".
    note: str

    def __str__(self) -> str:
        return self.note

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "note": self.note}


#: What a backend whose services' output is captured to files says (the native stack; the default).
FILES = LogSource("files", "logs from the stack's captured log files")


class LogPrimitives(Contract):
    """What the services wrote."""

    def log_files(self) -> dict[str, list[Path]]:
        """Captured log files by service (native), for the log search engine."""
        raise self._missing("log_files")

    def log_source(self) -> LogSource:
        """Where `log_files()` reads the lines from now, as the player is told (captured files by default)."""
        return FILES

    def tail_log(self, *, service: str, lines: int = 20) -> str:
        """The last lines a service wrote."""
        raise self._missing("tail_log")

    def write_log_line(self, *, service: str, line: str) -> None:
        """Append one line to what a service logged, as if it wrote it (a red herring's harmless warning).

        Needs the "log_lines" feature; the line stays in the log, like any line the service wrote.
        """
        raise self._missing("write_log_line")

    def set_load_factor(self, *, factor: float) -> None:
        """Pace the load generator at `factor` times its steady rate (1: steady): a red herring's traffic burst.

        Needs the "load_burst" feature; panic's sweep sets it back to 1.
        """
        raise self._missing("set_load_factor")

    def load_factor(self) -> float:
        """The load generator's pace now, as a multiple of its steady rate (1: steady, and any backend without it)."""
        return 1.0

    def vote_ledger(self) -> list[dict[str, Any]] | None:
        """The load generator's ledger of vote attempts (`ack` true for an acknowledged vote).

        Optional: a backend that cannot read it returns None, and the postmortem says so.
        """
        return None
