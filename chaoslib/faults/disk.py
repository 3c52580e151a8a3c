"""The disk family: an app replica's disk filled with junk, sometimes followed by a restart that cannot boot.

The player finds the biggest files that are not the app's own and deletes them (restarting
a replica that crashed); the detective reads each replica's disk use and failed writes.
"""
from __future__ import annotations

import errno
import random

import pandas as pd

from chaoslib import config
from chaoslib.backends.base import Backend, Probe
from chaoslib.errors import UsageError
from chaoslib.faults.catalogue import (
    Apply,
    EffectCheck,
    Family,
    Finding,
    FixTab,
    FixUI,
    Pending,
    RecordUndo,
    Scenario,
    Signals,
    TabWidgets,
    known_target,
)
from chaoslib.stack import Stack

__all__ = ["FAMILY", "DISK", "disk_fill", "disk_crashloop", "junk_path", "JUNK_PLACES", "disk_files",
           "delete_files", "DISK_FULL_RATIO"]

DISK = "disk"
#: A replica's disk fuller than this still counts as the fault's effect.
DISK_FULL_RATIO = 0.8
#: The detective names a disk this full.
NAMED_FULL_RATIO = 0.95
#: Plausible places for what fills an app's disk: forgotten upload parts, a rotated journal
#: nobody compresses, a core dump, an export a cron job left behind.
JUNK_PLACES = (
    "cache/uploads/upload-{n}.part",
    "journal/archive/events-2026{n:04d}.jsonl.old",
    "tmp/core.gunicorn.{n}",
    "exports/polls-export-{n}.csv",
)


def junk_path(key: str) -> str:
    """A plausible path for a fault's junk file, derived from its key (repeatable)."""
    rng = random.Random(key)
    return rng.choice(JUNK_PLACES).format(n=rng.randrange(1000, 9999))


# -- scenarios ------------------------------------------------------------------------------
def disk_fill(backend: Backend, *, key: str, targets: list[str], record_undo: RecordUndo) -> None:
    """Fill each target's disk with junk until writes fail with ENOSPC."""
    for t in targets:
        path = junk_path(f"{key}.{t}")
        record_undo({"op": "remove_file", "target": t, "path": path})
        usage = backend.disk_usage(target=t)
        backend.write_file(target=t, path=path, size_bytes=usage.size_bytes, tag=key)


def disk_crashloop(backend: Backend, *, key: str, targets: list[str], record_undo: RecordUndo) -> None:
    """Fill the disk, then restart the replica: it cannot boot on a full disk (crash loop)."""
    disk_fill(backend, key=key, targets=targets, record_undo=record_undo)
    for t in targets:
        record_undo({"op": "ensure_running", "target": t})
        backend.restart(target=t)


SCENARIOS = (
    Scenario("disk-full", DISK, disk_fill, "replicas' disks filled with junk"),
    Scenario("disk-crashloop", DISK, disk_crashloop, "a full disk, then a restart that cannot boot",
             drawn_alone=True),
)


def effect_gone(backend: Backend, targets: list[str]) -> tuple[bool, str]:
    """Every target's disk has room again."""
    full = [t for t in targets if backend.disk_usage(target=t).used_ratio > DISK_FULL_RATIO]
    return not full, f"disk still {', '.join(full)} over {DISK_FULL_RATIO:.0%} full"


# -- the player's fixes --------------------------------------------------------------------------
def disk_files(stack: Stack, *, target: str, top: int = 20) -> pd.DataFrame:
    """The biggest files on a target's disk (path, size in MiB, modified), to find what filled it."""
    known_target(stack, target)
    files = sorted(stack.backend.list_files(target=target), key=lambda f: f.size_bytes, reverse=True)[:top]
    return pd.DataFrame([{"path": f.path, "size_mib": round(f.size_bytes / 2**20, 2),
                          "modified": pd.Timestamp(f.mtime, unit="s", tz="UTC")} for f in files],
                        columns=["path", "size_mib", "modified"])


def delete_files(stack: Stack, *, target: str, paths: list[str]) -> int:
    """Delete the named files from a target's disk; returns how many were removed."""
    known_target(stack, target)
    if not paths:
        raise UsageError("no files named to delete", field="paths", hint="pick paths from disk_files()")
    return sum(bool(stack.backend.remove_file(target=target, path=p)) for p in paths)


def autofix(stack: Stack, target: str, apply: Apply) -> str:
    """Delete the biggest files that are not the app's own until the disk has room; restart if it crashed."""
    deleted = 0
    for path in [p for p in disk_files(stack, target=target)["path"] if not config.is_app_file(p)][:3]:
        apply(stack, "delete_files", target=target, paths=[path])
        deleted += 1
        if stack.backend.disk_usage(target=target).used_ratio <= DISK_FULL_RATIO:
            break
    # A replica that crashed on the full disk stays down: status says so, restart it.
    if not any(s.name == target and s.state == "RUNNING" and s.healthy for s in stack.status()):
        apply(stack, "restart", target=target)
        return f"deleted {deleted} file(s) on {target} and restarted it"
    return f"deleted {deleted} file(s) on {target}"


def _fix_tab(ui: FixUI) -> TabWidgets:
    import ipywidgets as w  # ipywidgets is heavy: loaded only when the fix panel is drawn

    stack, say = ui.stack, ui.say
    target = ui.target_dropdown()
    files = w.SelectMultiple(description="Files", rows=6, layout=w.Layout(width="90%"))
    list_button, del_button = w.Button(description="List biggest files"), w.Button(description="Delete selected")

    def list_files() -> None:
        listing = disk_files(stack, target=target.value)
        files.options = [(f"{r.path}  ({r.size_mib:.1f} MiB)", r.path) for r in listing.itertuples()]
        say(f"{target.value}: {len(listing)} file(s), the biggest first")
    ui.action(list_button, ui.out, list_files, busy="listing...")

    def delete() -> None:
        if not files.value:
            raise UsageError("select the files to delete first", field="paths", hint="press List biggest files")
        done = ui.apply(stack, "delete_files", target=target.value, paths=list(files.value))["result"]
        files.options = [(label, path) for label, path in files.options if path not in files.value]
        say(f"deleted {done}")
    ui.action(del_button, ui.out, delete, busy="deleting...")
    return w.VBox([target, list_button, files, del_button]), {"list_files": list_button, "delete_files": del_button}


# -- the detective's rule ------------------------------------------------------------------------
def rule(s: Signals, claimed: set[str]) -> Finding | Pending | None:
    """A replica whose disk is (nearly) full: the most specific evidence there is."""
    full = sorted(r for r, v in s.disk_used.items() if v >= NAMED_FULL_RATIO and r not in claimed)
    if not full:
        return None
    ev = [f"{r}: disk {s.disk_used[r]:.0%} used" for r in full]
    ev += [f"{r}: {s.disk_errors[r]:.0f} failed disk writes" for r in full if s.disk_errors.get(r, 0) > 0]
    ev += [f"{r}: restarted {s.restarts[r]:.0f} times" for r in full if s.restarts.get(r, 0) >= 1]
    return Finding(DISK, full, "disk full", ev, 0.9)


def effect_probe(scenario: str, target: str, probe: Probe) -> EffectCheck:
    """Seen from outside: the app's own disk writes fail with ENOSPC."""
    return lambda: probe.app_write_errno(target) == errno.ENOSPC


FAMILY = Family(
    name=DISK, scenarios=SCENARIOS, effect_gone=effect_gone,
    fixes={"delete_files": delete_files}, views={"disk-files": disk_files}, autofix=autofix, rule=rule, priority=10,
    hint="disk: look at each replica's disk use and at failed writes; then at what fills the disk.",
    queries={
        "disk_used": "max by (replica) (replica:disk_used:ratio)",
        "disk_errors": "sum by (replica) (increase(pollapp_disk_write_errors_total[{w}]))",
        "restarts": "sum by (replica) (increase(chaos_process_restarts_total[{w}]))",
    },
    fix_tab=FixTab("Disk", _fix_tab), effect_probe=effect_probe,
)
