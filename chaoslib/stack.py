"""Stack: the stack in hand: its backend, its endpoints (where to look) and its status.

It loads the backend from the table in chaoslib.backends (`--backend`, or CHAOSCTL_BACKEND);
everything behind it is written against the base.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from chaoslib.backends import load
from chaoslib.backends.base import Backend, Progress, ServiceStatus, no_progress
from chaoslib.config import Settings
from chaoslib.errors import UsageError

if TYPE_CHECKING:  # pandas is heavy: `chaosctl status` and the warden never need it
    import pandas as pd


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

    def status_frame(self) -> pd.DataFrame:
        """Status as a pandas DataFrame, one row per service."""
        import pandas as pd  # pandas is heavy: `chaosctl status` and the warden never need it

        return pd.DataFrame([s.to_dict() for s in self.status()])

    def healthy(self) -> bool:
        services = self.status()
        return bool(services) and all(s.healthy for s in services)

    def targets(self) -> list[str]:
        return self.backend.targets()

    # -- where to look ------------------------------------------------------------------
    def endpoints(self) -> dict[str, str]:
        """Every service address this stack publishes, by name (URLs: http://, postgres://)."""
        return dict(self.backend.endpoints())

    def endpoint(self, name: str) -> str:
        """The URL of `name` (prometheus, alertmanager, pager, elasticsearch, ...) on this stack's backend.

        The backend in hand says where to look (CHAOSCTL_<NAME>_URL, read by config, overrides it);
        a name it does not publish is a one-line error, never a guess at another stack.
        """
        urls = self.backend.endpoints()
        if name not in urls:
            raise UsageError(f"the {self.backend.name} backend has no {name}", field="endpoint", value=name,
                             hint=f"it offers {', '.join(sorted(urls)) or 'none'}")
        return urls[name]
