"""The detached warden a backend without one of its own gets (Features.warden_process): a real process."""
from __future__ import annotations

import os
import time
from dataclasses import replace

from chaoslib.engine import detached, injector
from chaoslib.engine.registry import Registry


def _wait(predicate, timeout: float = 20.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


def test_inject_starts_one_warden_that_heals_on_ttl_then_exits(memory_stack, monkeypatch):
    """With warden_process, the first inject starts a warden (the second finds it); it undoes the
    expired faults on their TTL, then exits and removes its pid file."""
    backend = memory_stack.backend
    monkeypatch.setattr(type(backend), "features", replace(backend.features, warden_process=True), raising=False)
    a, b = memory_stack.targets()[:2]
    first = injector.inject(memory_stack, "lb-cutoff", targets=[a], ttl_s=2)
    pid = detached.running(memory_stack.settings)
    assert pid is not None and os.path.exists(f"/proc/{pid}")
    injector.inject(memory_stack, "db-cutoff", targets=[b], ttl_s=3)
    assert detached.running(memory_stack.settings) == pid, "a second warden was started"
    registry = Registry(memory_stack.settings.faults_file)
    assert _wait(lambda: not registry.active()), registry.active()
    healed = {r.id: r for r in registry.records()}
    assert healed[first.id].healed_by == "ttl" and healed[first.id].healed_at - first.injected_at >= 2
    assert _wait(lambda: detached.running(memory_stack.settings) is None), "the warden did not exit when idle"
    assert not (memory_stack.settings.state_dir / detached.PIDFILE).exists()
    log = (memory_stack.settings.state_dir / detached.LOGFILE).read_text()
    assert "fault expired and was undone" in log and "the warden exits" in log


def test_no_warden_without_the_feature(memory_stack):
    """A backend whose stack has its own warden (or none needed) gets no detached process."""
    assert not memory_stack.backend.features.warden_process
    injector.inject(memory_stack, "lb-cutoff", targets=[memory_stack.targets()[0]], ttl_s=60)
    assert detached.running(memory_stack.settings) is None
