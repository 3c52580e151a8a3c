"""The Dev Container CLI (@devcontainers/cli, installed by `make deps`) reads .devcontainer/.

`devcontainer read-configuration` asks a Docker Engine for an existing dev container first, so
it runs against the test engine (DOCKER_HOST from the `docker_engine` fixture). The merged
configuration (`--include-merged-configuration`) would need the features' metadata from ghcr.io,
which no test machine reaches: it is not asked for.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from skips import skip_or_fail

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[2]
CLI = REPO / ".tools" / "devcontainers" / "node_modules" / ".bin" / "devcontainer"
DIND = "ghcr.io/devcontainers/features/docker-in-docker"
PORTS = [8888, 8000, 3000, 5601, 9090, 9093, 8080, 8089, 9099]


def read_configuration(*flags: str) -> subprocess.CompletedProcess:
    """`devcontainer read-configuration --workspace-folder REPO FLAGS`, on the test engine."""
    if not CLI.exists():
        skip_or_fail(f"{CLI.relative_to(REPO)} is not installed (`make deps` installs it)")
    docker = shutil.which("docker")
    if docker is None:
        skip_or_fail("the docker CLI is not installed (`make deps` installs docker.io)")
    # The engine the fixture answers on: DOCKER_HOST when it set one, else the default socket.
    env = dict(os.environ)
    return subprocess.run([str(CLI), "read-configuration", "--workspace-folder", str(REPO), "--docker-path", docker,
                           "--log-format", "json", *flags], capture_output=True, text=True, timeout=180, env=env)


def printed(proc: subprocess.CompletedProcess) -> dict:
    """The JSON document the CLI prints on stdout (its log goes to stderr)."""
    assert proc.returncode == 0 and proc.stdout.strip(), f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr[-3000:]}"
    return json.loads(proc.stdout)


def test_cli_reads_the_configuration(docker_engine):
    """The CLI parses devcontainer.json (comments and all) and prints the ports, feature and commands."""
    config = printed(read_configuration())["configuration"]
    assert config["forwardPorts"] == PORTS
    assert config["portsAttributes"]["8888"]["onAutoForward"] == "openBrowser"
    assert [f for f in config["features"] if f.startswith(DIND + ":")]
    assert config["postCreateCommand"] == "make docker-venv"
    assert config["postStartCommand"] == "make docker-up"
    assert config["image"].endswith("-bookworm")
