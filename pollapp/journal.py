"""An append-only journal of accepted writes on the replica's own disk (DATA_DIR).

Every accepted poll and vote is appended and fsynced before the database commit, the way
an audit log or a write-ahead journal is. When the disk is full the append fails with
ENOSPC, the request fails with a 500 and the error is logged: exactly how a real app breaks.
"""
from __future__ import annotations

import errno
import json
import logging
import os
import threading
import time
from pathlib import Path

from django.conf import settings

from .metrics import DISK_WRITE_ERRORS

log = logging.getLogger("pollapp.journal")
_lock = threading.Lock()


class JournalError(Exception):
    """The journal could not be written; carries the errno name (e.g. ENOSPC)."""

    def __init__(self, message: str, errno_name: str) -> None:
        super().__init__(message)
        self.errno_name = errno_name


def journal_path() -> Path:
    return Path(settings.DATA_DIR) / "journal" / "writes.jsonl"


def append(kind: str, **fields) -> None:
    """Append one record and fsync it; raise JournalError (logged, counted) when the disk refuses."""
    path = journal_path()
    line = json.dumps({"t": time.time(), "kind": kind, "replica": settings.REPLICA_NAME, **fields},
                      default=str) + "\n"
    with _lock:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _rotate_if_big(path)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
            try:
                os.write(fd, line.encode())
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as e:
            name = errno.errorcode.get(e.errno or 0, "EIO")
            DISK_WRITE_ERRORS.labels(errno=name).inc()
            log.error("journal write failed: %s", e.strerror or e, extra={"errno": name},
                      exc_info=True)
            raise JournalError(f"could not record the {kind}: {e.strerror or e}", name) from e


def _rotate_if_big(path: Path) -> None:
    try:
        if path.stat().st_size >= settings.JOURNAL_MAX_BYTES:
            path.replace(path.with_suffix(".jsonl.1"))
    except FileNotFoundError:
        pass
