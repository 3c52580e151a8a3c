"""The stack in hand says where to look: its backend's endpoints, never the environment's choice of backend."""
from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import pytest

from chaoslib import config
from chaoslib.errors import UsageError
from chaoslib.game import Game
from chaoslib.native import lockdown
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
    """Every endpoint the docker backend reads is a port docker-compose.yml publishes, moved by the
    same variable that config.DOCKER_PORTS names (`${CHAOS_BIND:-127.0.0.1}:${VAR:-port}:port`)."""
    import yaml

    services = yaml.safe_load((config.REPO_ROOT / "docker-compose.yml").read_text())["services"]
    owner = {"app": "traefik"}
    for name, (variable, port) in config.DOCKER_PORTS.items():
        ports = services[owner.get(name, name)].get("ports", [])
        wanted = f"${{CHAOS_BIND:-127.0.0.1}}:${{{variable}:-{port}}}:"
        assert any(p.startswith(wanted) for p in ports), (name, wanted, ports)
    for name, port in config.DOCKER_PUBLISHED.items():
        assert config.DOCKER_PORTS[name][1] == port


def test_the_native_stack_lists_every_address_it_publishes(monkeypatch):
    """Stack.endpoints() names every guarded service (the lockdown's list), Traefik and each replica, on loopback:
    the second-user probe and the loopback test take their addresses from it."""
    for name in ("POSTGRES", "POSTGRES_EXPORTER", "TRAEFIK_METRICS", "APP1", "PROMETHEUS"):
        monkeypatch.delenv(f"CHAOSCTL_{name}_URL", raising=False)
    stack = Stack("local")
    endpoints = stack.endpoints()
    addresses = {urlsplit(url).netloc for url in endpoints.values()}
    assert {infra.address for infra, _ in lockdown.rules_for_endpoints()} <= addresses
    assert config.TRAEFIK.address in addresses
    assert {f"app{i}" for i in range(1, stack.settings.replicas + 1)} <= set(endpoints)
    assert endpoints["postgres"] == "postgres://127.0.2.1:5432"
    assert all(ipaddress.ip_address(urlsplit(url).hostname).is_loopback for url in endpoints.values())
