"""The native stack's record of each replica's releases: a JSON file in the run folder, written atomically.

Only rolls are recorded ({replica: [[unix time, version], ...]}, a roll with knob overrides as
[unix time, version, {APP_...: value}]); a replica with none runs releases.CURRENT since the stack
started. `down` removes the file: the next `up` deploys CURRENT.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from pollapp import releases

Entry = tuple[float, str]


def load(path: Path) -> dict[str, list[Entry]]:
    """Every replica's recorded rolls, oldest first (none when the file is absent, unreadable or torn)."""
    try:
        raw = json.loads(path.read_text())
    except (FileNotFoundError, PermissionError, ValueError):
        return {}
    return {name: [(float(roll[0]), str(roll[1])) for roll in rolls] for name, rolls in raw.items()}


def knobs(path: Path) -> dict[str, dict[str, str]]:
    """Each rolled replica's knob overrides: its last roll's (none when that roll had none)."""
    try:
        raw = json.loads(path.read_text())
    except (FileNotFoundError, PermissionError, ValueError):
        return {}
    return {name: {str(k): str(v) for k, v in rolls[-1][2].items()} if rolls and len(rolls[-1]) > 2 else {}
            for name, rolls in raw.items()}


def current(rolls: dict[str, list[Entry]], name: str) -> str:
    """The version a replica runs: its last roll's, or CURRENT."""
    return rolls[name][-1][1] if rolls.get(name) else releases.CURRENT


def running(rolls: dict[str, list[Entry]], names: list[str]) -> dict[str, str]:
    """Each replica's version."""
    return {name: current(rolls, name) for name in names}


def history(rolls: dict[str, list[Entry]], name: str, *, since: float) -> list[Entry]:
    """A replica's releases, oldest first: CURRENT from `since` (the stack's start), then each roll."""
    return [(since, releases.CURRENT), *rolls.get(name, [])]


def append(path: Path, name: str, version: str, at: float, overrides: dict[str, str] | None = None) -> None:
    """Record that `name` runs `version` from `at` (with its knob `overrides`, if any)."""
    try:
        raw = json.loads(path.read_text())
    except (FileNotFoundError, PermissionError, ValueError):
        raw = {}
    raw.setdefault(name, []).append([at, version, overrides] if overrides else [at, version])
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(raw, sort_keys=True))
    os.chmod(tmp, 0o640)
    os.replace(tmp, path)
