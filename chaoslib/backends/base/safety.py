"""The contract's safety primitives: sweep every trace of any fault, and snapshot what faults can change."""
from __future__ import annotations

from typing import Any

from chaoslib.backends.base.contract import Contract


class SafetyPrimitives(Contract):
    """The last line of defence behind `panic`, and the footprint tests compare."""

    def reset_faults(self) -> list[str]:
        """Remove every trace any fault could leave (rules, limits, junk); say what was done.

        The last line of defence behind `panic`: it needs no record of what was injected.
        """
        raise self._missing("reset_faults")

    def fault_footprint(self) -> dict[str, Any]:
        """A snapshot of everything faults can change (rules, limits, disk use, pids).

        Tests compare it before and after to prove the host is exactly as before.
        """
        raise self._missing("fault_footprint")
