"""kernel.pageout on a real process: the clean pages of a file it mapped leave its PSS, and it reads them back
whole on its next touch (root needed: process_madvise wants CAP_SYS_NICE)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from chaoslib.kernel import pageout

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="process_madvise needs root (CAP_SYS_NICE)")
SIZE = 32 * 2**20
#: A process that maps a file read-only, touches every page, says so, then on a line touches them all again
#: (and waits for another before it exits).
CHILD = """
import mmap, sys, zlib
with open(sys.argv[1], "rb") as f:
    m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
def touch():
    return zlib.crc32(bytes(m[i] for i in range(0, len(m), 4096)))
print(touch(), flush=True)
sys.stdin.readline()
print(touch(), flush=True)
sys.stdin.readline()
"""


def test_a_mapped_files_pages_leave_and_come_back_intact(tmp_path):
    path = tmp_path / "binary"
    with open(path, "wb") as f:  # on disk and out of the page cache, as an installed binary is once cold
        f.write(os.urandom(SIZE))
        f.flush()
        os.fsync(f.fileno())
        os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        first = child.stdout.readline().strip()
        mapped = pageout.file_pss_kib(child.pid)
        assert mapped >= 28 * 1024, mapped  # the control: every page of the file is resident
        assert any(length >= SIZE for _, length in pageout.file_ranges(child.pid))
        freed = pageout.page_out(child.pid)
        left = pageout.file_pss_kib(child.pid)
        assert freed >= 24 * 1024 and left < mapped - 24 * 1024, (mapped, freed, left)
        child.stdin.write("again\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == first  # read back from the file, every byte as before
        assert pageout.file_pss_kib(child.pid) >= 28 * 1024
    finally:
        child.kill()
        child.wait()
    assert pageout.page_out(child.pid) == 0  # a process gone: nothing to do, no error
