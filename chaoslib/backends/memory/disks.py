"""Replica disks in memory: sizes only, no bytes; they fill up like a size-limited tmpfs."""
from __future__ import annotations

import time

from chaoslib.backends.base import DiskUsage, FileInfo
from chaoslib.backends.memory.lifecycle import MemFile, MemoryLifecycle, Service
from chaoslib.errors import FaultError, UsageError


def clean_path(rel: str) -> str:
    """A path relative to the disk, normalised; anything that escapes it is a UsageError."""
    parts = [p for p in str(rel).split("/") if p not in ("", ".")]
    if not rel or str(rel).startswith("/") or ".." in parts or not parts or "\0" in str(rel):
        raise UsageError(f"path must be relative to the disk and stay inside it: {rel!r}", field="path", value=rel)
    return "/".join(parts)


class MemoryDisks(MemoryLifecycle):
    """disk_usage/write_file/list_files/remove_file over each replica's `files`."""

    def _disk(self, target: str) -> Service:
        if not self.services and target in self.settings.replica_names():
            raise FaultError(f"{target}'s disk is not mounted", hint="is the stack up? run `chaosctl up`")
        return self._check_target(target)

    def disk_usage(self, *, target: str) -> DiskUsage:
        s = self._disk(target)
        return DiskUsage(used_bytes=sum(f.size_bytes for f in s.files.values()), size_bytes=s.disk_size)

    def write_file(self, *, target: str, path: str, size_bytes: int, tag: str = "") -> int:
        s, rel = self._disk(target), clean_path(path)
        if any(p.startswith(rel + "/") for p in s.files):
            raise FaultError(f"{rel!r} on {target} is not a regular file", hint="pick another path")
        free = self.disk_usage(target=target).free_bytes
        written = max(0, min(int(size_bytes), free))
        old = s.files.get(rel)
        s.files[rel] = MemFile(size_bytes=(old.size_bytes if old else 0) + written, mtime=time.time(),
                               tag=tag or (old.tag if old else ""))
        return written

    def list_files(self, *, target: str) -> list[FileInfo]:
        s = self._disk(target)
        return sorted((FileInfo(p, f.size_bytes, f.mtime) for p, f in s.files.items()),
                      key=lambda f: (-f.size_bytes, f.path))

    def remove_file(self, *, target: str, path: str) -> bool:
        s, rel = self._disk(target), clean_path(path)
        if any(p.startswith(rel + "/") for p in s.files):
            raise UsageError(f"{rel!r} is a folder, not a file", field="path", value=rel)
        return s.files.pop(rel, None) is not None

    def _tagged_junk(self, target: str) -> list[str]:
        return sorted(p for p, f in self.services[target].files.items() if f.tag)
