"""The fault registry: what is injected, until when, and how to undo it, on disk.

Every command that injects or heals takes an exclusive lock on the registry, reads it,
changes it and writes it back atomically, so concurrent commands never corrupt it and a
crashed injector leaves a record `panic` and the warden can act on.
"""
from __future__ import annotations

import fcntl
import json
import os
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator

from .errors import ChaosError

ACTIVE = "active"
HEALED = "healed"


@dataclass
class FaultRecord:
    """One injected fault and the primitive calls that undo it."""

    id: str
    scenario: str
    family: str
    targets: list[str]
    params: dict
    injected_at: float
    expires_at: float
    undo: list[dict] = field(default_factory=list)
    status: str = ACTIVE
    hidden: bool = False
    healed_at: float | None = None
    healed_by: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    def expired(self, now: float | None = None) -> bool:
        return self.active and (now or time.time()) >= self.expires_at

    def to_dict(self) -> dict:
        return asdict(self)


class Registry:
    """The JSON file of fault records, guarded by a lock file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock_path = path.with_suffix(".lock")

    @contextmanager
    def transaction(self) -> Iterator[list[FaultRecord]]:
        """Lock, load, let the caller change the list, write it back atomically."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                records = self._load()
                yield records
                self._save(records)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _load(self) -> list[FaultRecord]:
        try:
            raw = json.loads(self.path.read_text())
        except FileNotFoundError:
            return []
        except ValueError as e:
            raise ChaosError(f"the fault registry {self.path} is not valid JSON",
                             hint="run `chaosctl panic --force` to reset from the host's state") from e
        return [FaultRecord(**item) for item in raw.get("faults", [])]

    def _save(self, records: list[FaultRecord]) -> None:
        tmp = self.path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps({"version": 1, "faults": [r.to_dict() for r in records]}, indent=1))
        os.replace(tmp, self.path)

    def records(self) -> list[FaultRecord]:
        """A snapshot (no lock held afterwards)."""
        with self.transaction() as records:
            return list(records)

    def active(self) -> list[FaultRecord]:
        return [r for r in self.records() if r.active]

    def close_all(self, *, reason: str) -> int:
        """Mark every active fault healed (the stack was torn down, taking them with it)."""
        if not self.path.exists():
            return 0
        now = time.time()
        n = 0
        with self.transaction() as records:
            for r in records:
                if r.active:
                    r.status, r.healed_at, r.healed_by = HEALED, now, reason
                    n += 1
        return n
