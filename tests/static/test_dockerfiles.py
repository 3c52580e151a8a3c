"""Dockerfiles under stack/: hadolint passes on each, and the compose file builds from existing ones."""
from __future__ import annotations

from pathlib import Path

import pytest

from .compose import REPO, services, venv_tool
from .tooling import run

#: The stack's own, and the tests' substitutes for the official images (tests/docker/images).
DOCKERFILES = (sorted(p for p in (REPO / "stack").glob("**/Dockerfile*") if p.is_file())
               + sorted((REPO / "tests/docker/images").glob("*.Dockerfile")))


def test_dockerfiles_exist():
    """The two images compose builds have their Dockerfiles under stack/ (a missing one fails, never skips)."""
    assert {str(p.relative_to(REPO)) for p in DOCKERFILES} >= {"stack/app/Dockerfile", "stack/helper/Dockerfile"}


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: str(p.relative_to(REPO)))
def test_hadolint(dockerfile: Path):
    """hadolint (warnings and errors) passes on every Dockerfile found under stack/."""
    run(venv_tool("hadolint"), "--failure-threshold", "warning", str(dockerfile))


def test_hadolint_catches_a_bad_dockerfile(tmp_path):
    """The lint has teeth: an unpinned base image and `apt-get` without cleanup are flagged."""
    import subprocess

    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM debian:latest\nRUN apt-get update && apt-get install -y curl\n")
    proc = subprocess.run([venv_tool("hadolint"), "--failure-threshold", "warning", str(bad)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "DL3007" in proc.stdout


def test_compose_builds_from_dockerfiles_under_stack():
    """Every `build` of docker-compose.yml names a Dockerfile under stack/ with the repository as context."""
    builds = {svc["build"]["dockerfile"] for svc in services().values() if "build" in svc}
    assert builds == {"stack/app/Dockerfile", "stack/helper/Dockerfile"}
    for svc in services().values():
        if "build" in svc:
            assert svc["build"]["context"] == "."
    missing = [b for b in builds if not (REPO / b).is_file()]
    assert not missing, f"compose builds from missing Dockerfiles: {', '.join(missing)}"


def test_app_image_serves_every_app_image_service():
    """The app image takes BASE_IMAGE, has no ENTRYPOINT (compose's commands replace CMD) and carries chaoslib."""
    dockerfile = REPO / "stack" / "app" / "Dockerfile"
    assert dockerfile.is_file(), "stack/app/Dockerfile is missing"
    text = dockerfile.read_text()
    assert "ARG BASE_IMAGE" in text
    assert not any(line.startswith("ENTRYPOINT") for line in text.splitlines())
    assert any(line.startswith("COPY chaoslib") for line in text.splitlines()), "the pager runs chaoslib.services.pager"
    assert any(line.startswith("COPY pollapp") for line in text.splitlines())
