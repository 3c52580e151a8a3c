"""Stack: the facade notebooks and the CLI use (status, faults, metrics, logs, alerts).

It loads the backend from the table in chaoslib.backends (`--backend`, or CHAOSCTL_BACKEND);
everything behind it is written against the base.
"""
from __future__ import annotations

from chaoslib.backends import load
from chaoslib.backends.base import Backend, Progress, ServiceStatus, no_progress
from chaoslib.config import Settings


class Stack:
    """One running (or not yet running) game stack."""

    def __init__(self, backend: str | Backend | None = None, *, settings: Settings | None = None) -> None:
        self.backend = backend if isinstance(backend, Backend) else load(backend, settings=settings)
        self.settings: Settings = getattr(self.backend, "settings", settings or Settings())

    # -- lifecycle ------------------------------------------------------------------
    def up(self, *, replicas: int | None = None, progress: Progress = no_progress) -> None:
        self.backend.up(replicas=replicas, progress=progress)

    def down(self, *, purge: bool = False, progress: Progress = no_progress) -> None:
        self.backend.down(purge=purge, progress=progress)

    def status(self) -> list[ServiceStatus]:
        return self.backend.status()

    def status_frame(self):
        """Status as a pandas DataFrame, one row per service."""
        import pandas as pd

        return pd.DataFrame([s.to_dict() for s in self.status()])

    def healthy(self) -> bool:
        services = self.status()
        return bool(services) and all(s.healthy for s in services)

    def targets(self) -> list[str]:
        return self.backend.targets()
