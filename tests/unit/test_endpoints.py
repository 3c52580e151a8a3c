"""The observation endpoints follow the backend, so the notebooks run unchanged on either."""
from __future__ import annotations

from chaoslib import config
from chaoslib.backends import endpoint
from chaoslib.observe.metrics import Metrics


def test_native_endpoints_are_the_loopback_services(monkeypatch):
    """Without a backend chosen, Prometheus is the native one on 127.0.2.3."""
    monkeypatch.delenv("CHAOSCTL_BACKEND", raising=False)
    monkeypatch.delenv("CHAOSCTL_PROMETHEUS_URL", raising=False)
    assert Metrics().url == "http://127.0.2.3:9090"


def test_docker_endpoints_are_the_published_ports(monkeypatch):
    """Under the docker backend, the notebooks read the ports docker-compose.yml publishes."""
    monkeypatch.setenv("CHAOSCTL_BACKEND", "docker")
    monkeypatch.delenv("CHAOSCTL_PAGER_URL", raising=False)
    monkeypatch.setenv("CHAOS_HOST", "127.0.0.1")
    assert endpoint("pager") == "http://127.0.0.1:9099"
    assert endpoint("alertmanager") == "http://127.0.0.1:9093"


def test_an_explicit_url_wins(monkeypatch):
    """CHAOSCTL_PROMETHEUS_URL overrides both backends' defaults."""
    monkeypatch.setenv("CHAOSCTL_BACKEND", "docker")
    monkeypatch.setenv("CHAOSCTL_PROMETHEUS_URL", "http://127.0.0.9:19090/")
    assert Metrics().url == "http://127.0.0.9:19090"


def test_docker_published_ports_match_the_compose_file():
    """Every endpoint the docker backend reads is a port docker-compose.yml publishes."""
    import yaml

    services = yaml.safe_load((config.REPO_ROOT / "docker-compose.yml").read_text())["services"]
    for name, port in config.DOCKER_PUBLISHED.items():
        published = [p.rsplit(":", 2)[-2:] for p in services[name].get("ports", [])]
        assert [str(port), str(port)] in published, (name, services[name].get("ports"))
