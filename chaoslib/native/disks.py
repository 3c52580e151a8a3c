"""Each replica's own disk: a size-limited tmpfs, mounted under the state directory."""
from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

from ..backends.base import DiskUsage, FileInfo
from ..errors import FaultError, PrerequisiteError, UsageError

CHUNK = 1 << 20


def _mounts() -> list[tuple[str, str]]:
    out = []
    with open("/proc/mounts") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3:
                out.append((parts[0], parts[1].replace("\\040", " ")))
    return out


def is_mounted(path: Path) -> bool:
    p = str(path.resolve())
    return any(mp == p for _, mp in _mounts())


def mount(path: Path, *, size_mb: int, uid: int, gid: int, label: str) -> None:
    """Mount a tmpfs of `size_mb` MiB at `path`, owned by uid:gid (idempotent)."""
    path.mkdir(parents=True, exist_ok=True)
    if is_mounted(path):
        os.chown(path, uid, gid)
        return
    opts = f"size={int(size_mb)}m,mode=0750,uid={uid},gid={gid},nosuid,nodev"
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", opts, label, str(path)],
                       check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as e:
        raise PrerequisiteError(f"cannot mount a tmpfs at {path}: {e.stderr.strip()}",
                                hint="the native backend must run as root") from e


def unmount(path: Path) -> None:
    """Unmount (lazily if busy); idempotent."""
    if not is_mounted(path):
        return
    proc = subprocess.run(["umount", str(path)], capture_output=True, text=True)
    if proc.returncode != 0:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, text=True)


def mounted_under(base: Path) -> list[str]:
    """Mount points below `base` (for leftover checks)."""
    b = str(base.resolve())
    return [mp for _, mp in _mounts() if mp == b or mp.startswith(b + "/")]


def usage(path: Path) -> DiskUsage:
    st = os.statvfs(path)
    size = st.f_blocks * st.f_frsize
    free = st.f_bfree * st.f_frsize
    return DiskUsage(used_bytes=size - free, size_bytes=size)


def _resolve(root: Path, rel: str) -> Path:
    """A path on the disk; refuses anything that escapes it."""
    if not rel or rel.startswith("/") or ".." in Path(rel).parts:
        raise UsageError(f"path must be relative to the disk and stay inside it: {rel!r}", field="path", value=rel)
    return root / rel


def write_junk(root: Path, rel: str, size_bytes: int) -> int:
    """Write up to `size_bytes` of junk at root/rel until the disk is full; bytes written."""
    target = _resolve(root, rel)
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    block = os.urandom(4096) * (CHUNK // 4096)
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
    except OSError as e:
        raise FaultError(f"cannot create {target}: {e}") from e
    try:
        while written < size_bytes:
            n = min(CHUNK, size_bytes - written)
            try:
                written += os.write(fd, block[:n])
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise FaultError(f"writing {target} failed: {e}") from e
                # Fill the last pages with smaller writes, then stop.
                for small in (65536, 4096, 512, 64, 1):
                    while True:
                        try:
                            written += os.write(fd, block[:small])
                        except OSError:
                            break
                break
    finally:
        os.close(fd)
    return written


#: The extended attribute that marks a file as a fault's junk (invisible to `ls`).
JUNK_XATTR = "user.chaos.fault"


def tag_junk(path: Path, tag: str) -> None:
    """Mark `path` as a fault's junk, so a sweep can find it without the fault registry."""
    try:
        os.setxattr(path, JUNK_XATTR, tag.encode())
    except OSError:  # a filesystem without user xattrs: the registry still knows the file
        pass


def tagged_junk(root: Path) -> list[str]:
    """The files under `root` (relative paths) that a fault marked as its junk."""
    found = []
    for f in list_files(root):
        try:
            os.getxattr(root / f.path, JUNK_XATTR)
            found.append(f.path)
        except OSError:
            pass
    return found


def list_files(root: Path) -> list[FileInfo]:
    out = []
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            p = Path(dirpath) / name
            try:
                st = p.lstat()
            except FileNotFoundError:
                continue
            out.append(FileInfo(path=str(p.relative_to(root)), size_bytes=st.st_blocks * 512, mtime=st.st_mtime))
    out.sort(key=lambda f: f.size_bytes, reverse=True)
    return out


def remove_file(root: Path, rel: str) -> bool:
    target = _resolve(root, rel)
    try:
        target.unlink()
    except FileNotFoundError:
        return False
    # Remove directories the junk created, if now empty (never the disk root).
    parent = target.parent
    while parent != root and parent.is_dir():
        try:
            parent.rmdir()
        except OSError:
            break
        parent = parent.parent
    return True
