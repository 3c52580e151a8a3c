"""Gitpod: tasks start the compose stack and JupyterLab on the docker backend; ports are declared."""
from __future__ import annotations

import re

import yaml

from .compose import REPO, services

GITPOD = REPO / ".gitpod.yml"
ON_OPEN = {"open-browser", "open-preview", "notify", "ignore"}
EXPECTED_PORTS = {8888: "JupyterLab", 3000: "Grafana", 5601: "Kibana", 9090: "Prometheus", 9093: "Alertmanager",
                  8080: "Traefik dashboard", 8000: "the app"}


def config() -> dict:
    return yaml.safe_load(GITPOD.read_text())


def tasks() -> list[dict]:
    return config()["tasks"]


def test_a_task_starts_the_stack_and_waits():
    """One task builds in `init` and runs `docker compose up -d --wait` as its command."""
    (stack,) = [t for t in tasks() if "docker compose up -d --wait" in t.get("command", "")]
    assert "docker compose --profile tools build" in stack["init"]


def test_a_task_starts_jupyterlab_on_the_docker_backend():
    """One task starts JupyterLab on notebooks/ on port 8888 with CHAOSCTL_BACKEND=docker."""
    (lab,) = [t for t in tasks() if "jupyterlab" in t.get("command", "")]
    command = lab["command"]
    assert "CHAOSCTL_BACKEND=docker" in command
    assert "--port=8888" in command and "/notebooks" in command


def test_init_is_idempotent():
    """`init` steps are safe to repeat: make targets, pulls and builds only; no appends, clones or rm -rf."""
    for task in tasks():
        init = task.get("init", "")
        assert not re.search(r">>|git clone|rm -rf|mkdir (?!-p)", init), task["name"]
        for line in filter(None, (line.strip() for line in init.splitlines())):
            assert line.startswith(("make ", "docker compose pull", "docker compose --profile tools build")), line


def test_ports():
    """The expected ports are declared with a valid onOpen; JupyterLab opens the browser."""
    ports = {p["port"]: p for p in config()["ports"]}
    assert set(EXPECTED_PORTS) <= set(ports)
    assert ports[8888]["onOpen"] == "open-browser"
    for port in ports.values():
        assert port["onOpen"] in ON_OPEN, port
        assert port.get("visibility", "private") == "private", port


def test_ports_are_published_by_compose():
    """Every Gitpod port but JupyterLab's is one docker-compose.yml publishes on the host."""
    published = set()
    for svc in services().values():
        for spec in svc.get("ports", []):
            host = re.sub(r"\$\{[^}]*\}", lambda m: m.group(0).split(":-")[-1].rstrip("}"), str(spec))
            published.add(int(host.split(":")[-2]))
    for port in config()["ports"]:
        if port["port"] != 8888:
            assert port["port"] in published, port


def test_stack_binds_to_every_interface_in_gitpod():
    """The stack task publishes on 0.0.0.0 so Gitpod can forward the ports."""
    (stack,) = [t for t in tasks() if "docker compose up" in t.get("command", "")]
    assert "CHAOS_BIND=0.0.0.0" in stack["command"]


def test_only_one_task_makes_the_virtualenv():
    """Tasks' inits run in parallel: exactly one of them creates the virtualenv."""
    assert sum("make docker-venv" in t.get("init", "") for t in tasks()) == 1


def test_the_lab_never_asks_about_news():
    """Gitpod's JupyterLab reads stack/jupyter/overrides.json, the same settings `chaosctl lab` gives its lab."""
    import json

    from chaoslib.services.lab import SETTINGS_OVERRIDES

    command = next(t["command"] for t in tasks() if t["name"] == "jupyterlab")
    assert '--LabApp.app_settings_dir="$GITPOD_REPO_ROOT/stack/jupyter"' in command
    committed = json.loads((REPO / "stack" / "jupyter" / "overrides.json").read_text())
    assert committed == SETTINGS_OVERRIDES
    assert committed["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"
