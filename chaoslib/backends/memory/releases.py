"""Releases in memory: each replica's version and its history of rolls, kept on its Service."""
from __future__ import annotations

import time
from collections.abc import Mapping

from chaoslib.backends.base import HistoryEntry, check_release, check_settings
from chaoslib.backends.memory.lifecycle import MemoryLifecycle


class MemoryReleases(MemoryLifecycle):
    """set_release restarts the replica on the new release; restart() keeps whatever it runs."""

    def release(self, *, target: str) -> str:
        return self._check_target(target).release

    def release_history(self, *, target: str) -> list[HistoryEntry]:
        return list(self._check_target(target).releases)

    def set_release(self, *, target: str, release: str, settings: Mapping[str, str] | None = None) -> None:
        s = self._check_target(target)
        check_release(release)
        knobs = check_settings(settings)
        if s.release == release and s.knobs == knobs:
            return
        s.release, s.knobs = release, knobs
        s.releases.append((time.time(), release))
        s.log.append(f"{time.strftime('%H:%M:%S')} {s.name}: deploying release {release}")
        self.restart(target=target)
