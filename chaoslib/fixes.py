"""The player's fixes: what an on-call engineer would do, not `heal`.

Each fix acts on what the player can see and name (a target, a firewall rule, a file, a
limit), never on the hidden fault record. So a wrong fix does not resolve the incident:
restarting does not empty a full disk, and restarting with tiny limits does not help.
The game journal records every fix tried (see game.py) for the score.
"""
from __future__ import annotations

import pandas as pd

from .backends.base import DATABASE, LOAD_BALANCER, Limits
from .errors import UsageError
from .stack import Stack


def _target(stack: Stack, target: str) -> str:
    known = stack.targets()
    if target not in known:
        raise UsageError(f"unknown target {target!r}", field="target", value=target,
                         hint=f"targets are {', '.join(known)}")
    return target


def firewall_rules(stack: Stack) -> pd.DataFrame:
    """The project's firewall rules now in force: key, source, target, drop fraction."""
    rows = [{"key": r.key, "source": r.source, "target": r.target, "drop_fraction": r.fraction}
            for r in stack.backend.network_rules()]
    return pd.DataFrame(rows, columns=["key", "source", "target", "drop_fraction"])


def remove_firewall_rules(stack: Stack, *, target: str) -> int:
    """Undo the firewall change for a target: remove every rule between it and the LB or the database."""
    _target(stack, target)
    keys = {r.key for r in stack.backend.network_rules()
            if target in (r.source, r.target) and {r.source, r.target} & {LOAD_BALANCER, DATABASE, target}}
    return sum(stack.backend.remove_network_rules(key=k) for k in sorted(keys))


def disk_files(stack: Stack, *, target: str, top: int = 20) -> pd.DataFrame:
    """The biggest files on a target's disk (path, size in MiB, modified), to find what filled it."""
    _target(stack, target)
    files = sorted(stack.backend.list_files(target=target), key=lambda f: f.size_bytes, reverse=True)[:top]
    return pd.DataFrame([{"path": f.path, "size_mib": round(f.size_bytes / 2**20, 2),
                          "modified": pd.Timestamp(f.mtime, unit="s", tz="UTC")} for f in files],
                        columns=["path", "size_mib", "modified"])


def delete_files(stack: Stack, *, target: str, paths: list[str]) -> int:
    """Delete the named files from a target's disk; returns how many were removed."""
    _target(stack, target)
    if not paths:
        raise UsageError("no files named to delete", field="paths", hint="pick paths from disk_files()")
    return sum(bool(stack.backend.remove_file(target=target, path=p)) for p in paths)


def set_limits(stack: Stack, *, target: str, cpu: float | None = None, memory_mb: int | None = None,
               restart: bool = True) -> Limits:
    """Set a target's CPU (cores) and memory (MiB) limits, then restart it so they apply cleanly."""
    _target(stack, target)
    if cpu is None and memory_mb is None:
        raise UsageError("give cpu or memory_mb", field="limits", hint="e.g. cpu=1.0, memory_mb=512")
    if cpu is not None and not 0.01 <= cpu <= 64:
        raise UsageError(f"cpu must be between 0.01 and 64 cores, got {cpu}", field="cpu", value=cpu)
    if memory_mb is not None and not 16 <= memory_mb <= 65536:
        raise UsageError(f"memory_mb must be between 16 and 65536, got {memory_mb}", field="memory_mb",
                         value=memory_mb)
    now = stack.backend.get_limits(target=target)
    limits = Limits(cpu=cpu if cpu is not None else now.cpu,
                    memory=memory_mb * 2**20 if memory_mb is not None else now.memory)
    stack.backend.set_limits(target=target, limits=limits)
    if restart:
        stack.backend.restart(target=target)
    return limits


def restart(stack: Stack, *, target: str) -> None:
    """Restart a target (the first thing everyone tries; it fixes less than one hopes)."""
    stack.backend.restart(target=_target(stack, target))


FIXES = {"remove_firewall_rules": remove_firewall_rules, "delete_files": delete_files,
         "set_limits": set_limits, "restart": restart}
