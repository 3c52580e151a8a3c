"""Today's Gitpod (Ona): .gitpod/automations.yaml starts the stack and JupyterLab as services with readiness
checks, using only the documented keys (issue #25; the keys as Gitpod's SDK types name them, see REFERENCE.md)."""
from __future__ import annotations

import yaml

from .compose import REPO

AUTOMATIONS = REPO / ".gitpod" / "automations.yaml"
SERVICE_KEYS = {"name", "description", "triggeredBy", "commands", "runsOn", "role"}
COMMAND_KEYS = {"start", "ready", "stop"}
TASK_KEYS = {"name", "description", "command", "dependsOn", "triggeredBy", "runsOn"}
#: `prebuild` is for tasks only.
TRIGGERS = {"manual", "postDevcontainerStart", "postEnvironmentStart", "postMachineStart"}


def problems(doc: dict) -> list[str]:
    """Every key or value the documented format does not allow."""
    out = [f"top-level key {k!r}" for k in doc if k not in ("services", "tasks")]
    for sid, svc in (doc.get("services") or {}).items():
        out += [f"service {sid}: key {k!r}" for k in svc if k not in SERVICE_KEYS]
        out += [f"service {sid}: commands.{k}" for k in svc.get("commands", {}) if k not in COMMAND_KEYS]
        if not svc.get("commands", {}).get("start"):
            out.append(f"service {sid}: no commands.start")
        out += [f"service {sid}: trigger {t!r}" for t in svc.get("triggeredBy", []) if t not in TRIGGERS]
    tasks = doc.get("tasks") or {}
    for tid, task in tasks.items():
        out += [f"task {tid}: key {k!r}" for k in task if k not in TASK_KEYS]
        if not task.get("command"):
            out.append(f"task {tid}: no command")
        out += [f"task {tid}: trigger {t!r}" for t in task.get("triggeredBy", []) if t not in TRIGGERS | {"prebuild"}]
        out += [f"task {tid}: depends on unknown {d!r}" for d in task.get("dependsOn", []) if d not in tasks]
    return out


def doc() -> dict:
    return yaml.safe_load(AUTOMATIONS.read_text())


def test_only_documented_keys():
    """Unknown keys are errors in Gitpod: every key and trigger is one the format documents."""
    assert problems(doc()) == []


def test_the_check_sees_an_unknown_key():
    """Control: a misspelt key, a service-only trigger on a service, a missing start are reported."""
    bad = {"services": {"s": {"name": "x", "trigger": ["manual"], "commands": {"ready": "true"},
                              "triggeredBy": ["prebuild"]}}, "tasks": {"t": {"name": "y", "dependsOn": ["z"]}}}
    assert len(problems(bad)) == 5, problems(bad)


def test_the_stack_and_jupyterlab_start_as_services_after_the_dev_container():
    """Both services start at postDevcontainerStart, each with a readiness check; the stack's start is the
    README's `make docker-up`, JupyterLab's `make docker-lab` (the docker backend, 127.0.0.1, a token)."""
    services = doc()["services"]
    stack, lab = services["stack"], services["jupyterlab"]
    for svc in (stack, lab):
        assert svc["triggeredBy"] == ["postDevcontainerStart"]
        assert svc["commands"]["ready"] and svc["commands"]["stop"]
    assert "make docker-up" in stack["commands"]["start"]
    assert "--backend docker status" in stack["commands"]["ready"]
    assert "make docker-lab" in lab["commands"]["start"]
    assert "8888" in lab["commands"]["ready"] and "token" in lab["commands"]["ready"]


def test_the_make_targets_it_runs_exist():
    """The targets the automations call are in the Makefile."""
    makefile = (REPO / "Makefile").read_text()
    for target in ("docker-up", "docker-lab"):
        assert f"\n{target}:" in makefile
