"""Inject, heal, panic and expire faults, with every step recorded on disk first.

`inject` validates the whole request before anything changes, writes the fault's record,
and journals each undo step before the change it undoes. `heal` replays the undo steps
(each idempotent) in reverse; `panic` heals everything and then sweeps the host for any
trace the registry might not know of. All of it works after the injecting process died.
"""
from __future__ import annotations

import os
import secrets
import time
from typing import Any

from .backends.base import Backend, Limits
from .config import fast_mode
from .errors import ChaosError, FaultError, PrerequisiteError, UsageError
from .faults import validate
from .registry import ACTIVE, HEALED, FaultRecord, Registry
from .stack import Stack

DEFAULT_TTL_S = 45 * 60
MAX_TTL_S = 24 * 3600


def _registry(stack: Stack) -> Registry:
    return Registry(stack.settings.faults_file)


def _require_root(backend: Backend) -> None:
    if backend.name == "local" and os.geteuid() != 0:
        raise PrerequisiteError("injecting and undoing faults on the native stack needs root",
                                hint="run it with sudo, or as root")


def inject(stack: Stack, scenario: str, *, targets: list[str], params: dict[str, Any] | None = None,
           ttl_s: float | None = None, hidden: bool = False) -> FaultRecord:
    """Inject one fault and return its record. Refuses a target that already has a fault."""
    backend = stack.backend
    _require_root(backend)
    if not backend.is_up():
        raise ChaosError("the stack is not running", hint="start it with `chaosctl up`")
    sc, targets, clean = validate(backend, scenario, targets, params or {})
    ttl = DEFAULT_TTL_S if ttl_s is None else float(ttl_s)
    if not 1 <= ttl <= MAX_TTL_S:
        raise UsageError(f"ttl must be between 1 s and {MAX_TTL_S} s, got {ttl}", field="ttl", value=ttl)
    registry = _registry(stack)
    now = time.time()
    record = FaultRecord(id=f"f-{secrets.token_hex(3)}", scenario=sc.name, family=sc.family, targets=targets,
                         params=clean, injected_at=now, expires_at=now + ttl, hidden=hidden)
    with registry.transaction() as records:
        busy = {t: r.id for r in records if r.active for t in r.targets}
        clash = [t for t in targets if t in busy]
        if clash:
            raise UsageError(f"{clash[0]} already has an active fault", field="target", value=clash[0],
                             hint="heal it first (`chaosctl heal`), or pick another target")
        records.append(record)

    def journal(step: dict) -> None:
        with registry.transaction() as records:
            for r in records:
                if r.id == record.id:
                    r.undo.append(step)
                    record.undo = list(r.undo)

    try:
        sc.action(backend, key=record.id, targets=targets, journal=journal, **clean)
    except BaseException as e:
        # Undo what was done so far; nothing is left half-injected.
        try:
            heal(stack, record.id, by="failed-inject")
        except ChaosError:
            pass
        if isinstance(e, ChaosError):
            raise
        if isinstance(e, (OSError, ValueError)):
            raise FaultError(f"injecting {sc.name} failed: {e}", fault_id=record.id) from e
        raise
    return record


def _undo_step(backend: Backend, step: dict) -> None:
    op = step["op"]
    if op == "remove_network_rules":
        backend.remove_network_rules(key=step["key"])
    elif op == "remove_file":
        backend.remove_file(target=step["target"], path=step["path"])
    elif op == "set_limits":
        backend.set_limits(target=step["target"], limits=Limits(cpu=step["cpu"], memory=step["memory"]))
    elif op == "ensure_running":
        # A stack that is down (stopped, or crashed with its supervisor) has nothing to keep running:
        # its next `up` starts every replica, so the fault is undone without it.
        if backend.is_up():
            backend.ensure_running(target=step["target"])
    elif op == "restart":
        backend.restart(target=step["target"])
    else:
        raise FaultError(f"unknown undo step {op!r}")


def heal(stack: Stack, fault_id: str, *, by: str = "heal") -> FaultRecord:
    """Undo one fault (idempotent: healing a healed fault changes nothing)."""
    backend = stack.backend
    _require_root(backend)
    registry = _registry(stack)
    with registry.transaction() as records:
        match = [r for r in records if r.id == fault_id]
        if not match:
            known = ", ".join(r.id for r in records if r.active) or "none active"
            raise UsageError(f"no fault {fault_id!r}", field="id", value=fault_id, hint=f"faults: {known}")
        record = match[0]
        if record.status == HEALED:
            return record
        errors = []
        # Limits before restarts: a replica must come back with its old limits.
        steps = [s for s in record.undo if s["op"] != "ensure_running"] + \
                [s for s in record.undo if s["op"] == "ensure_running"]
        for step in steps:
            try:
                _undo_step(backend, step)
            except ChaosError as e:
                errors.append(f"{step['op']}: {e}")
            except OSError as e:
                errors.append(f"{step['op']}: {e}")
        if errors:
            record.notes.append(f"{by} at {time.time():.0f} left errors: {'; '.join(errors)}")
            raise FaultError(f"could not fully undo {fault_id}: {errors[0]}", fault_id=fault_id,
                             hint="run `chaosctl panic`")
        record.status, record.healed_at, record.healed_by = HEALED, time.time(), by
        return record


def panic(stack: Stack) -> list[str]:
    """Undo every fault, then sweep the host for any leftover trace. Safe to run twice."""
    backend = stack.backend
    _require_root(backend)
    done = []
    for record in _registry(stack).active():
        try:
            heal(stack, record.id, by="panic")
            done.append(f"healed {record.id}")
        except FaultError as e:
            done.append(f"{record.id}: {e.one_line()}")
    if backend.is_up() or backend.name == "local":
        done += backend.reset_faults()
    return done


def heal_expired(stack: Stack) -> list[str]:
    """Heal every fault whose time to live ran out (the warden calls this)."""
    now = time.time()
    healed = []
    for record in _registry(stack).active():
        if record.expired(now):
            heal(stack, record.id, by="ttl")
            healed.append(record.id)
    return healed


def active_faults(stack: Stack) -> list[FaultRecord]:
    return _registry(stack).active()


def all_faults(stack: Stack) -> list[FaultRecord]:
    return _registry(stack).records()


def settle_time() -> float:
    """How long effects take to show from outside (shorter under CI)."""
    return 2.0 if fast_mode() else 5.0
