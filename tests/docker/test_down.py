"""`chaosctl panic` and `docker compose down -v` leave nothing of the game on the engine.

Marked `last`: it takes the compose stack down, after every other docker test.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

import compose_env as ce
import docker_env as eng
from chaoslib.backends.docker import DockerBackend
from chaoslib.config import Settings
from chaoslib.stack import Stack
from integration.helpers import wait_until

pytestmark = [pytest.mark.docker, pytest.mark.last]


def test_panic_then_down_leaves_no_container_network_volume_or_helper(docker_engine, docker_stack):
    """Faults in force, `chaosctl panic`, then `down -v`: the engine lists nothing of the project, no helper, no warden."""
    client = docker_engine.client
    stack = Stack(DockerBackend(Settings(state_dir=docker_stack["state_dir"]), project=ce.PROJECT,
                                helper_image=eng.image("helper")))
    env = {**os.environ, "CHAOSCTL_BACKEND": "docker", "CHAOSCTL_STATE_DIR": str(stack.settings.state_dir),
           "CHAOSCTL_COMPOSE_PROJECT": ce.PROJECT, "CHAOSCTL_HELPER_IMAGE": eng.image("helper")}

    def chaosctl(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "chaoslib.cli", *args], env=env, capture_output=True,
                              text=True, timeout=180)

    a, b = stack.targets()[:2]
    assert chaosctl("inject", "lb-loss", "--target", a).returncode == 0
    assert chaosctl("inject", "disk-full", "--target", b).returncode == 0
    assert (stack.settings.state_dir / "warden.pid").exists()
    services = {c.labels.get("com.docker.compose.service") for c in client.containers.list(
        filters={"label": f"com.docker.compose.project={ce.PROJECT}"})}
    assert {"app1", "traefik", "prometheus"} <= services
    proc = chaosctl("panic")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert stack.backend.fault_footprint()["helpers"] == []
    assert wait_until(lambda: not (stack.settings.state_dir / "warden.pid").exists(), timeout=15, interval=0.5)
    ce.down(client)
    left = ce.leftovers(client)
    assert left == {"containers": [], "networks": [], "volumes": []}, left
    assert not [c.name for c in client.containers.list(all=True)], "containers outside the project remain"
    pgrep = subprocess.run(["pgrep", "-f", "chaoslib.engine.warden.*--exit-when-idle"], capture_output=True, text=True)
    assert pgrep.stdout.strip() == "", "a detached warden is still running"
