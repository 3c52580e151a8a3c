"""The stack in hand says where to look: its backend's endpoints, never the environment's choice of backend."""
from __future__ import annotations

import pytest

from chaoslib import config
from chaoslib.errors import UsageError
from chaoslib.game import Game
from chaoslib.observe.metrics import Metrics
from chaoslib.stack import Stack


def test_native_endpoints_are_the_loopback_services(monkeypatch):
    """The local backend's Prometheus is the native one on 127.0.2.3."""
    monkeypatch.delenv("CHAOSCTL_PROMETHEUS_URL", raising=False)
    assert Metrics(Stack("local").endpoint("prometheus")).url == "http://127.0.2.3:9090"


def test_docker_endpoints_are_the_published_ports(monkeypatch):
    """Under the docker backend, the notebooks read the ports docker-compose.yml publishes."""
    monkeypatch.delenv("CHAOSCTL_PAGER_URL", raising=False)
    monkeypatch.setenv("CHAOS_HOST", "127.0.0.1")
    stack = Stack("docker")
    assert stack.endpoint("pager") == "http://127.0.0.1:9099"
    assert stack.endpoint("alertmanager") == "http://127.0.0.1:9093"


def test_the_stack_in_hand_wins_over_the_environment(monkeypatch):
    """CHAOSCTL_BACKEND names docker, but a local stack in hand still reads the native Prometheus."""
    monkeypatch.setenv("CHAOSCTL_BACKEND", "docker")
    monkeypatch.delenv("CHAOSCTL_PROMETHEUS_URL", raising=False)
    assert Game(Stack("local")).metrics.url == "http://127.0.2.3:9090"


def test_an_explicit_url_wins(monkeypatch):
    """CHAOSCTL_PROMETHEUS_URL overrides both backends' defaults."""
    monkeypatch.setenv("CHAOSCTL_PROMETHEUS_URL", "http://127.0.0.9:19090/")
    assert Stack("docker").endpoint("prometheus") == "http://127.0.0.9:19090"
    assert Stack("local").endpoint("prometheus") == "http://127.0.0.9:19090"


def test_an_endpoint_the_backend_lacks_is_a_one_line_error():
    """The memory backend runs no Prometheus: asking for it names what it offers."""
    with pytest.raises(UsageError, match="the memory backend has no prometheus"):
        Stack("memory").endpoint("prometheus")


def test_docker_published_ports_match_the_compose_file():
    """Every endpoint the docker backend reads is a port docker-compose.yml publishes."""
    import yaml

    services = yaml.safe_load((config.REPO_ROOT / "docker-compose.yml").read_text())["services"]
    for name, port in config.DOCKER_PUBLISHED.items():
        published = [p.rsplit(":", 2)[-2:] for p in services[name].get("ports", [])]
        assert [str(port), str(port)] in published, (name, services[name].get("ports"))
