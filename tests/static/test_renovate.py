"""renovate.json: valid JSON whose managers find every pin (compose defaults, Dockerfiles, Dev Container, Python)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from .compose import REPO, default_of, services

RENOVATE = REPO / "renovate.json"
DOCKERFILES = sorted([*REPO.glob("stack/*/Dockerfile"), *REPO.glob("tests/docker/images/*.Dockerfile")])


@pytest.fixture(scope="module")
def renovate() -> dict:
    return json.loads(RENOVATE.read_text())


def python_regex(pattern: str) -> re.Pattern:
    """Renovate's (RE2/JavaScript) named groups `(?<name>` as Python's `(?P<name>`."""
    return re.compile(pattern.replace("(?<", "(?P<"))


def file_pattern(pattern: str) -> re.Pattern:
    """A managerFilePatterns entry: `/regex/` is a regex (else a glob, unused here)."""
    assert pattern.startswith("/") and pattern.endswith("/"), pattern
    return python_regex(pattern[1:-1])


def custom(renovate: dict, wanted: str) -> dict:
    (manager,) = [m for m in renovate["customManagers"] if wanted in m["description"]]
    assert manager["customType"] == "regex" and manager["datasourceTemplate"] == "docker"
    return manager


def test_is_json_with_the_expected_managers(renovate):
    assert renovate["$schema"] == "https://docs.renovatebot.com/renovate-schema.json"
    assert set(renovate["enabledManagers"]) >= {"docker-compose", "dockerfile", "devcontainer", "pep621",
                                                 "pip_requirements", "custom.regex"}
    assert len(renovate["customManagers"]) == 2


def test_the_compose_regex_finds_every_pinned_image(renovate):
    """Every `${X_IMAGE:-image:tag}` default with a release tag is found, as image and tag;
    the project's own `:local` images are not."""
    manager = custom(renovate, "docker-compose.yml")
    assert any(file_pattern(p).search("docker-compose.yml") for p in manager["managerFilePatterns"])
    (match,) = manager["matchStrings"]
    text = (REPO / "docker-compose.yml").read_text()
    found = {(m["depName"], m["currentValue"]) for m in python_regex(match).finditer(text)}
    wanted = set()
    for svc in services().values():
        image = default_of(svc["image"])
        repo, _, tag = image.rpartition(":")
        if tag != "local":
            wanted.add((repo, tag))
        base = (svc.get("build") or {}).get("args", {}).get("BASE_IMAGE")
        if base:
            wanted.add(tuple(default_of(base).rsplit(":", 1)))
    assert wanted and found == wanted
    assert not any(tag == "local" for _, tag in found)


def test_the_dockerfile_regex_finds_every_base_image(renovate):
    manager = custom(renovate, "ARG BASE_IMAGE")
    (match,) = manager["matchStrings"]
    assert DOCKERFILES
    for path in DOCKERFILES:
        rel = str(path.relative_to(REPO))
        assert any(file_pattern(p).search(rel) for p in manager["managerFilePatterns"]), rel
        assert any(file_pattern(p).search(rel) for p in renovate["dockerfile"]["managerFilePatterns"]), rel
        text = path.read_text()
        if "ARG BASE_IMAGE" not in text:  # built on another of the project's images (ARG APP_IMAGE)
            continue
        m = python_regex(match).search(text)
        assert m and re.fullmatch(r"[a-z0-9.-]+(-[a-z0-9.-]+)*", m["currentValue"]), rel


def test_the_default_managers_have_their_files():
    """The devcontainer, pep621 and pip_requirements managers read these files by their default names."""
    assert (REPO / ".devcontainer" / "devcontainer.json").is_file()
    assert "[project]" in (REPO / "pyproject.toml").read_text()
    assert Path(REPO / "stack" / "app" / "requirements.txt").is_file()


def test_the_held_lines_accept_todays_pins(renovate):
    """The rules that hold Python to 3.11-bookworm and PostgreSQL to 15 accept the current pins (else
    Renovate would propose nothing, or downgrade)."""
    rules = {tuple(r.get("matchPackageNames", [])): r for r in renovate["packageRules"]}
    pins = {"python": default_of(services()["app1"]["build"]["args"]["BASE_IMAGE"]),
            "postgres": default_of(services()["postgres"]["image"])}
    for name, pin in pins.items():
        allowed = rules[(name,)]["allowedVersions"]
        assert python_regex(allowed.strip("/")).fullmatch(pin.rpartition(":")[2]), (name, pin, allowed)
