"""The root of every contract mixin: a backend's name, its features, and the error a missing primitive raises."""
from __future__ import annotations

from chaoslib.backends.base.features import Features
from chaoslib.config import Settings


class Contract:
    """What every area of the contract shares."""

    #: Short name used by `--backend` and in messages.
    name: str = "base"
    #: What this backend can do on this machine (see Features).
    features: Features = Features()
    #: The stack's settings (its state folder, replicas, disk size...).
    settings: Settings

    def __init__(self, settings: Settings | None = None) -> None:
        """Every backend is built from the settings alone (backends.load does so)."""
        self.settings = settings or Settings()

    def _missing(self, primitive: str) -> NotImplementedError:
        return NotImplementedError(f"{type(self).__name__} must implement Backend.{primitive}()")
