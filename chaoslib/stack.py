"""Stack: the facade notebooks and the CLI use (status, faults, metrics, logs, alerts).

It picks the backend (`--backend`, or CHAOSCTL_BACKEND, default "local") and is the only
place that knows which one is in use; everything behind it is written against the base.
"""
from __future__ import annotations

import os

from .backends.base import Backend, Progress, ServiceStatus, no_progress
from .config import Settings
from .errors import UsageError

BACKENDS = ("local", "docker")


def make_backend(name: str | None = None, *, settings: Settings | None = None) -> Backend:
    """The backend called `name` (default: CHAOSCTL_BACKEND or "local")."""
    name = name or os.environ.get("CHAOSCTL_BACKEND", "local")
    if name == "local":
        from .backends.local import LocalBackend

        return LocalBackend(settings)
    if name == "docker":
        from .backends.docker import DockerBackend

        return DockerBackend(settings)
    raise UsageError(f"unknown backend {name!r}", field="backend", value=name,
                     hint=f"choose one of {', '.join(BACKENDS)}")


class Stack:
    """One running (or not yet running) game stack."""

    def __init__(self, backend: str | Backend | None = None, *, settings: Settings | None = None) -> None:
        self.backend = backend if isinstance(backend, Backend) else make_backend(backend, settings=settings)
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
