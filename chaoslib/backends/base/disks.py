"""The contract's disk primitives: measure, fill, list and clean a replica's own disk."""
from __future__ import annotations

from chaoslib.backends.base.contract import Contract
from chaoslib.backends.base.types import DiskUsage, FileInfo


class DiskPrimitives(Contract):
    """A replica's own disk."""

    def disk_usage(self, *, target: str) -> DiskUsage:
        """How full a replica's own disk is."""
        raise self._missing("disk_usage")

    def write_file(self, *, target: str, path: str, size_bytes: int, tag: str = "") -> int:
        """Write up to `size_bytes` of junk at `path` on a replica's disk (until it is full).

        `tag` marks the file as a fault's junk in a way `ls` does not show, so that
        `reset_faults` can find it without the registry.
        """
        raise self._missing("write_file")

    def list_files(self, *, target: str) -> list[FileInfo]:
        """Every file on a replica's disk, largest first."""
        raise self._missing("list_files")

    def remove_file(self, *, target: str, path: str) -> bool:
        """Remove one file (relative path) from a replica's disk; False if it was not there."""
        raise self._missing("remove_file")
