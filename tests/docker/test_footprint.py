"""`chaosctl bench footprint --backend docker` measures every running service of the session's compose stack.

Reuses the session's stack (conftest.py's `docker_stack`): no other stack is started. With
CHAOS_FOOTPRINT_DOCS=1 the test also lets the stack settle under its load for a minute, then runs
`chaosctl bench footprint --backend docker`, which writes docs/footprint-docker.json and .md (how the
committed figures were made:
`flock /tmp/chaos-live.lock env CHAOS_FOOTPRINT_DOCS=1 .venv/bin/python -m pytest tests/docker/test_footprint.py`).
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

import compose_env as ce
import docker_env as eng
from chaoslib.backends.docker import DockerBackend
from chaoslib.bench import footprint_docker as fd
from chaoslib.bench.footprint_docs import load, readme_paragraph
from chaoslib.config import Settings

pytestmark = pytest.mark.docker

MIB = 2**20
#: Before the figures that go to docs/: a minute of the steady load after the stack came up.
SETTLE_S = 60


def test_the_footprint_bench_gives_a_figure_per_running_service(docker_engine, docker_stack):
    """A median per running compose service between 1 MiB and its limit (1 GiB without one); the services
    that cannot run here at their compose limits; `core + logs` above `core`."""
    write = os.environ.get("CHAOS_FOOTPRINT_DOCS") == "1"
    backend = DockerBackend(Settings(state_dir=docker_stack["state_dir"]), project=ce.PROJECT,
                            helper_image=eng.image("helper"))
    if write:
        time.sleep(SETTLE_S)
    measured = fd.measure(backend, samples=3, interval=3.0 if write else 1.0, progress=eng.progress)
    running = {c.labels["com.docker.compose.service"] for c in docker_engine.client.containers.list(
        filters={"label": f"com.docker.compose.project={ce.PROJECT}"})}
    assert set(measured) == running, "a figure for each running service, and only for them"
    assert {"postgres", "app1", "traefik", "prometheus", "locust"} <= running
    services = fd.compose_services()
    for name, used in measured.items():
        limit = services[name].limit_bytes or 2**30
        assert MIB <= used <= limit, f"{name}: {used / MIB:.1f} MiB is outside 1 MiB .. {limit / MIB:.0f} MiB"

    doc = fd.report(measured, services, engine=fd.engine_of(backend), samples=3, interval=3.0)
    eng.progress("\n" + fd.table(doc))
    for name in ce.LEFT_OUT:
        row = doc["services"][name]
        expected = ("one-shot", 0) if services[name].one_shot else ("limit", row["limit_mib"])
        assert (row["source"], row["mib"]) == expected, f"{name} is not running here: counted {row}"
    core, both = doc["profiles"]["core"], doc["profiles"]["core + logs"]
    assert core["measured_mib"] == sum(round(b / MIB) for n, b in measured.items() if services[n].profile == "core")
    assert both["total_mib"] - core["total_mib"] >= 1500, "the log stack counts at its limits"
    assert doc["engine"]["version"][0].isdigit()
    if write:  # the committed figures come from the command itself
        proc = subprocess.run([sys.executable, "-m", "chaoslib.cli", "bench", "footprint", "--backend", "docker"],
                              capture_output=True, text=True, timeout=300, env={**os.environ, **ce.environment()})
        eng.progress(proc.stdout + proc.stderr)
        assert proc.returncode == 0
        assert readme_paragraph(load()) in proc.stdout
