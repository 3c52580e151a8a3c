"""The contract's lifecycle and process primitives: start and stop the stack, report it, restart services."""
from __future__ import annotations

from chaoslib.backends.base.contract import Contract
from chaoslib.backends.base.types import Progress, ServiceStatus, no_progress


class LifecyclePrimitives(Contract):
    """Start, stop and report the stack; restart, stop and start one service."""

    def up(self, *, replicas: int | None = None, progress: Progress = no_progress) -> None:
        """Start the whole stack and return once every service is healthy."""
        raise self._missing("up")

    def down(self, *, purge: bool = False, progress: Progress = no_progress) -> None:
        """Stop everything; leave no process, mount, cgroup or rule behind."""
        raise self._missing("down")

    def is_up(self) -> bool:
        """True when the stack's supervisor (or engine project) is running."""
        raise self._missing("is_up")

    def status(self) -> list[ServiceStatus]:
        """Every service with its state, health and restarts; replicas with saturation."""
        raise self._missing("status")

    def targets(self) -> list[str]:
        """The names of the app replicas faults can target (app1, app2, ...)."""
        raise self._missing("targets")

    def endpoints(self) -> dict[str, str]:
        """URLs an engineer opens, by name (app, prometheus, alertmanager, pager, ...).

        Optional: a backend with nothing to open returns no URL, and the CLI prints none.
        """
        return {}

    # -- processes ----------------------------------------------------------------
    def restart(self, *, target: str) -> None:
        """Restart a service (a replica, or infrastructure) as an operator would."""
        raise self._missing("restart")

    def stop(self, *, target: str) -> None:
        """Stop a service and keep it stopped."""
        raise self._missing("stop")

    def ensure_running(self, *, target: str) -> None:
        """Start a service if it is not running (stopped, FATAL, or backing off in a crash loop)."""
        raise self._missing("ensure_running")

    def pid_of(self, *, target: str) -> int | None:
        """The main pid of a service, or None when it is not running."""
        raise self._missing("pid_of")

    def service_pids(self) -> dict[str, list[int]]:
        """Every running service's processes as host pids (its main process and all it forked).

        What the footprint benchmark sums memory over; a service that is not running is absent.
        """
        raise self._missing("service_pids")
