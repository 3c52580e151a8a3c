"""How much memory a process (tree) really costs: PSS and RSS from /proc/<pid>/smaps_rollup.

RSS counts every resident page a process maps, so pages shared with others (a forked
worker's copy-on-write heap, the same shared library in ten processes, PostgreSQL's shared
buffers) are counted once per process: summed over a stack it overstates. PSS (proportional
set size) divides each shared page among the processes sharing it, so the PSS of every
process of a stack adds up to what the stack costs the machine.
"""
from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class ProcMemory:
    """Memory of one process or a group of them, in bytes."""

    pss_bytes: int = 0
    rss_bytes: int = 0
    processes: int = 0

    def __add__(self, other: ProcMemory) -> ProcMemory:
        return ProcMemory(self.pss_bytes + other.pss_bytes, self.rss_bytes + other.rss_bytes,
                          self.processes + other.processes)


def read_rollup(pid: int) -> ProcMemory | None:
    """PSS and RSS of one process from its smaps_rollup, or None when it is gone (or a kernel thread)."""
    fields: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in ("Pss", "Rss"):
                    fields[key] = int(rest.split()[0]) * 1024
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    if "Rss" not in fields:
        return None
    return ProcMemory(fields.get("Pss", 0), fields["Rss"], 1)


def children_map() -> dict[int, list[int]]:
    """Every process's children, by parent pid (one pass over /proc)."""
    out: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except (FileNotFoundError, ProcessLookupError):
            continue
        ppid = int(stat.rsplit(")", 1)[-1].split()[1])
        out.setdefault(ppid, []).append(int(entry))
    return out


def process_tree(pid: int, children: dict[int, list[int]] | None = None) -> list[int]:
    """`pid` and all its descendants (pass `children_map()` to share one scan of /proc)."""
    children = children_map() if children is None else children
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        if p in out:
            continue
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def group_memory(pids: list[int]) -> ProcMemory:
    """PSS and RSS summed over the processes still alive among `pids`."""
    total = ProcMemory()
    for pid in pids:
        mem = read_rollup(pid)
        if mem is not None:
            total = total + mem
    return total
