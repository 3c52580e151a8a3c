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

from chaoslib.backends.base import Backend, Limits
from chaoslib.config import fast_mode
from chaoslib.engine import detached
from chaoslib.engine.registry import ACTIVE, HEALED, FaultRecord, Registry, RegistryDamaged
from chaoslib.errors import ChaosError, FaultError, PrerequisiteError, SweepError, UsageError
from chaoslib.faults import validate
from chaoslib.stack import Stack

DEFAULT_TTL_S = 45 * 60
MAX_TTL_S = 24 * 3600
#: How long `heal` waits for a fault that another process is still injecting.
INJECT_WAIT_S = 60.0


def _registry(stack: Stack) -> Registry:
    return Registry(stack.settings.faults_file)


def _require_root(backend: Backend) -> None:
    if backend.features.needs_root and os.geteuid() != 0:
        raise PrerequisiteError("injecting and undoing faults on the native stack needs root",
                                hint="run it with sudo, or as root")


def inject(stack: Stack, scenario: str, *, targets: list[str], params: dict[str, Any] | None = None,
           ttl_s: float | None = None, hidden: bool = False, tag: str = "") -> FaultRecord:
    """Inject one fault and return its record. Refuses a target that already has a fault.

    `tag` names who injected it (a Chaos Toolkit experiment), for `heal_tagged` to undo it by.
    """
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
                         params=clean, injected_at=now, expires_at=now + ttl, hidden=hidden, injecting=True,
                         injector_pid=os.getpid(), tag=tag)
    with registry.transaction() as records:
        busy = {t: r.id for r in records if r.active for t in r.targets}
        clash = [t for t in targets if t in busy]
        if clash:
            raise UsageError(f"{clash[0]} already has an active fault", field="target", value=clash[0],
                             hint="heal it first (`chaosctl heal`), or pick another target")
        records.append(record)

    def record_undo(step: dict) -> None:
        with registry.transaction() as records:
            for r in records:
                if r.id == record.id:
                    r.undo.append(step)
                    record.undo = list(r.undo)

    try:
        sc.action(backend, key=record.id, targets=targets, record_undo=record_undo, **clean)
    except BaseException as e:
        # Undo what was done so far; nothing is left half-injected.
        _finish_injecting(registry, record.id)
        try:
            heal(stack, record.id, by="failed-inject", wait_s=0)
        except ChaosError:
            pass
        if isinstance(e, ChaosError):
            raise
        if isinstance(e, (OSError, ValueError)):
            raise FaultError(f"injecting {sc.name} failed: {e}", fault_id=record.id) from e
        raise
    record.injecting = False
    if _finish_injecting(registry, record.id):
        # `panic` healed it while the action ran: undo what the action did after that.
        return heal(stack, record.id, by="panic", wait_s=0)
    if backend.features.warden_process:
        detached.start_detached(stack.settings, backend.name)
    return record


def _finish_injecting(registry: Registry, fault_id: str) -> bool:
    """Mark the record's injection done; True when it was healed meanwhile (so must be undone again)."""
    with registry.transaction() as records:
        for r in records:
            if r.id == fault_id:
                r.injecting = False
                if r.status == HEALED:
                    r.status = ACTIVE
                    return True
    return False


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
    elif op == "set_load_factor":
        backend.set_load_factor(factor=step["factor"])
    elif op == "set_release":
        # A stack that is down forgets its rolls: its next `up` deploys releases.CURRENT everywhere.
        if backend.is_up():
            backend.set_release(target=step["target"], release=step["release"], settings=step.get("settings"))
    elif op == "stop_db_holder":
        # Its process and its sessions, found by the fault's key alone (a stack that is down has neither).
        backend.stop_db_holder(key=step["key"])
    else:
        raise FaultError(f"unknown undo step {op!r}")


def _wait_injected(registry: Registry, fault_id: str, timeout: float) -> None:
    """Wait until no live process is still injecting this fault."""
    deadline = time.monotonic() + timeout
    while True:
        busy = [r for r in registry.records() if r.id == fault_id and r.being_injected()]
        if not busy:
            return
        if time.monotonic() > deadline:
            raise FaultError(f"{fault_id} is still being injected (by pid {busy[0].injector_pid})",
                             fault_id=fault_id, hint="try again in a minute, or run `chaosctl panic`")
        time.sleep(0.2)


def heal(stack: Stack, fault_id: str, *, by: str = "heal", wait_s: float = INJECT_WAIT_S) -> FaultRecord:
    """Undo one fault (idempotent: healing a healed fault changes nothing).

    A fault another process is still injecting is waited for (up to `wait_s`), so its undo
    steps are all journaled before they are replayed; `panic` passes 0 and heals at once.
    """
    backend = stack.backend
    _require_root(backend)
    registry = _registry(stack)
    if wait_s > 0:
        _wait_injected(registry, fault_id, wait_s)
    failure: FaultError | None = None
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
            # Recorded before raising: the note must survive (the raise is after the save).
            record.notes.append(f"{by} at {time.time():.0f} left errors: {'; '.join(errors)}")
            failure = FaultError(f"could not fully undo {fault_id}: {errors[0]}", fault_id=fault_id,
                                 hint="run `chaosctl panic`")
        else:
            record.status, record.healed_at, record.healed_by = HEALED, time.time(), by
    if failure is not None:
        raise failure
    return record


def heal_tagged(stack: Stack, tag: str, *, by: str = "heal") -> list[FaultRecord]:
    """Heal every active fault injected with `tag`; those healed (none: nothing to do).

    What a tool that never learns a fault's id (a Chaos Toolkit rollback) undoes: its own faults,
    never a person's, a game's or another tool's, even on the same scenario and target.
    """
    if not tag:
        raise UsageError("a tag must not be empty", field="tag", value=tag)
    return [heal(stack, r.id, by=by) for r in _registry(stack).active() if r.tag == tag]


def panic_report(stack: Stack) -> tuple[list[str], list[str]]:
    """Undo every fault, then sweep the host; (what was done, what could not be undone).

    Works from any state: a damaged registry is quarantined (renamed beside itself) and its
    readable records are still undone; a fault being injected is healed at once (its injector
    heals it again when its action returns); the sweep needs no record at all. Safe to run twice.
    """
    backend = stack.backend
    _require_root(backend)
    registry = _registry(stack)
    done: list[str] = []
    failures: list[str] = []
    try:
        active = registry.active()
    except RegistryDamaged as e:
        records, moved = registry.salvage()
        active = [r for r in records if r.active]
        done.append(f"the fault registry was damaged ({e.reason}): kept it as {moved}, "
                    f"{len(active)} readable active record(s) kept")
    for record in active:
        try:
            heal(stack, record.id, by="panic", wait_s=0)
            done.append(f"healed {record.id}")
        except (ChaosError, OSError) as e:
            failures.append(f"{record.id} ({record.scenario} on {', '.join(map(str, record.targets))}): "
                            f"{e.one_line() if isinstance(e, ChaosError) else e}")
    # A backend that needs root changes the host itself (firewall, cgroups, mounts): those
    # traces outlive its stack, so they are swept even when the stack is down.
    if backend.is_up() or backend.features.needs_root:
        try:
            done += backend.reset_faults()
        except SweepError as e:
            done += e.done
            failures += e.failures
        except (ChaosError, OSError) as e:
            failures.append(f"the sweep of the host: {e.one_line() if isinstance(e, ChaosError) else e}")
    return done, failures


def panic(stack: Stack) -> list[str]:
    """Undo every fault, then sweep the host for any leftover trace; every line of what happened."""
    done, failures = panic_report(stack)
    return done + [f"could not undo {f}" for f in failures]


def heal_expired(stack: Stack) -> tuple[list[str], list[str]]:
    """Heal every fault whose time to live ran out, each on its own (the warden calls this).

    A fault still being injected is left for the next sweep; a heal that fails keeps its
    note in the registry and does not stop the others. Returns (ids healed, failures).
    """
    now = time.time()
    healed, failed = [], []
    for record in _registry(stack).active():
        if not record.expired(now) or record.being_injected():
            continue
        try:
            heal(stack, record.id, by="ttl", wait_s=0)
            healed.append(record.id)
        except (ChaosError, OSError) as e:
            failed.append(f"{record.id}: {e}")
    return healed, failed


def active_faults(stack: Stack) -> list[FaultRecord]:
    return _registry(stack).active()


def all_faults(stack: Stack) -> list[FaultRecord]:
    return _registry(stack).records()


def settle_time() -> float:
    """How long effects take to show from outside (shorter under CI)."""
    return 2.0 if fast_mode() else 5.0
