"""One small error hierarchy: everything chaoslib raises on purpose is a ChaosError.

The CLI prints `str(error)` as one line; notebooks show the same message. Leaves carry the
fields a caller may want (the service, its last log lines, the bad value).
"""
from __future__ import annotations


class ChaosError(Exception):
    """Base of every error chaoslib raises on purpose."""

    hint: str = ""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        if hint:
            self.hint = hint

    def one_line(self) -> str:
        """The message and what to do, on one line."""
        text = str(self).strip().replace("\n", " ")
        return f"{text} ({self.hint})" if self.hint else text


class PrerequisiteError(ChaosError):
    """Something the machine lacks: root, a binary, a free port, a kernel feature."""


class UsageError(ChaosError):
    """Bad input from the user: unknown scenario, target or parameter, value out of range."""

    def __init__(self, message: str, *, field: str = "", value: object = None, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.field = field
        self.value = value


class ServiceError(ChaosError):
    """A service of the stack did not start or is not healthy."""

    def __init__(self, service: str, message: str, *, log_tail: str = "", hint: str = "") -> None:
        super().__init__(f"{service}: {message}", hint=hint)
        self.service = service
        self.log_tail = log_tail


class FaultError(ChaosError):
    """A fault could not be injected or undone."""

    def __init__(self, message: str, *, fault_id: str = "", hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.fault_id = fault_id


class SweepError(FaultError):
    """The host sweep behind `panic` could not remove everything; what it did and did not do."""

    def __init__(self, done: list[str], failures: list[str]) -> None:
        super().__init__(f"the sweep could not undo {len(failures)} thing(s): {failures[0]}",
                         hint="run `chaosctl down`, then `chaosctl up`")
        self.done = done
        self.failures = failures


class NotSupported(ChaosError):
    """The backend lacks a feature a scenario needs (e.g. netem for latency)."""

    def __init__(self, feature: str, backend: str) -> None:
        super().__init__(f"the {backend} backend cannot do '{feature}' on this machine")
        self.feature = feature
        self.backend = backend


class ObserveError(ChaosError):
    """Prometheus, Alertmanager or the logs could not be queried."""

    def __init__(self, message: str, *, source: str = "", query: str = "", hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.source = source
        self.query = query


class GameError(ChaosError):
    """The game was used out of order (no incident, already solved, ...)."""
