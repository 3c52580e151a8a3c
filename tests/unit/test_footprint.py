"""The footprint benchmark: PSS and RSS read from /proc, summed per service, printed as a table."""
from __future__ import annotations

import argparse
import os
import subprocess
import sys

import pytest

from chaoslib.backends.base import Backend
from chaoslib.bench.footprint import measure
from chaoslib.cli import bench as cli_bench
from chaoslib.kernel import procmem

pytestmark = pytest.mark.skipif(not os.path.exists(f"/proc/{os.getpid()}/smaps_rollup"),
                                reason="needs /proc/<pid>/smaps_rollup (Linux 4.14+)")


class SelfBackend(Backend):
    """A backend whose only service is this test process (and a child it started)."""

    name = "self"

    def __init__(self, pids: dict[str, list[int]]) -> None:
        self.pids = pids

    def service_pids(self) -> dict[str, list[int]]:
        return self.pids


def test_the_reader_measures_this_process():
    mem = procmem.read_rollup(os.getpid())
    assert mem is not None and mem.processes == 1
    # A Python running pytest is several MiB resident; PSS never exceeds RSS.
    assert 5 * 2**20 < mem.rss_bytes < 4 * 2**30
    assert 0 < mem.pss_bytes <= mem.rss_bytes


def test_a_gone_process_reads_as_none():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert procmem.read_rollup(child.pid) is None
    assert procmem.group_memory([child.pid]) == procmem.ProcMemory()


def test_a_tree_holds_the_children_and_sums_them():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        tree = procmem.process_tree(os.getpid())
        assert tree[0] == os.getpid() and child.pid in tree
        total = procmem.group_memory([os.getpid(), child.pid])
        assert total.processes == 2
        assert total.rss_bytes > procmem.read_rollup(os.getpid()).rss_bytes
    finally:
        child.kill()
        child.wait()


def test_measure_takes_medians_per_service_and_a_total():
    fp = measure(SelfBackend({"tests": [os.getpid()]}), samples=3, interval=0.01)
    assert set(fp.services) == {"tests"} and fp.samples == 3
    assert fp.total.processes == 1 and 0 < fp.total.pss_bytes <= fp.total.rss_bytes


def test_a_backend_without_processes_names_the_primitive():
    with pytest.raises(NotImplementedError, match=r"must implement Backend\.service_pids\(\)"):
        Backend().service_pids()


def test_the_command_prints_a_table_and_a_total(capsys):
    stack = argparse.Namespace(backend=SelfBackend({"tests": [os.getpid()], "gone": []}))
    cli_bench.footprint(stack, samples=2, interval=0.01)
    out = capsys.readouterr().out.splitlines()
    header = next(i for i, line in enumerate(out) if line.split()[:4] == ["service", "procs", "PSS", "MiB"])
    rows = []
    for line in out[header + 1:]:  # up to the total row (the ratio to before #15 follows it)
        rows.append(line.split())
        if rows[-1][0] == "total":
            break
    assert [r[0] for r in rows] == ["tests", "gone", "total"]
    name, procs, pss, rss = rows[-1]
    assert procs == "1" and 0 < float(pss) <= float(rss)
    assert rows[1][1:] == ["0", "0.0", "0.0"]
