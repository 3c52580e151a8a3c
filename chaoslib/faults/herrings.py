"""Red herrings: harmless anomalies the hard draw plants beside the real fault (or in a no-fault round).

Each is a scenario flagged `benign`: injected, recorded, healed by `panic` and by its time to
live like a fault, but it pages nobody, keeps every objective, and is never part of the answer
(the game's truth, hints and score leave it out). A player who "fixes" one applies a wrong fix.
They are not a family of the catalogue's `FAMILIES`: nothing draws them as the fault, and no
hypothesis can name them.
"""
from __future__ import annotations

import json
import random
import time

from chaoslib.backends.base import Backend
from chaoslib.faults.catalogue import RecordUndo, Scenario

__all__ = ["HERRINGS", "SCENARIOS", "BACKUP_RATIO", "BURST_FACTOR", "WARNINGS", "backup_path", "warning_line"]

HERRINGS = "herrings"
#: How much of a replica's disk the nightly backup takes: far below the disk fault's 80 % and the 90 % ticket.
BACKUP_RATIO = 0.25
#: A burst of traffic: the load generator runs this much faster (a busy hour the stack absorbs: no objective broken).
BURST_FACTOR = 1.5
#: Warnings an app writes on a good day: slow but harmless, each one fine to ignore.
WARNINGS = (
    ("polls.cache", "cache warm-up took 2.4 s (expected under 1 s): serving from the database meanwhile"),
    ("polls.tasks", "nightly vote tally ran 41 s late: it will catch up on the next run"),
    ("django.request", "slow request: GET /api/polls/ took 812 ms (threshold 750 ms)"),
    ("polls.backup", "backup job is taking longer than usual (3 min 10 s so far); still within its window"),
)


def warning_line(key: str, replica: str, now: float) -> str:
    """A harmless WARNING as the app logs it (one JSON line), chosen from `key` (repeatable)."""
    logger, message = random.Random(key).choice(WARNINGS)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"
    return json.dumps({"time": stamp, "level": "WARNING", "logger": logger, "message": message, "replica": replica})


def backup_path(key: str) -> str:
    """Where the nightly backup lands on a replica's disk, derived from `key` (repeatable)."""
    return f"backups/polls-nightly-{random.Random(key).randrange(1000, 9999)}.sql.gz"


def warning_in_log(backend: Backend, *, key: str, targets: list[str], record_undo: RecordUndo) -> None:
    """Write one harmless WARNING line into each target's log (a line stays written: nothing to undo)."""
    for t in targets:
        backend.write_log_line(service=t, line=warning_line(f"{key}.{t}", t, time.time()))


def slow_backup(backend: Backend, *, key: str, targets: list[str], record_undo: RecordUndo) -> None:
    """A slow but healthy nightly backup: a dump a quarter of the disk's size left on each target's disk."""
    for t in targets:
        path = backup_path(f"{key}.{t}")
        record_undo({"op": "remove_file", "target": t, "path": path})
        size = int(backend.disk_usage(target=t).size_bytes * BACKUP_RATIO)
        backend.write_file(target=t, path=path, size_bytes=size, tag=key)


def traffic_burst(backend: Backend, *, key: str, targets: list[str], record_undo: RecordUndo) -> None:
    """A burst of traffic: the load generator paces up by BURST_FACTOR until undone (panic, the TTL, the game's end).

    It goes through the load balancer, so every replica gets busier, the drawn target no more than the others.
    """
    record_undo({"op": "set_load_factor", "factor": 1.0})
    backend.set_load_factor(factor=BURST_FACTOR)


SCENARIOS = (
    Scenario("herring-warning", HERRINGS, warning_in_log, "a harmless WARNING line in one replica's log",
             max_targets=1, requires=frozenset({"log_lines"}), second_fault=False, benign=True),
    Scenario("herring-backup", HERRINGS, slow_backup,
             "a slow but healthy nightly backup: a dump a quarter of one replica's disk",
             max_targets=1, second_fault=False, benign=True),
    Scenario("herring-burst", HERRINGS, traffic_burst,
             "a burst of traffic: the load generator runs 50 % faster through the load balancer (every replica busier)",
             max_targets=1, requires=frozenset({"load_burst"}), second_fault=False, benign=True),
)
