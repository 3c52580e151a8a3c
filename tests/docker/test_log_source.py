"""The core profile without the log stack: the docker backend reads the engine's logs and says so.

The session's compose stack is `docker compose up`'s default profile (compose_env.SERVICES): no
Elasticsearch, Kibana or Filebeat. The logs must still be there, from the engine, and the player
told where they come from (notebook 03 prints `game.observe.log_source()`), with no Kibana link.
"""
from __future__ import annotations

import pytest

import compose_env as ce
import docker_env as eng
from chaoslib.backends.docker import DockerBackend
from chaoslib.backends.docker.logs import ENGINE
from chaoslib.config import Settings
from chaoslib.game import Game
from chaoslib.stack import Stack

pytestmark = pytest.mark.docker


def test_without_elasticsearch_the_logs_come_from_the_engine_and_say_so(docker_stack):
    backend = DockerBackend(Settings(state_dir=docker_stack["state_dir"]), project=ce.PROJECT,
                            helper_image=eng.image("helper"))
    running = {s.name for s in backend.status()}
    assert "app1" in running and not set(ce.LOGS_SERVICES) & running, running

    source = backend.log_source()
    assert source == ENGINE
    assert str(source) == "logs from the Docker engine (start with --profile logs for Elasticsearch and Kibana)"

    observe = Game(stack=Stack(backend)).observe
    assert observe.log_source() == ENGINE
    lines = observe.logs(service="app1", minutes=None)
    assert len(lines) and set(lines["service"]) == {"app1"}
    assert lines.attrs == {"log_source": "engine", "log_note": ENGINE.note}
    counts = observe.log_counts(by=("service",), minutes=None)
    assert "app1" in set(counts["service"]) and counts.attrs["log_source"] == "engine"

    labels = [link.label for link in observe.links()]
    assert any(label.startswith("Grafana") for label in labels), labels
    assert not any("Kibana" in label for label in labels), "a Kibana link without the log stack"
