"""Fixtures shared by the live-stack suites."""
from __future__ import annotations

import pytest

from chaoslib.engine.injector import active_faults, panic
from chaoslib.game import session as game

from .helpers import all_healthy, wait_until


@pytest.fixture
def clean(live_stack):
    """Each test starts and must end with a clean, healthy stack (footprint unchanged)."""
    wait_until(lambda: all_healthy(live_stack), timeout=90)
    before = live_stack.backend.fault_footprint()
    yield live_stack
    panic(live_stack)
    game.abandon(live_stack, reason="test")
    assert not active_faults(live_stack)
    wait_until(lambda: all_healthy(live_stack), timeout=90)
    assert live_stack.backend.fault_footprint() == before
