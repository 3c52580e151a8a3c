"""Each replica's own disk: a size-limited tmpfs, mounted under the state directory."""
from __future__ import annotations

import errno
import os
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from chaoslib.errors import FaultError, PrerequisiteError, UsageError

CHUNK = 1 << 20


@dataclass(frozen=True)
class DiskUsage:
    """How full a target's own disk is."""

    used_bytes: int
    size_bytes: int

    @property
    def free_bytes(self) -> int:
        return max(0, self.size_bytes - self.used_bytes)

    @property
    def used_ratio(self) -> float:
        return self.used_bytes / self.size_bytes if self.size_bytes else 0.0


@dataclass(frozen=True)
class FileInfo:
    """A file on a target's disk, as an engineer would see it with `du`."""

    path: str  # relative to the disk's root
    size_bytes: int
    mtime: float


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


def _parts(rel: str) -> list[str]:
    """The components of a path on the disk; refuses anything that escapes it."""
    parts = [p for p in str(rel).split("/") if p not in ("", ".")]
    if not rel or str(rel).startswith("/") or ".." in parts or not parts or "\0" in str(rel):
        raise UsageError(f"path must be relative to the disk and stay inside it: {rel!r}", field="path", value=rel)
    return parts


# Every operation below opens the disk's root once and walks down with O_NOFOLLOW from a
# directory descriptor: the replica's user owns the disk, so any name on it may be a link
# planted to make root write or delete elsewhere. A link is never followed; a folder swapped
# for a link between two calls is refused (ELOOP/ENOTDIR), not traversed.
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _open_root(root: Path) -> int:
    return os.open(root, _DIR)


def _walk_to_parent(root: Path, parts: list[str], *, create: bool) -> list[int]:
    """Descriptors of root and each folder down to the parent of the last part (caller closes)."""
    fds = [_open_root(root)]
    try:
        for name in parts[:-1]:
            if create:
                try:
                    os.mkdir(name, 0o750, dir_fd=fds[-1])
                except FileExistsError:
                    pass
            fds.append(os.open(name, _DIR, dir_fd=fds[-1]))
    except OSError:
        for fd in fds:
            os.close(fd)
        raise
    return fds


def _close(fds: list[int]) -> None:
    for fd in fds:
        os.close(fd)


def write_junk(root: Path, rel: str, size_bytes: int, *, tag: str = "") -> int:
    """Write up to `size_bytes` of junk at root/rel until the disk is full; bytes written.

    With `tag`, the file is marked as a fault's junk (an extended attribute set on the open
    file), so a sweep can find it without the fault registry.
    """
    parts = _parts(rel)
    written = 0
    block = os.urandom(4096) * (CHUNK // 4096)
    try:
        fds = _walk_to_parent(root, parts, create=True)
    except OSError as e:
        raise FaultError(f"cannot create {rel!r} on {root}: {e}") from e
    try:
        fd = os.open(parts[-1], os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                     0o640, dir_fd=fds[-1])
    except OSError as e:
        _close(fds)
        raise FaultError(f"cannot create {rel!r} on {root}: {e}") from e
    _close(fds)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise FaultError(f"{rel!r} on {root} is not a regular file", hint="pick another path")
        if tag:
            try:
                os.setxattr(fd, JUNK_XATTR, tag.encode())
            except OSError:  # a filesystem without user xattrs: the registry still knows the file
                pass
        while written < size_bytes:
            n = min(CHUNK, size_bytes - written)
            try:
                written += os.write(fd, block[:n])
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise FaultError(f"writing {rel!r} on {root} failed: {e}") from e
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


def _is_tagged(dir_fd: int, name: str) -> bool:
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError:
        return False
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False
        os.getxattr(fd, JUNK_XATTR)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def _fwalk(root: Path):
    """os.fwalk from the root opened without following a link; nothing when the root is not a folder."""
    try:
        os.close(_open_root(root))
    except OSError:
        return iter(())
    return os.fwalk(root, follow_symlinks=False)


def tagged_junk(root: Path) -> list[str]:
    """The files under `root` (relative paths) that a fault marked as its junk."""
    found = []
    for dirpath, _dirs, files, dir_fd in _fwalk(root):
        for name in files:
            if _is_tagged(dir_fd, name):
                found.append(str((Path(dirpath) / name).relative_to(root)))
    return found


def list_files(root: Path) -> list[FileInfo]:
    """Every file on the disk (links included, as links: never what they point to), biggest first."""
    out = []
    for dirpath, _dirs, files, dir_fd in _fwalk(root):
        for name in files:
            try:
                st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            except FileNotFoundError:
                continue
            out.append(FileInfo(path=str((Path(dirpath) / name).relative_to(root)), size_bytes=st.st_blocks * 512,
                                mtime=st.st_mtime))
    out.sort(key=lambda f: f.size_bytes, reverse=True)
    return out


def remove_file(root: Path, rel: str) -> bool:
    """Unlink root/rel (a link is removed itself, never its target); True when something was removed.

    A folder on the way that is now a link (swapped since the listing) is not followed:
    nothing is removed and False is returned.
    """
    parts = _parts(rel)
    try:
        fds = _walk_to_parent(root, parts, create=False)
    except OSError as e:
        if e.errno in (errno.ENOENT, errno.ELOOP, errno.ENOTDIR):
            return False
        raise FaultError(f"cannot reach {rel!r} on {root}: {e}") from e
    try:
        try:
            os.unlink(parts[-1], dir_fd=fds[-1])
        except FileNotFoundError:
            return False
        except IsADirectoryError as e:
            raise UsageError(f"{rel!r} is a folder, not a file", field="path", value=rel) from e
        # Remove directories the junk created, if now empty (never the disk root).
        for depth in range(len(fds) - 1, 0, -1):
            try:
                os.rmdir(parts[depth - 1], dir_fd=fds[depth - 1])
            except OSError:
                break
        return True
    finally:
        _close(fds)
