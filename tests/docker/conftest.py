"""Fixtures for the docker backend: an engine, the images, docker-compose.yml brought up; all removed after.

Session-scoped, shared by every module of this folder. The docker suite runs last in a session
(tests/conftest.py), after the native stack is down, so the two never share the two cores.
Under CI or as root, an engine that cannot be started fails these tests instead of skipping them.
"""
from __future__ import annotations

import os
import shutil
import time

import pytest

import compose_env as ce
import docker_env as eng
from skips import skip_or_fail


@pytest.fixture(scope="session")
def docker_engine(request):
    """A Docker Engine that answers; started here (as root) when none does, stopped at the end.

    Asserts that the host's nftables ruleset is the same after these tests as before them.
    """
    eng.capture_manager = request.config.pluginmanager.getplugin("capturemanager")
    before = eng.host_ruleset()
    saved = {k: os.environ.get(k) for k in ("CHAOSCTL_COMPOSE_PROJECT", "CHAOSCTL_HELPER_IMAGE", "DOCKER_HOST",
                                            "CHAOSCTL_BACKEND",
                                            *ce.SUBSTITUTES, "DOCKER_SOCKET", "DOCKER_DATA_ROOT", "BASE_IMAGE")}
    e = eng.Engine()
    if not e.connect():
        if os.geteuid() != 0:
            skip_or_fail("no Docker Engine answers, and starting one needs root")
        try:
            e.start()
        except RuntimeError as err:
            pytest.fail(f"dockerd did not start: {err}", pytrace=False)
    os.environ["CHAOSCTL_COMPOSE_PROJECT"] = ce.PROJECT
    # The observability endpoints (Prometheus, Alertmanager, the pager) are the docker
    # backend's published ports for the rest of the session, as for a player under Docker.
    os.environ["CHAOSCTL_BACKEND"] = "docker"
    os.environ["CHAOSCTL_HELPER_IMAGE"] = eng.image("helper")
    try:
        yield e
    finally:
        try:
            eng.remove_stack(e.client, ce.PROJECT)
        finally:
            e.stop()
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    eng.capture_manager = None
    after = eng.host_ruleset()
    assert after == before, "the docker session changed the host's nftables ruleset"


@pytest.fixture(scope="session")
def docker_stack(docker_engine, tmp_path_factory):
    """Images built on the local base, and docker-compose.yml up (the services that can run here);
    the backend's state dir. `down -v` at the end (tests/docker/test_zz_down.py checks what it leaves)."""
    client = docker_engine.client
    t0 = time.monotonic()
    eng.ensure_base(client)
    eng.ensure_wheelhouse()
    took = ce.build_substitutes(client)
    eng.progress(f"images ready in {time.monotonic() - t0:.1f} s")
    os.environ.update(ce.environment())
    ce.down(client)
    # The one stack of the session comes up as on a fresh clone (test_fresh_clone.py checks it): a
    # clean copy of the working tree, `docker compose up -d --wait` there, nothing rendered first.
    workdir = ce.clean_copy()
    before = ce.tree(workdir)
    try:
        up_s = ce.up(client, workdir)
        eng.progress(f"docker compose up --wait: every service healthy in {up_s:.1f} s")
        yield {"build_seconds": took, "up_seconds": up_s, "state_dir": tmp_path_factory.mktemp("docker-state"),
               "workdir": workdir, "tree_before": before}
    finally:
        ce.down(client)
        shutil.rmtree(workdir, ignore_errors=True)
