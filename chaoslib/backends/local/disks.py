"""Disk faults on the native stack: each replica's own tmpfs under the state folder."""
from __future__ import annotations

from pathlib import Path

from chaoslib.backends.base import DiskUsage, FileInfo
from chaoslib.backends.local.state import LocalState
from chaoslib.errors import FaultError
from chaoslib.kernel import disks


class LocalDisks(LocalState):
    """Measure, fill, list and clean a replica's mounted disk."""

    def _disk(self, target: str) -> Path:
        path = self.settings.disk_path(self._check_target(target))
        if not disks.is_mounted(path):
            raise FaultError(f"{target}'s disk is not mounted", hint="is the stack up? run `chaosctl up`")
        return path

    def disk_usage(self, *, target: str) -> DiskUsage:
        return disks.usage(self._disk(target))

    def write_file(self, *, target: str, path: str, size_bytes: int, tag: str = "") -> int:
        root = self._disk(target)
        return disks.write_junk(root, path, int(size_bytes), tag=tag)

    def list_files(self, *, target: str) -> list[FileInfo]:
        return disks.list_files(self._disk(target))

    def remove_file(self, *, target: str, path: str) -> bool:
        return disks.remove_file(self._disk(target), path)

    def _tagged_junk(self, target: str) -> list[str]:
        return disks.tagged_junk(self.settings.disk_path(target))
