"""docker-compose.yml's two profiles: the core game by default, the log stack with `--profile logs`.

Real Docker Compose v2 (`config`) says which services each profile starts; nothing here needs an
engine. The session's compose stack (tests/docker) runs the default profile; no image of the log
stack can be built on this machine, so the logs profile is checked here, as Compose reads it.
"""
from __future__ import annotations

import os
import re
import subprocess

import yaml

from .compose import COMPOSE_FILE, ONE_SHOT, REPO, compose, compose_binary, default_of, env_of, services

LOGS = {"elasticsearch", "kibana", "kibana-setup", "filebeat"}
#: The core game the issue names (and the one-shots and helpers it needs), started by a plain `up`.
CORE = {"postgres", "migrate", "disks", "app1", "app2", "app3", "traefik", "pager", "prometheus", "alertmanager",
        "postgres-exporter", "cadvisor", "locust", "grafana"}


def compose_config(*args: str, path=COMPOSE_FILE, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`docker-compose [args] config ...` on `path` in a clean environment (no COMPOSE_PROFILES, no ES_JAVA_OPTS)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_") and k != "ES_JAVA_OPTS"}
    return subprocess.run([compose_binary(), "-f", str(path), "--project-directory", str(REPO), *args],
                          capture_output=True, text=True, timeout=120, cwd=REPO, env={**clean, **(env or {})})


def listed(*profile_args: str) -> set[str]:
    proc = compose_config(*profile_args, "config", "--services")
    assert proc.returncode == 0, proc.stderr
    return set(proc.stdout.split())


def test_up_starts_the_core_and_the_logs_profile_adds_the_log_stack():
    """`config --services`: the core game without the four log services; `--profile logs` adds exactly them."""
    core = listed()
    assert CORE <= core and not LOGS & core, sorted(core)
    assert listed("--profile", "logs") == core | LOGS
    proc = compose_config("config", "--services", env={"COMPOSE_PROFILES": "logs"})
    assert set(proc.stdout.split()) == core | LOGS, proc.stderr


def test_the_log_stack_is_one_profile_and_nothing_in_the_core_waits_for_it():
    """Each log service is in the profile "logs" only; no service outside it depends on one inside it."""
    svcs = services()
    for name in LOGS:
        assert svcs[name].get("profiles") == ["logs"], name
    for name, svc in svcs.items():
        if "logs" not in svc.get("profiles", []):
            assert not LOGS & set(svc.get("depends_on", {})), f"{name} depends on the log stack"


def test_a_core_service_depending_on_the_log_stack_is_refused(tmp_path):
    """The check has teeth: Compose itself refuses a core service that waits for Elasticsearch."""
    broken = compose()
    broken["services"]["grafana"].setdefault("depends_on", {})["elasticsearch"] = {"condition": "service_healthy"}
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(broken))
    proc = compose_config("config", "--services", path=path)
    assert proc.returncode != 0 and "elasticsearch" in proc.stderr, proc.stderr


def test_the_log_stacks_one_shot_is_waited_for_inside_its_profile():
    """kibana-setup (a one-shot) is adopted by a long-running service of the same profile, so `up --wait` returns."""
    svcs = services()
    for name in ONE_SHOT & LOGS:
        adopters = [s for s in LOGS - ONE_SHOT if name in svcs[s].get("depends_on", {})]
        assert adopters, f"no service of the logs profile waits for {name}"


def test_es_java_opts_come_from_the_environment():
    """ES_JAVA_OPTS defaults to today's 512 MiB heap; set, Compose passes it on (Apple M4 needs -XX:UseSVE=0)."""
    value = env_of(services()["elasticsearch"])["ES_JAVA_OPTS"]
    assert value.startswith("${ES_JAVA_OPTS:-") and default_of(value) == "-Xms512m -Xmx512m"
    for env, expected in (({}, "-Xms512m -Xmx512m"),
                          ({"ES_JAVA_OPTS": "-Xms512m -Xmx512m -XX:UseSVE=0"}, "-Xms512m -Xmx512m -XX:UseSVE=0")):
        proc = compose_config("--profile", "logs", "config", "--format", "yaml", env=env)
        assert proc.returncode == 0, proc.stderr
        rendered = yaml.safe_load(proc.stdout)["services"]["elasticsearch"]["environment"]
        assert rendered["ES_JAVA_OPTS"] == expected


def test_readme_gives_both_profiles_and_what_apple_silicon_needs():
    """The README's Docker section: how to start each profile, and the JVM flag for Apple M4."""
    text = (REPO / "README.md").read_text()
    docker = text[text.index("## Docker"):text.index("\n## ", text.index("## Docker") + 1)]
    for promise in ("docker compose up -d --wait", "docker compose --profile logs up -d --wait",
                    "make docker-up LOGS=1", "-XX:UseSVE=0", "elastic/elasticsearch#118583",
                    "logs from the Docker engine"):
        assert promise in docker, promise


def test_make_docker_up_takes_the_logs_profile_and_docker_down_removes_it():
    """`make docker-up LOGS=1` passes `--profile logs` to `up`, plain `make docker-up` does not;
    `make docker-down` names the profile (Compose's `down` leaves the containers of a profile not given)."""
    def recipe(*args: str) -> str:
        proc = subprocess.run(["make", "-n", "-B", *args], capture_output=True, text=True, timeout=60, cwd=REPO)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout
    up = r"(?m)^.*\bup -d\b.*--wait.*$"
    with_logs = re.findall(up, recipe("docker-up", "LOGS=1", "DOCKER_COMPOSE=docker compose"))
    without = re.findall(up, recipe("docker-up", "DOCKER_COMPOSE=docker compose"))
    assert with_logs and all("--profile logs" in line for line in with_logs), with_logs
    assert without and not any("--profile logs" in line for line in without), without
    assert "--profile logs down" in recipe("docker-down", "DOCKER_COMPOSE=docker compose")
