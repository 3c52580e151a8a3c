"""The in-memory backend: the whole contract as plain Python state, for fast tests without root."""
from __future__ import annotations

from .backend import MemoryBackend

__all__ = ["MemoryBackend"]
