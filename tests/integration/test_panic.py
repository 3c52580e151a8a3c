"""`panic` undoes everything from any state; `down` and `panic` touch only their own stack."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from chaoslib import config
from chaoslib.engine.injector import active_faults, all_faults, heal_expired, inject, panic
from chaoslib.engine.registry import FaultRecord, Registry
from chaoslib.kernel import nft

from .helpers import all_healthy, wait_until

pytestmark = pytest.mark.integration
CHAOSCTL = [sys.executable, "-m", "chaoslib.cli"]


def chaosctl(stack, *args: str, state_dir=None) -> subprocess.CompletedProcess:
    return subprocess.run([*CHAOSCTL, "--state-dir", str(state_dir or stack.settings.state_dir), *args],
                          capture_output=True, text=True, timeout=300, cwd=config.REPO_ROOT)


DAMAGES = {
    "truncated": b'{"version": 1, "faults": [{"id": "f-',
    "empty": b"",
    "a list": b"[]",
    "missing key": b'{"version": 1, "faults": [{"id": "f-x", "scenario": "cpu-starve"}]}',
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_panic_sweeps_past_a_damaged_registry(clean, damage):
    """With the registry damaged after a real fault, panic keeps the file aside, sweeps the fault and exits 0."""
    inject(clean, "lb-cutoff", targets=["app2"], ttl_s=600)
    assert nft.rules()
    clean.settings.faults_file.write_bytes(DAMAGES[damage])
    proc = chaosctl(clean, "panic")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "kept it as" in proc.stdout
    kept = list(clean.settings.state_dir.glob("faults.json.damaged-*"))
    assert any(k.read_bytes() == DAMAGES[damage] for k in kept)
    assert not nft.table_exists()
    assert chaosctl(clean, "faults").returncode == 0  # the registry is readable again
    for k in kept:
        k.unlink()


def test_damaged_game_journal_is_quarantined_by_panic(clean):
    """A truncated game.json does not stop panic: it is kept aside and panic exits 0."""
    game_file = clean.settings.state_dir / "game.json"
    saved = game_file.read_bytes() if game_file.exists() else None
    game_file.write_text('{"seed": 4, "diff')
    proc = chaosctl(clean, "panic")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    kept = list(clean.settings.state_dir.glob("game.json.damaged-*"))
    assert kept and not game_file.exists()
    for k in kept:
        k.unlink()
    if saved is not None:
        game_file.write_bytes(saved)


def test_fault_applied_but_not_recorded_is_swept(clean):
    """A limit and a firewall rule the registry never heard of are removed by panic's sweep."""
    from chaoslib.backends.base import Limits

    clean.backend.set_limits(target="app1", limits=Limits(cpu=0.05, memory=None))
    clean.backend.drop_packets(key="f-orphan", source="lb", target="app3", fraction=1.0)
    done = panic(clean)
    assert "reset app1's limits" in done and not nft.table_exists()


def test_fault_recorded_but_not_applied_and_half_healed(clean):
    """A record whose steps never ran, and one whose undo already ran in part, both heal cleanly."""
    now = time.time()
    reg = Registry(clean.settings.faults_file)
    with reg.transaction() as records:
        records.append(FaultRecord(id="f-ghost", scenario="lb-cutoff", family="network", targets=["app1"],
                                   params={}, injected_at=now, expires_at=now + 600,
                                   undo=[{"op": "remove_network_rules", "key": "f-ghost"}]))
    half = inject(clean, "disk-full", targets=["app3"], ttl_s=600)
    step = half.undo[0]
    clean.backend.remove_file(target=step["target"], path=step["path"])  # half healed by hand
    proc = chaosctl(clean, "panic")
    assert proc.returncode == 0, proc.stderr
    assert "healed f-ghost" in proc.stdout and f"healed {half.id}" in proc.stdout
    assert not active_faults(clean)


def test_heal_expired_heals_each_and_keeps_failures(clean):
    """One expired fault that cannot be undone neither stops the others nor loses its note."""
    good = inject(clean, "lb-cutoff", targets=["app1"], ttl_s=600)
    reg = Registry(clean.settings.faults_file)
    now = time.time()
    with reg.transaction() as records:
        records.insert(0, FaultRecord(id="f-broken", scenario="lb-cutoff", family="network", targets=["app9"],
                                      params={}, injected_at=now - 10, expires_at=now - 5,
                                      undo=[{"op": "no-such-step"}]))
        for r in records:
            if r.id == good.id:
                r.expires_at = now - 1
    healed, failed = heal_expired(clean)
    by_id = {r.id: r for r in all_faults(clean)}
    assert by_id[good.id].status == "healed" and not nft.table_exists()
    assert any("f-broken" in f for f in failed) or by_id["f-broken"].notes  # the warden may have run first
    assert by_id["f-broken"].notes and by_id["f-broken"].active
    with reg.transaction() as records:
        for r in records:
            if r.id == "f-broken":
                r.status = "healed"


def test_warden_waits_for_a_fault_still_being_injected(clean):
    """With a 1 s TTL the warden heals cpu-starve only after its injection ended: the limit ends at the default."""
    record = inject(clean, "cpu-starve", targets=["app2"], params={"cpu": 0.02}, ttl_s=1)
    wait_until(lambda: not active_faults(clean), timeout=60)
    assert [r for r in all_faults(clean) if r.id == record.id][0].healed_by == "ttl"
    assert clean.backend.get_limits(target="app2") == clean.backend.default_limits()


def test_down_and_panic_from_another_state_dir_leave_this_stack_alone(clean, tmp_path):
    """`down` and `panic` with another --state-dir keep this stack's replicas, rules and cgroups, and spare a stale pid."""
    fault = inject(clean, "lb-cutoff", targets=["app1"], ttl_s=600)
    other = tmp_path / "other-state"
    (other / "run").mkdir(parents=True)
    bystander = subprocess.Popen(["sleep", "300"])
    (other / "run" / "supervisord.pid").write_text(str(bystander.pid))
    (other / "run" / "jupyter.pid").write_text(str(bystander.pid))
    try:
        pids = {s.name: s.pid for s in clean.status() if s.kind == "replica"}
        assert chaosctl(clean, "panic", state_dir=other).returncode == 0
        assert chaosctl(clean, "down", state_dir=other).returncode == 0
        assert bystander.poll() is None, "a stale pid file made down kill an unrelated process"
        assert nft.rules() and clean.backend.cgroups.groups()
        assert {s.name: s.pid for s in clean.status() if s.kind == "replica"} == pids
        assert [f.id for f in active_faults(clean)] == [fault.id]
    finally:
        bystander.kill()
        bystander.wait()


def test_panic_with_supervisord_dead_exits_nonzero_and_says_what_next(live_stack):
    """With supervisord killed, panic undoes what it can, then exits 1 naming each thing left and `chaosctl down`."""
    wait_until(lambda: all_healthy(live_stack), timeout=90)
    inject(live_stack, "cpu-starve", targets=["app1"], params={"cpu": 0.05}, ttl_s=600)
    pid = int((live_stack.settings.run_dir / "supervisord.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    try:
        proc = chaosctl(live_stack, "panic")
        assert proc.returncode == 1, (proc.stdout, proc.stderr)
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        assert lines and all(line.startswith("chaosctl: could not undo") and "chaosctl down" in line
                             for line in lines), proc.stderr
        assert "Traceback" not in proc.stderr
        assert live_stack.backend.get_limits(target="app1") == live_stack.backend.default_limits()
    finally:
        live_stack.down()
        live_stack.up()
    assert all_healthy(live_stack) and not active_faults(live_stack)
