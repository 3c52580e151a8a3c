"""The kernel primitives the native backend builds on, exercised for real (root needed).

nftables rules in the project's own table, cgroup limits, size-limited tmpfs disks: each
test proves the effect and that undoing leaves the host exactly as before.
"""
from __future__ import annotations

import errno
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

import binomial
from chaoslib.kernel import disks, nft
from chaoslib.kernel.cgroups import Cgroups
from chaoslib.kernel.probes import CONNECT

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="kernel primitives need root")


def _server(host: str, port: int) -> socket.socket:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(256)

    def accept():
        while True:
            try:
                conn, _ = s.accept()
                conn.close()
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    return s


def _connect_failures(host: str, port: int, n: int, uid: int | None = None) -> int:
    """Connection attempts that fail within 0.3 s, made as `uid` (via setpriv), 100 at a time (the probes' script)."""
    cmd = [sys.executable, "-c", CONNECT, host, str(port), str(n)]
    if uid is not None:
        cmd = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"] + cmd
    return int(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)


class TestNftables:
    def setup_method(self):
        if nft.table_exists():  # never delete a running stack's rules: these tests run before the live suites
            pytest.fail(f"the table inet {nft.TABLE} exists (a running stack's faults?): run the host tests on a "
                        "host with no Chaos Control stack up, before the live suites")
        self.before = nft.ruleset()
        self.srv = _server("127.0.9.1", 7301)

    def teardown_method(self):
        self.srv.shutdown(socket.SHUT_RDWR)
        self.srv.close()
        nft.delete_table()
        assert nft.ruleset() == self.before

    def test_cut_off_only_matches_its_user(self):
        """A full drop for one uid blocks that uid and leaves every other user's traffic alone."""
        nft.add_drop(key="t-cut", daddr="127.0.9.1", dport=7301, uid=65534, percent=100)
        assert _connect_failures("127.0.9.1", 7301, 5, uid=65534) == 5
        assert _connect_failures("127.0.9.1", 7301, 5) == 0

    @pytest.mark.parametrize("percent", [20, 80])
    def test_loss_ratio_measured_from_outside(self, percent):
        """A loss rule of N % makes N % of the connection attempts fail (not 100 - N, not half)."""
        nft.add_drop(key="t-loss", daddr="127.0.9.1", dport=7301, uid=65534, percent=percent)
        n = binomial.ATTEMPTS
        failed = _connect_failures("127.0.9.1", 7301, n, uid=65534)
        lo, hi = binomial.bounds(n, percent / 100)
        assert lo <= failed <= hi, (failed, lo, hi)
        assert binomial.outside(failed, n, 1 - percent / 100) and binomial.outside(failed, n, 0.5), failed

    @pytest.mark.parametrize("difficulty", ["easy", "normal", "hard"])
    def test_each_difficulty_band_is_told_from_its_neighbours(self, difficulty):
        """The middle of a band's loss fraction is measured inside its bounds and outside every other band's:
        the test of one band fails on its neighbour's setting (bands from the catalogue)."""
        middles = binomial.band_middles("lb-loss")
        p, n = middles[difficulty], binomial.ATTEMPTS
        nft.add_drop(key="t-band", daddr="127.0.9.1", dport=7301, uid=65534, percent=round(p * 100))
        failed = _connect_failures("127.0.9.1", 7301, n, uid=65534)
        lo, hi = binomial.bounds(n, round(p * 100) / 100)
        assert lo <= failed <= hi, (difficulty, failed, lo, hi)
        for q in binomial.neighbours(middles, difficulty):
            assert binomial.outside(failed, n, q), f"{failed}/{n} at {p} would pass the {q} band's test too"

    def test_remove_by_key_prefix_and_table_disappears(self):
        """Removing a fault's key removes its per-target rules, and the empty table goes too."""
        nft.add_drop(key="f-1.app1", daddr="127.0.9.1", dport=7301, uid=65534, percent=100)
        nft.add_drop(key="f-1.app2", daddr="127.0.9.2", dport=7301, uid=65534, percent=100)
        nft.add_drop(key="f-2.app3", daddr="127.0.9.3", dport=7301, uid=65534, percent=30)
        assert {r.key for r in nft.rules()} == {"f-1.app1", "f-1.app2", "f-2.app3"}
        assert nft.remove("f-1") == 2
        assert [r.percent for r in nft.rules()] == [30]
        nft.remove("f-2")
        assert not nft.table_exists()
        assert nft.ruleset() == self.before


class TestCgroups:
    NAME = "pytest-probe"

    def teardown_method(self):
        cg = Cgroups()
        for pid in cg.pids(self.NAME):
            os.kill(pid, 9)
        time.sleep(0.2)
        if cg.exists(self.NAME):
            cg.remove(self.NAME)
        assert not cg.exists(self.NAME)

    def test_cpu_quota_throttles(self):
        """A 5 % CPU quota throttles a busy process, and the cgroup counts it."""
        cg = Cgroups()
        cg.create(self.NAME)
        cg.set_cpu(self.NAME, 0.05)
        proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        cg.join(self.NAME, proc.pid)
        time.sleep(1.5)
        stats = cg.stats(self.NAME)
        proc.kill()
        proc.wait()
        assert stats.cpu_throttled_periods > 3
        assert stats.cpu_usage_seconds < 0.5

    def test_memory_limit_oom_kills(self):
        """A process allocating past a 32 MiB limit is OOM-killed and the kill is counted."""
        cg = Cgroups()
        cg.create(self.NAME)
        cg.set_memory(self.NAME, 32 * 1024 * 1024)
        script = "import os,time\nos.read(0,1)\nx=bytearray(200*1024*1024)\ntime.sleep(5)"
        proc = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE)
        cg.join(self.NAME, proc.pid)
        proc.stdin.write(b"x")
        proc.stdin.flush()
        assert proc.wait(10) == -9
        assert cg.stats(self.NAME).oom_kills >= 1

    def test_limits_round_trip(self):
        """Limits read back as set, and None means unlimited."""
        cg = Cgroups()
        cg.create(self.NAME)
        cg.set_cpu(self.NAME, 0.5)
        cg.set_memory(self.NAME, 64 * 1024 * 1024)
        assert cg.get_cpu(self.NAME) == 0.5 and cg.get_memory(self.NAME) == 64 * 1024 * 1024
        cg.set_cpu(self.NAME, None)
        cg.set_memory(self.NAME, None)
        assert cg.get_cpu(self.NAME) is None and cg.get_memory(self.NAME) is None


class TestTmpfsDisk:
    def test_fill_gives_enospc_and_removal_frees(self, tmp_path):
        """Junk fills the disk until writes fail with ENOSPC; removing it frees the space."""
        disk = tmp_path / "disk"
        disks.mount(disk, size_mb=2, uid=0, gid=0, label="chaos-pytest")
        try:
            before = disks.usage(disk).used_bytes
            disks.write_junk(disk, "cache/uploads/upload-1.part", 4 * 1024 * 1024)
            with pytest.raises(OSError) as info:
                with open(disk / "new.txt", "wb") as f:
                    f.write(b"x" * 8192)
                    f.flush()
                    os.fsync(f.fileno())
            assert info.value.errno == errno.ENOSPC
            assert disks.list_files(disk)[0].path == "cache/uploads/upload-1.part"
            assert disks.remove_file(disk, "cache/uploads/upload-1.part")
            (disk / "new.txt").unlink(missing_ok=True)
            assert disks.usage(disk).used_bytes == before
            assert not (disk / "cache").exists()
        finally:
            disks.unmount(disk)
        assert not disks.is_mounted(disk)

    def test_paths_cannot_escape_the_disk(self, tmp_path):
        """A junk path outside the disk is refused."""
        from chaoslib.errors import UsageError

        with pytest.raises(UsageError):
            disks.write_junk(tmp_path, "../escape", 10)
