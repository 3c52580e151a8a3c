"""The docker backend's `up()` is `docker compose up -d --wait` alone: the stack renders its own configs."""
from __future__ import annotations

import pytest

from chaoslib import dockerconf
from chaoslib.backends.docker import DockerBackend
from chaoslib.config import Settings


def test_up_runs_compose_and_renders_nothing_on_the_host(tmp_path, monkeypatch):
    """A fresh clone comes up with no rendering step: the `config` service does it inside the stack."""
    calls: list[str] = []

    def render(*args, **kwargs):
        pytest.fail("up() rendered configs on the host")

    monkeypatch.setattr(dockerconf, "render_configs", render)
    monkeypatch.setattr(DockerBackend, "client", property(lambda self: object()))
    monkeypatch.setattr(DockerBackend, "_compose_base", lambda self: ["/usr/bin/docker", "compose"])
    monkeypatch.setattr(DockerBackend, "_compose", lambda self, *args, progress: calls.append(" ".join(args)))
    DockerBackend(Settings(state_dir=tmp_path / "state")).up(progress=lambda line: None)
    assert calls == ["up -d --wait"]


def test_endpoints_follow_the_moved_ports(tmp_path, monkeypatch):
    """Every published port moved by its variable is where the backend looks (CHAOS_HTTP_PORT, ...)."""
    monkeypatch.setenv("CHAOS_HTTP_PORT", "18000")
    monkeypatch.setenv("CHAOS_PROMETHEUS_PORT", "19090")
    monkeypatch.setenv("CHAOS_ALERTMANAGER_PORT", "19093")
    monkeypatch.setenv("CHAOS_PAGER_PORT", "19099")
    monkeypatch.setenv("CHAOS_GRAFANA_PORT", "13000")
    for name in ("prometheus", "alertmanager", "pager", "grafana", "app"):
        monkeypatch.delenv(f"CHAOSCTL_{name.upper()}_URL", raising=False)
    urls = DockerBackend(Settings(state_dir=tmp_path / "state")).endpoints()
    assert urls["app"].endswith(":18000") and urls["prometheus"].endswith(":19090")
    assert urls["alertmanager"].endswith(":19093") and urls["pager"].endswith(":19099")
    assert urls["grafana"].endswith(":13000") and urls["kibana"].endswith(":5601")
