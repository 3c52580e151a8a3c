"""Page out what a process's executable touched only while starting: clean file pages it does not use again.

A Go service maps its whole binary (Traefik's is 185 MB). Starting, it parses its configuration and
builds its providers with code it never runs again, and the page cache's readahead brings a window
around every page it touches: those clean, file-backed pages stay resident and count in its PSS
(Traefik: 77 MiB, of which 23 are touched again under load). `process_madvise(MADV_PAGEOUT)`
reclaims them now, as memory pressure would later; a page the process needs again is read back on
its next touch, so nothing is lost. Linux 5.10 or later and CAP_SYS_NICE (root); elsewhere nothing
is done (best effort, never an error: a stack runs the same without it).
"""
from __future__ import annotations

import ctypes
import os

#: Syscall numbers (the same on x86_64 and arm64: both came after the tables were unified).
_SYS_PIDFD_OPEN = 434
_SYS_PROCESS_MADVISE = 440
_MADV_PAGEOUT = 21
#: The most ranges one call takes (UIO_MAXIOV).
_IOV_MAX = 1024


class _IoVec(ctypes.Structure):
    _fields_ = [("iov_base", ctypes.c_void_p), ("iov_len", ctypes.c_size_t)]


def file_ranges(pid: int) -> list[tuple[int, int]]:
    """(start, length) of the process's read-only file mappings: its executable's code and constants, the
    libraries'. Writable mappings (data, a file it writes through memory) are left alone."""
    out = []
    try:
        with open(f"/proc/{pid}/maps") as maps:
            for line in maps:
                parts = line.split()
                if len(parts) >= 6 and parts[5].startswith("/") and parts[1][1] != "w":
                    start, end = (int(x, 16) for x in parts[0].split("-"))
                    out.append((start, end - start))
    except OSError:
        return []
    return out


def file_pss_kib(pid: int) -> int:
    """The process's file-backed PSS in KiB (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            return next((int(line.split()[1]) for line in rollup if line.startswith("Pss_File:")), 0)
    except OSError:
        return 0


def page_out(pid: int) -> int:
    """Reclaim the clean pages of the process's read-only file mappings; KiB of PSS freed (0: not possible)."""
    ranges = file_ranges(pid)
    if not ranges:
        return 0
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = libc.syscall(_SYS_PIDFD_OPEN, pid, 0)
    if pidfd < 0:
        return 0
    before = file_pss_kib(pid)
    try:
        for i in range(0, len(ranges), _IOV_MAX):
            chunk = ranges[i:i + _IOV_MAX]
            vec = (_IoVec * len(chunk))(*(_IoVec(start, length) for start, length in chunk))
            if libc.syscall(_SYS_PROCESS_MADVISE, pidfd, vec, len(chunk), _MADV_PAGEOUT, 0) < 0:
                return 0  # ENOSYS (an older kernel), EPERM (no CAP_SYS_NICE), ESRCH (it exited)
    finally:
        os.close(pidfd)
    return max(0, before - file_pss_kib(pid))
