"""`git clone` then `docker compose up -d --wait`: no other step, nothing created where a file belongs.

The session's one stack (conftest.docker_stack) came up from a clean copy of the working tree
(compose_env.clean_copy: tracked and untracked-but-not-ignored files, so uncommitted edits count, and
nothing gitignored: no stack/generated/*.yml) by `docker compose up -d --wait` run there with the
stand-in images and nothing rendered first. These tests read what that left; `down -v` is the
fixture's (test_down.py checks that it leaves nothing, the configs' volume included).
"""
from __future__ import annotations

from pathlib import Path

import pytest

import compose_env as ce

pytestmark = pytest.mark.docker

WORKDIR_LABEL = "com.docker.compose.project.working_dir"


def _containers(client) -> dict[str, object]:
    found = client.containers.list(all=True, filters={"label": f"com.docker.compose.project={ce.PROJECT}"})
    return {c.labels["com.docker.compose.service"]: c for c in found}


def test_the_stack_came_up_from_a_clean_copy_with_nothing_rendered_first(docker_engine, docker_stack):
    """The copy holds no rendered config (as a fresh clone), Compose ran there, and the one-shot
    `config` service rendered Prometheus's and Alertmanager's configs inside the stack."""
    workdir: Path = docker_stack["workdir"]
    assert workdir != ce.REPO and (workdir / "docker-compose.yml").is_file()
    assert sorted(p.name for p in (workdir / "stack" / "generated").iterdir()) == ["README.md"]
    containers = _containers(docker_engine.client)
    assert {c.labels[WORKDIR_LABEL] for c in containers.values()} == {str(workdir)}
    config = containers["config"]
    config.reload()
    assert config.attrs["State"]["Status"] == "exited" and config.attrs["State"]["ExitCode"] == 0, config.logs()
    for service, file in (("prometheus", "/etc/chaos/prometheus.yml"), ("alertmanager", "/etc/chaos/alertmanager.yml")):
        c = containers[service]
        c.reload()
        assert c.attrs["State"]["Running"] and c.attrs["State"]["Health"]["Status"] == "healthy", service
        code, out = c.exec_run(["test", "-f", file])
        assert code == 0, f"{service}: {file} is not a file ({out!r})"
    code, out = containers["alertmanager"].exec_run(["cat", "/etc/chaos/alertmanager.yml"])
    assert code == 0 and b"http://pager:9099/pages" in out


def test_no_directory_was_created_where_a_file_belongs(docker_engine, docker_stack):
    """`up` added nothing to the copy (Compose creates a missing bind source as a directory), and every
    bind mount of every container is a path that was in the copy before, of the same kind."""
    workdir: Path = docker_stack["workdir"]
    before: dict[str, str] = docker_stack["tree_before"]
    after = ce.tree(workdir)
    assert {p: k for p, k in after.items() if before.get(p) != k} == {}, "up changed the clean copy"
    binds = 0
    for service, c in _containers(docker_engine.client).items():
        for mount in c.attrs.get("Mounts", []):
            source = Path(mount.get("Source", ""))
            if mount.get("Type") != "bind" or not source.is_relative_to(workdir):
                continue
            binds += 1
            rel = str(source.relative_to(workdir))
            assert rel in before, f"{service} mounts {rel}, which a fresh clone lacks"
            assert before[rel] == after[rel], f"{service}: {rel} was a {before[rel]}, is a {after[rel]}"
    assert binds >= 3, "no bind mount from the copy was seen (rules, templates, locustfile)"
