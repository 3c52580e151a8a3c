"""Fixtures for the docker backend: an engine, the images, a small stack; all removed after.

Module-scoped (one test module uses them), not session-scoped. The docker module runs last in a
session (tests/conftest.py), after the native stack is down, so the two never share the two cores.
Under CI or as root, an engine that cannot be started fails these tests instead of skipping them.
"""
from __future__ import annotations

import os
import time

import pytest

import docker_env as eng
from skips import skip_or_fail


@pytest.fixture(scope="module")
def docker_engine(request):
    """A Docker Engine that answers; started here (as root) when none does, stopped at the end.

    Asserts that the host's nftables ruleset is the same after these tests as before them.
    """
    eng.capture_manager = request.config.pluginmanager.getplugin("capturemanager")
    before = eng.host_ruleset()
    saved = {k: os.environ.get(k) for k in ("CHAOSCTL_COMPOSE_PROJECT", "CHAOSCTL_HELPER_IMAGE", "DOCKER_HOST")}
    e = eng.Engine()
    if not e.connect():
        if os.geteuid() != 0:
            skip_or_fail("no Docker Engine answers, and starting one needs root")
        try:
            e.start()
        except RuntimeError as err:
            pytest.fail(f"dockerd did not start: {err}", pytrace=False)
    os.environ["CHAOSCTL_COMPOSE_PROJECT"] = eng.PROJECT
    os.environ["CHAOSCTL_HELPER_IMAGE"] = eng.image("helper")
    try:
        yield e
    finally:
        try:
            eng.remove_stack(e.client)
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


@pytest.fixture(scope="module")
def docker_stack(docker_engine, tmp_path_factory):
    """Images built on the local base, and a stack of 3 replicas; the backend's Settings dir."""
    client = docker_engine.client
    t0 = time.monotonic()
    eng.ensure_base(client)
    eng.ensure_wheelhouse()
    took = eng.build_images(client)
    eng.progress(f"images ready in {time.monotonic() - t0:.1f} s")
    info = eng.start_stack(client, replicas=3)
    info["build_seconds"] = took
    info["state_dir"] = tmp_path_factory.mktemp("docker-state")
    yield info
