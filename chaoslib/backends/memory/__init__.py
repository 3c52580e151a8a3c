"""The in-memory backend: the whole contract as plain Python state, for fast tests without root."""
from __future__ import annotations

from chaoslib.backends.memory.backend import MemoryBackend

__all__ = ["MemoryBackend"]
