"""The docker backend's `up()` renders the stack's configs before `docker compose up` (fresh clone)."""
from __future__ import annotations

from chaoslib import dockerconf
from chaoslib.backends.docker import DockerBackend, lifecycle
from chaoslib.config import Settings


def test_up_renders_the_configs_then_runs_compose(tmp_path, monkeypatch):
    """Configs (webhooks from the environment) are written first, then compose is asked to come up."""
    calls: list[str] = []
    out = tmp_path / "generated"
    real_render = dockerconf.render_configs

    def render(out_dir=None, **kwargs):
        calls.append("render")
        return real_render(out, env={"SLACK_WEBHOOK_URL": "https://hooks.example/x"})

    monkeypatch.setattr(lifecycle.dockerconf, "render_configs", render)
    monkeypatch.setattr(DockerBackend, "client", property(lambda self: object()))
    monkeypatch.setattr(DockerBackend, "_compose_base", lambda self: ["/usr/bin/docker", "compose"])
    monkeypatch.setattr(DockerBackend, "_compose", lambda self, *args, progress: calls.append(" ".join(args)))
    lines: list[str] = []
    DockerBackend(Settings(state_dir=tmp_path / "state")).up(progress=lines.append)
    assert calls == ["render", "up -d --wait"]
    assert "https://hooks.example/x" in (out / "alertmanager.yml").read_text()
    assert (out / "prometheus.yml").exists()
    assert any("alertmanager.yml" in line for line in lines)
