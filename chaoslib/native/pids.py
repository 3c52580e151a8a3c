"""Is this pid still the program we started? Checked before any signal is sent to it.

A pid file outlives its process; the kernel reuses pids. Root must never signal a pid
only because a file names it: the process's command line must still be ours.
"""
from __future__ import annotations

import os


def cmdline(pid: int) -> list[str]:
    """The process's arguments ([] when it is gone or a zombie)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            raw = f.read()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return []
    return [a.decode(errors="replace") for a in raw.split(b"\0") if a]


def alive(pid: int) -> bool:
    """True when `pid` exists and is not a zombie (a process of another user counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def is_ours(pid: int, *needles: str) -> bool:
    """True when `pid` is alive and every needle is a substring of one of its arguments."""
    if pid <= 1 or pid == os.getpid():
        return False
    args = cmdline(pid)
    return bool(args) and all(any(n in a for a in args) for n in needles)


def read_pid(path: os.PathLike) -> int | None:
    """The pid in a pid file, or None when missing or not a number."""
    try:
        return int(open(path).read().strip())
    except (FileNotFoundError, ValueError):
        return None


def stack_processes(uids: set[int], marker: str) -> list[int]:
    """Pids run by one of the stack's own users, or whose arguments name `marker` (its state folder).

    After supervisord died, its programs live on as orphans: this is how `down` finds them.
    """
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in (os.getpid(), 1):
            continue
        pid = int(entry)
        try:
            uid = os.stat(f"/proc/{pid}").st_uid
        except FileNotFoundError:
            continue
        args = cmdline(pid)
        if not args:
            continue
        if uid in uids or (uid == 0 and any(marker in a for a in args) and any("chaoslib" in a or "supervisord" in a
                                                                                for a in args)):
            found.append(pid)
    return found
