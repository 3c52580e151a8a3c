"""A game played on docker-compose.yml: notebooks 02 to 05 per family, the detective, the TTL warden.

The stack is the compose file itself, up with `--wait` on the test engine (conftest.py,
compose_env.py): real Traefik, PostgreSQL, Prometheus evaluating the real rules, Alertmanager
paging the real pager; cAdvisor is a test double (it cannot run here).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

import compose_env as ce
import docker_env as eng
from chaoslib.backends.docker import DockerBackend
from chaoslib.bench.faults import recovered
from chaoslib.bench.trials import run_trials
from chaoslib.config import Settings
from chaoslib.engine.injector import inject, panic
from chaoslib.engine.registry import Registry
from chaoslib.game import detective
from chaoslib.game import session as game
from chaoslib.observe.metrics import Metrics
from chaoslib.stack import Stack
from integration.helpers import play_notebooks, wait_until

pytestmark = pytest.mark.docker
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
#: The detective's seeds per family on the compose stack (the native suite runs ten).
SEEDS = 3


@pytest.fixture(scope="module")
def compose_stack(docker_stack):
    """The game's facade over the compose stack (the docker backend, the session's state dir)."""
    stack = Stack(DockerBackend(Settings(state_dir=docker_stack["state_dir"]), project=ce.PROJECT,
                                helper_image=eng.image("helper")))
    yield stack
    panic(stack)
    game.abandon(stack, reason="test")


def _env(stack: Stack, **extra: str) -> dict[str, str]:
    return {**os.environ, "CHAOSCTL_BACKEND": "docker", "CHAOSCTL_STATE_DIR": str(stack.settings.state_dir),
            "CHAOSCTL_COMPOSE_PROJECT": ce.PROJECT, "CHAOSCTL_HELPER_IMAGE": eng.image("helper"), **extra}


def test_every_service_that_can_run_here_is_healthy(compose_stack):
    """Each started service is healthy by its own healthcheck (after the contract suite's restarts, within
    their intervals), migrate completed, and the left-out ones were never created."""
    started = set(ce.SERVICES)

    def unhealthy() -> dict[str, str]:
        status = {s.name: s for s in compose_stack.status()}
        assert started <= set(status), sorted(started - set(status))
        assert not set(ce.LEFT_OUT) & set(status)
        return {s: status[s].detail for s in started if not status[s].healthy}

    end = time.monotonic() + 120
    while (left := unhealthy()) and time.monotonic() < end:
        time.sleep(2)
    assert left == {}, f"still unhealthy after 120 s: {left}"


#: What the Database dashboard and the database tickets read (stack/prometheus/rules/recording.yml's db:* rules).
DB_SERIES = ("pg_stat_activity_count", "pg_stat_activity_max_tx_duration", "pg_locks_count",
             "pg_settings_max_connections", "pg_settings_superuser_reserved_connections")


def test_the_exporter_serves_what_the_database_panels_and_tickets_read(compose_stack):
    """postgres-exporter, with its own monitoring role, exports every series the database evidence is made of,
    and sees the replicas' sessions (pg_monitor); the slots ratio is computed."""
    metrics = Metrics(compose_stack.endpoint("prometheus"))

    def missing() -> list[str]:
        return [n for n in DB_SERIES if metrics.query(f'{n}{{job="postgres"}}').empty]

    wait_until(lambda: not missing(), timeout=60, interval=2)
    assert (metrics.value('sum(pg_stat_activity_count{job="postgres"})') or 0) >= 1
    ratio = metrics.value("db:connections:ratio_available")
    assert ratio is not None and 0 < ratio < 0.5, ratio


@pytest.mark.parametrize("family,seed", [("network", 21), ("disk", 22), ("resources", 23)])
def test_notebooks_play_a_game_on_compose(compose_stack, family, seed, tmp_path):
    """Notebooks 02 to 05 under nbval with CHAOSCTL_BACKEND=docker: paged, diagnosed, fixed, won by the autopilot."""
    wait_until(lambda: recovered(compose_stack), timeout=180, interval=2)
    game.abandon(compose_stack, reason="before notebook run")
    env = _env(compose_stack, CHAOSCTL_AUTOPILOT="1", CHAOSCTL_FAMILY=family, CHAOSCTL_SEED=str(seed),
               CHAOSCTL_FAST="1", MPLBACKEND="Agg")
    notebooks = [str(p) for p in sorted(NOTEBOOKS.glob("0[2-5]-*.ipynb"))]
    assert len(notebooks) == 4
    try:
        t0 = time.monotonic()
        state = play_notebooks(compose_stack, notebooks, env, tmp_path)
        eng.progress(f"compose game ({family}): won in {time.monotonic() - t0:.0f} s, "
                     f"paged {state.first('paged')['t'] - state.started_at:.0f} s after the start")
    finally:
        panic(compose_stack)
        game.abandon(compose_stack, reason="test")


def test_detective_on_compose_three_seeds_per_family(compose_stack, capsys):
    """Three seeded games per family on the compose stack: the detective is exactly right in 8 of 9 or more."""
    wait_until(lambda: recovered(compose_stack), timeout=180, interval=2)
    with capsys.disabled():
        trials = run_trials(compose_stack, seeds=SEEDS,
                            progress=lambda line: print(f"\n[detective/compose] {line}", end="", flush=True))
    every = [t for family in trials.values() for t in family]
    assert len(every) == 3 * SEEDS
    right = [t for t in every if t.right]
    assert len(right) >= 8, "\n".join(t.line() for t in every)


def test_a_replica_oom_killed_at_every_start_is_named(compose_stack):
    """memory-starve at the floor: the replica dies at each start, so cAdvisor's series for it come and go
    (its OOM counter may never be seen to rise); the detective names it from the engine's word."""
    wait_until(lambda: recovered(compose_stack), timeout=180, interval=2)
    target = compose_stack.targets()[-1]
    since = time.time()
    try:
        inject(compose_stack, "memory-starve", targets=[target], params={"memory_mb": 16})
        deadline = time.monotonic() + 90
        metrics = Metrics(compose_stack.endpoint("prometheus"))
        while not (h := detective.investigate(compose_stack, metrics=metrics, since=since)).named \
                and time.monotonic() < deadline:
            time.sleep(5)
        assert h.said() == (("resources", (target,)),), (h.said(), h.cause)
        assert "OOM" in h.evidence[0] and "16 MiB" in h.evidence[0], h.evidence
    finally:
        panic(compose_stack)


def test_an_oom_kill_of_an_earlier_fault_is_not_named(compose_stack):
    """memory-starve, healed, then the replica restarted with no fault: its container still carries
    State.OOMKilled, yet nothing is named from the moment after the heal (only this window's kills count)."""
    wait_until(lambda: recovered(compose_stack), timeout=180, interval=2)
    target = compose_stack.targets()[-1]
    metrics = Metrics(compose_stack.endpoint("prometheus"))
    record = inject(compose_stack, "memory-starve", targets=[target], params={"memory_mb": 16})
    try:
        assert wait_until(lambda: compose_stack.backend.oom_kills(since=record.injected_at).get(target),
                          timeout=90, interval=3), "the engine recorded no OOM kill of the starved replica"
    finally:
        panic(compose_stack)
    compose_stack.backend.restart(target=target)
    since = time.time()
    wait_until(lambda: recovered(compose_stack), timeout=180, interval=2)
    carried = next(s for s in compose_stack.status() if s.name == target).oom_killed
    # Asked as a game asks it: from 15 s after the start (its PromQL ranges reach back 15 s at least).
    time.sleep(max(0.0, since + 16 - time.time()))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        h = detective.investigate(compose_stack, metrics=metrics, since=since)
        assert target not in h.targets, (carried, h.said(), h.evidence)
        time.sleep(5)
    eng.progress(f"after the heal and a clean restart: {target} State.OOMKilled={carried}, nothing named")


def test_a_fault_expires_on_time_under_docker(compose_stack):
    """`chaosctl inject --ttl 8` on the docker backend: the detached warden heals it on time, then exits."""
    before = compose_stack.backend.fault_footprint()
    target = compose_stack.targets()[0]
    env = _env(compose_stack)
    proc = subprocess.run([sys.executable, "-m", "chaoslib.cli", "inject", "lb-cutoff", "--target", target,
                           "--ttl", "8"], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    fault_id = re.search(r"injected (f-[0-9a-f]+)", proc.stdout).group(1)
    assert compose_stack.backend.fault_footprint() != before
    registry = Registry(compose_stack.settings.faults_file)

    def healed():
        return [r for r in registry.records() if r.id == fault_id and not r.active]

    assert wait_until(lambda: bool(healed()), timeout=40, interval=0.5)
    record = healed()[0]
    took = record.healed_at - record.injected_at
    assert record.healed_by == "ttl", record
    assert 8 <= took <= 20, f"expired {took:.1f} s after the inject began"
    assert compose_stack.backend.fault_footprint() == before
    state = compose_stack.settings.state_dir
    assert wait_until(lambda: not (state / "warden.pid").exists(), timeout=15, interval=0.5), "the warden did not exit"
    eng.progress(f"ttl: an 8 s fault undone by the docker warden {took:.1f} s after the inject")
