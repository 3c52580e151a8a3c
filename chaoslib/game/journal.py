"""The game journal on disk: one game's events, read and written under a lock, replaced atomically.

`game.json` in the state directory is the single record of a game: every step appends an
event with its time, so a game survives kernel restarts and re-run cells.
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
from typing import Any

__all__ = ["PLAYING", "FINISHED", "INJECTING", "FAILED", "Event", "GameState", "GameJournal"]

PLAYING, FINISHED = "playing", "finished"
#: A game being injected (journalled before the injection), and one whose injection failed.
INJECTING, FAILED = "injecting", "failed"
#: One event of the journal, as JSON: its time `t`, its `kind`, and what it records.
Event = dict[str, Any]


@dataclass
class GameState:
    """The journal of one game."""

    seed: int
    difficulty: str
    started_at: float
    fault_ids: list[str]
    status: str = PLAYING
    events: list[Event] = field(default_factory=list)
    #: Where the game's views begin (plots, log searches, alerts): its start when a fault was undone shortly
    #: before (the previous game's echo is cut), else when that echo was over; None: no fault before.
    view_from: float | None = None

    def add(self, kind: str, **data: Any) -> Event:
        event = {"t": time.time(), "kind": kind, **data}
        self.events.append(event)
        return event

    def first(self, kind: str) -> Event | None:
        return next((e for e in self.events if e["kind"] == kind), None)

    def all(self, kind: str) -> list[Event]:
        return [e for e in self.events if e["kind"] == kind]


class GameJournal:
    """The game's journal file (`game.json`): one game's events, read and written under a lock, replaced atomically.

    A damaged file (truncated, not JSON, the wrong shape) is never fatal: it is kept beside,
    renamed `game.json.damaged-<time>`, and the game starts afresh.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the game lock (one writer at a time, across processes)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    @contextmanager
    def edit(self) -> Iterator[GameState | None]:
        """The game under the lock, saved when the block ends (if there is one)."""
        with self.locked():
            state = self._load()
            yield state
            if state is not None:
                self.save(state)

    def _load(self) -> GameState | None:
        try:
            raw = json.loads(self.path.read_text())
            if not isinstance(raw, dict):
                raise TypeError("not a JSON object")
            return GameState(**raw)
        except FileNotFoundError:
            return None
        except (ValueError, TypeError) as e:  # truncated, not JSON, or missing/unknown fields
            self.quarantine(reason=str(e))
            return None

    def quarantine(self, *, reason: str) -> Path | None:
        """Move a damaged journal aside (kept for a post-mortem of the tool itself)."""
        aside = self.path.with_name(f"{self.path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            os.replace(self.path, aside)
        except FileNotFoundError:
            return None
        (aside.with_name(aside.name + ".why")).write_text(reason + "\n")
        return aside

    def load(self) -> GameState | None:
        return self._load()

    def save(self, state: GameState) -> None:
        tmp = self.path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(asdict(state), indent=1))
        os.chmod(tmp, 0o600)  # it names the hidden faults' ids
        os.replace(tmp, self.path)
