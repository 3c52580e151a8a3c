"""Rolling a native replica to another release: re-render its supervisord program with that release's
environment, replace only that program (supervisord's reloadConfig), start it, and record the roll."""
from __future__ import annotations

import time
from collections.abc import Mapping

from chaoslib.backends.base import HistoryEntry, check_release, check_settings
from chaoslib.backends.local.setup import LocalSetup
from chaoslib.errors import ServiceError
from chaoslib.native import release_log


class LocalReleases(LocalSetup):
    """set_release, release and release_history over the run folder's releases.json."""

    def release(self, *, target: str) -> str:
        self._check_target(target)
        return release_log.current(release_log.load(self._release_file()), target)

    def release_history(self, *, target: str) -> list[HistoryEntry]:
        self._check_target(target)
        started = float((self._stack_file() or {}).get("started_at", 0.0))
        return release_log.history(release_log.load(self._release_file()), target, since=started)

    def set_release(self, *, target: str, release: str, settings: Mapping[str, str] | None = None) -> None:
        """A deploy of one replica: its program's environment now names `release` (and `settings`' knobs); a plain
        restart keeps it."""
        self._check_target(target)
        check_release(release)
        overrides = check_settings(settings)
        rolls, knobs = release_log.load(self._release_file()), release_log.knobs(self._release_file())
        if release_log.current(rolls, target) == release and knobs.get(target, {}) == overrides:
            return
        if not self.supervisor.running():
            raise ServiceError(target, f"cannot be rolled to {release}: the stack is not running",
                               hint="start it with `chaosctl up`")
        running = {**release_log.running(rolls, self.settings.replica_names()), target: release}
        self._render_supervisor(self._programs(running, {**knobs, target: overrides}))
        self.supervisor.update(target)
        # Recorded once its program names the release, started or not (a release that cannot boot crash-loops).
        release_log.append(self._release_file(), target, release, time.time(), overrides)
        self.supervisor.start(target)
