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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from chaoslib.errors import ChaosError
from chaoslib.native.pids import alive

ACTIVE = "active"
HEALED = "healed"
#: Fields every record must have (the rest have defaults).
REQUIRED = ("id", "scenario", "family", "targets", "params", "injected_at", "expires_at")


class RegistryDamaged(ChaosError):
    """The registry file exists but cannot be read as records (truncated, wrong shape)."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"the fault registry {path} is damaged ({reason})",
                         hint="run `chaosctl panic`: it keeps the file beside, renamed, and sweeps the host")
        self.path = path
        self.reason = reason


def quarantine(path: Path) -> Path | None:
    """Rename a damaged file to `NAME.damaged-TIME` beside it (kept for a postmortem); its new path."""
    dest = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}")
    try:
        os.replace(path, dest)
    except FileNotFoundError:
        return None
    return dest


def parse_records(raw: object) -> tuple[list[FaultRecord], list[str]]:
    """The well-formed records of a decoded registry, and why each other entry was skipped."""
    if not isinstance(raw, dict) or not isinstance(raw.get("faults", []), list):
        return [], [f"expected an object with a list 'faults', got {type(raw).__name__}"]
    records, problems = [], []
    known = set(FaultRecord.__dataclass_fields__)
    for i, item in enumerate(raw.get("faults", [])):
        if not isinstance(item, dict) or any(k not in item for k in REQUIRED):
            lacking = [k for k in REQUIRED if not isinstance(item, dict) or k not in item]
            problems.append(f"entry {i} lacks {', '.join(lacking)}")
            continue
        try:
            record = FaultRecord(**{k: v for k, v in item.items() if k in known})
            if not isinstance(record.undo, list) or not all(isinstance(s, dict) and "op" in s for s in record.undo):
                raise TypeError("undo steps are not a list of {op: ...}")
            if not isinstance(record.targets, list) or not isinstance(record.status, str):
                raise TypeError("targets or status have the wrong type")
            float(record.expires_at)
        except (TypeError, ValueError) as e:
            problems.append(f"entry {i}: {e}")
            continue
        records.append(record)
    return records, problems


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
    #: True from the record's creation until its action returned; with the injector's pid.
    injecting: bool = False
    injector_pid: int = 0
    #: A name the injecting tool chose (`chaosctl inject --tag`), so it can undo its own faults and no other.
    tag: str = ""

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    def being_injected(self) -> bool:
        """True while the process injecting this fault is still at work (not if it died)."""
        return self.injecting and self.injector_pid > 0 and alive(self.injector_pid)

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
            raw = json.loads(self.path.read_bytes())
        except FileNotFoundError:
            return []
        except (ValueError, UnicodeDecodeError) as e:
            raise RegistryDamaged(self.path, "not valid JSON") from e
        records, problems = parse_records(raw)
        if problems:
            raise RegistryDamaged(self.path, problems[0])
        return records

    def _save(self, records: list[FaultRecord]) -> None:
        tmp = self.path.with_suffix(f".tmp{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(json.dumps({"version": 1, "faults": [r.to_dict() for r in records]}, indent=1))
        os.replace(tmp, self.path)

    def salvage(self) -> tuple[list[FaultRecord], Path | None]:
        """Under the lock: the records still readable from a damaged file, which is quarantined.

        `panic` calls this when the registry is damaged: every record it can still read is
        kept (and undone), the file is renamed beside itself, and a fresh registry is written.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                try:
                    records, _ = parse_records(json.loads(self.path.read_bytes()))
                except FileNotFoundError:
                    return [], None
                except (ValueError, UnicodeDecodeError):
                    records = []
                moved = quarantine(self.path)
                self._save(records)
                return records, moved
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

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
