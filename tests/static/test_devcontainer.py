"""devcontainer.json (today's Gitpod, Codespaces, DevPod): the spec's schema, pins, ports, lifecycle."""
from __future__ import annotations

import json
import re

import jsonschema
import pytest

from .compose import REPO, services
from .jsonc import load, strip_comments

DEVCONTAINER = REPO / ".devcontainer" / "devcontainer.json"
SCHEMA = REPO / "tests" / "static" / "schemas" / "devContainer.base.schema.json"
DIND = "ghcr.io/devcontainers/features/docker-in-docker"
#: The game's ports and their labels' key word.
PORTS = {8888: "JupyterLab", 8000: "app", 3000: "Grafana", 5601: "Kibana", 9090: "Prometheus",
         9093: "Alertmanager", 8080: "Traefik", 8089: "Locust", 9099: "Pager"}


@pytest.fixture(scope="module")
def dc() -> dict:
    return load(DEVCONTAINER)


def test_valid_against_the_dev_container_schema(dc):
    """devcontainer.json validates against the spec's own schema (draft 2019-09, unknown keys refused)."""
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft201909Validator(schema)
    errors = sorted(validator.iter_errors(dc), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_the_schema_refuses_a_broken_config(dc):
    """The schema check bites: a misspelt key and a wrong type are errors."""
    validator = jsonschema.Draft201909Validator(json.loads(SCHEMA.read_text()))
    assert list(validator.iter_errors({**dc, "forwardPort": [8888]}))
    assert list(validator.iter_errors({**dc, "forwardPorts": "8888"}))


def test_jsonc_comments_are_stripped_outside_strings_only():
    """`//` and `/* */` go; a URL's `//` inside a string stays; line numbers are kept."""
    text = '// head\n{"a": "http://x/*y*/", /* b\n c */ "b": 1 // tail\n}'
    assert json.loads(strip_comments(text)) == {"a": "http://x/*y*/", "b": 1}
    assert strip_comments(text).count("\n") == text.count("\n")
    assert json.loads(strip_comments(r'{"q": "a \" // b"}')) == {"q": 'a " // b'}


def test_image_is_debian_bookworm_pinned_to_an_exact_tag(dc):
    """The image tag names an exact release (x.y.z), a Python version and bookworm: never a moving `1-...`."""
    image = dc["image"]
    assert re.fullmatch(r"mcr\.microsoft\.com/devcontainers/python:\d+\.\d+\.\d+-3\.1\d-bookworm", image), image


def test_docker_in_docker_with_an_exact_major_and_moby(dc):
    """The docker-in-docker feature at one major version, Moby and the engine version chosen, Compose v2."""
    (ref,) = [k for k in dc["features"] if k.startswith(DIND)]
    assert re.fullmatch(re.escape(DIND) + r":\d+", ref), ref
    options = dc["features"][ref]
    assert isinstance(options.get("moby"), bool) and options.get("version")
    assert options.get("dockerDashComposeVersion") == "v2"


def test_ports_are_forwarded_labelled_and_only_jupyterlab_opens_a_browser(dc):
    """Every game port is forwarded with a label; JupyterLab opens the browser, no other port does."""
    assert sorted(dc["forwardPorts"]) == sorted(PORTS)
    attrs = dc["portsAttributes"]
    for port, word in PORTS.items():
        attr = attrs[str(port)]
        assert word in attr["label"], attr
        expected = "openBrowser" if port == 8888 else None
        if expected:
            assert attr["onAutoForward"] == expected
        else:
            assert attr["onAutoForward"] in {"notify", "silent", "ignore"}, (port, attr)
    assert dc.get("otherPortsAttributes", {}).get("onAutoForward") != "openBrowser"


def test_forwarded_ports_are_published_by_compose(dc):
    """Every forwarded port but JupyterLab's is one docker-compose.yml publishes."""
    published = set()
    for svc in services().values():
        for spec in svc.get("ports", []):
            host = re.sub(r"\$\{[^}]*\}", lambda m: m.group(0).split(":-")[-1].rstrip("}"), str(spec))
            published.add(int(host.split(":")[-2]))
    assert set(dc["forwardPorts"]) - {8888} <= published


def test_lifecycle_makes_the_venv_starts_the_stack_and_opens_the_lab(dc):
    """venv after create, the stack after start (its configs rendered inside it), JupyterLab on attach."""
    assert dc["postCreateCommand"] == "make docker-venv"
    assert dc["postStartCommand"] == "make docker-up"
    assert "make docker-lab" in dc["postAttachCommand"]
    makefile = (REPO / "Makefile").read_text()
    for target in ("docker-venv", "docker-up", "docker-lab", "docker-config"):
        assert re.search(rf"^{target}:", makefile, re.M), target
    # No rendering on the host first: the compose file's `config` service renders inside the stack.
    assert re.search(r"^docker-up: docker-venv$", makefile, re.M)
    assert dc["containerEnv"]["CHAOSCTL_BACKEND"] == "docker"


def test_host_requirements_declare_memory(dc):
    """The full stack (Elasticsearch, Kibana, Grafana, ...) needs a big enough machine: say so."""
    memory = dc["hostRequirements"]["memory"]
    assert re.fullmatch(r"\d+gb", memory) and int(memory[:-2]) >= 8, memory
