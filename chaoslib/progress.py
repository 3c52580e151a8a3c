"""Progress: the one way a long wait tells the person what it is doing (a line every few seconds).

A `Progress` is any callable taking one line (`print` is one). A line may carry its figures
(`ProgressLine`: a phase and how far along it is), so a progress bar reads numbers, never
parses text.
"""
from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str], None]


def no_progress(_line: str) -> None:
    """Progress that shows nothing."""


class ProgressLine(str):
    """A progress line that also carries its phase and how far along it is (`done` of `total`)."""

    phase: str
    done: float
    total: float

    def __new__(cls, text: str, *, phase: str = "", done: float = 0.0, total: float = 0.0) -> ProgressLine:
        line = super().__new__(cls, text)
        line.phase, line.done, line.total = phase, float(done), float(total)
        return line

    @property
    def fraction(self) -> float:
        """How far along the phase is, from 0 to 1 (1 when it has no total)."""
        return min(1.0, self.done / self.total) if self.total else 1.0
