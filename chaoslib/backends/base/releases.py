"""The contract's release primitives: which release each replica runs, and rolling one to another.

A roll is a restart of the replica with that release's environment (pollapp/releases.py holds
the table); the release survives a plain restart (a player's restart never rolls back), and each
replica's history of rolls is kept by the backend so a player can line a version change up with
a symptom. `panic`'s sweep puts every replica back on releases.CURRENT.
"""
from __future__ import annotations

from collections.abc import Mapping

from chaoslib.backends.base.contract import Contract
from chaoslib.errors import UsageError
from pollapp import releases

#: One entry of a replica's release history: (unix time it started running it, version).
HistoryEntry = tuple[float, str]


def check_release(release: str) -> str:
    """`release` when the table names it; a one-line UsageError naming the known releases otherwise."""
    if release not in releases.RELEASES:
        raise UsageError(f"unknown release {release!r}: releases are {', '.join(releases.known())}",
                         field="release", value=release)
    return release


def check_settings(settings: Mapping[str, object] | None) -> dict[str, str]:
    """A roll's knob overrides (releases.KNOB_ENV's APP_* variables) as strings, checked; a UsageError otherwise."""
    out = {str(k): str(v) for k, v in (settings or {}).items()}
    unknown = sorted(set(out) - set(releases.KNOB_ENV.values()))
    if unknown:
        raise UsageError(f"unknown release setting {unknown[0]!r}: settings are "
                         f"{', '.join(releases.KNOB_ENV.values())}", field="settings", value=unknown[0])
    try:
        releases.from_environment(out)
    except releases.UnknownRelease as e:
        raise UsageError(str(e), field="settings", value=out) from None
    return out


class ReleasePrimitives(Contract):
    """set_release, release and release_history of the app's replicas (Features.releases)."""

    def set_release(self, *, target: str, release: str, settings: Mapping[str, str] | None = None) -> None:
        """Roll a replica to `release`: restart it with that release's environment (a no-op if it runs it).

        `settings` override the release's knobs (APP_VOTE_ERROR_SHARE...: how a fault sets its
        strength); they hold until the next roll, which replaces them (none: the release's own).
        """
        raise self._missing("set_release")

    def release(self, *, target: str) -> str:
        """The version a replica runs (releases.CURRENT until it is rolled)."""
        raise self._missing("release")

    def release_history(self, *, target: str) -> list[HistoryEntry]:
        """The replica's releases, oldest first: (when it started running it, version); the last is current."""
        raise self._missing("release_history")
