"""The red herrings on the live stack: harmless for real (the objectives hold, nobody is paged), and undone."""
from __future__ import annotations

import time

import pytest

from chaoslib.engine.injector import heal, inject
from chaoslib.faults import herrings
from chaoslib.game import steady
from chaoslib.observe.metrics import Metrics

from .helpers import wait_until

pytestmark = pytest.mark.integration


def test_a_burst_of_traffic_is_busier_and_harmless(clean):
    """The burst paces Locust up by BURST_FACTOR: the load balancer's rate rises by most of it, the objectives
    hold and no page fires; its undo sets the pace back and the rate returns."""
    metrics = Metrics(clean.endpoint("prometheus"))
    wait_until(lambda: (metrics.value("lb:requests:rate20s", 0) or 0) > 1, timeout=60)
    time.sleep(20)  # a whole 20 s window of the steady pace
    steady_rate = metrics.value("lb:requests:rate20s")
    fault = inject(clean, "herring-burst", targets=["app1"], ttl_s=300)
    try:
        assert clean.backend.load_factor() == herrings.BURST_FACTOR
        time.sleep(25)  # Locust reads the pace each second; the 20 s rate then holds only the burst
        burst_rate = metrics.value("lb:requests:rate20s")
        assert steady_rate and burst_rate and burst_rate / steady_rate > 1 + (herrings.BURST_FACTOR - 1) * 0.6, (
            steady_rate, burst_rate)
        assert steady.slo_problems(clean, metrics) == []
        assert steady.alert_problems(clean, severity="page") == []
    finally:
        heal(clean, fault.id, by="test")
    assert clean.backend.load_factor() == 1
    print(f"\n[herrings] burst: {steady_rate:.1f} -> {burst_rate:.1f} requests/s "
          f"(x{burst_rate / steady_rate:.2f} for a pace of x{herrings.BURST_FACTOR}); objectives held, no page")
