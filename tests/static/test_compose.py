"""docker-compose.yml: valid against the Compose Specification, pinned, healthy, ordered, wired."""
from __future__ import annotations

import re
import subprocess

import yaml

from chaoslib import dockerconf

from .compose import (
    COMPOSE_FILE,
    ONE_SHOT,
    REPLICAS,
    REPO,
    compose,
    compose_binary,
    default_of,
    env_of,
    services,
    venv_tool,
    volume_parts,
)
from .tooling import run

CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}


def check_jsonschema(path) -> subprocess.CompletedProcess:
    return subprocess.run([venv_tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(path)],
                          capture_output=True, text=True, timeout=120)


def test_validates_against_the_compose_spec():
    """check-jsonschema accepts the file under its vendored Compose Specification schema."""
    proc = check_jsonschema(COMPOSE_FILE)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_broken_copy_fails_validation(tmp_path):
    """The schema check has teeth: a misspelt key and a malformed health check are refused."""
    broken = tmp_path / "docker-compose.yml"
    text = COMPOSE_FILE.read_text()
    for good, bad in (("    restart: unless-stopped\n", "    restart: unless-stopped\n    imagee: x\n"),
                      ("      retries: 60\n", "      retries: [60]\n")):
        assert good in text
        broken.write_text(text.replace(good, bad, 1))
        proc = check_jsonschema(broken)
        assert proc.returncode != 0, bad


def test_every_long_running_service_has_a_healthcheck():
    """Every service has a health check, except the one-shots, so `up --wait` means usable."""
    for name, svc in services().items():
        if name in ONE_SHOT:
            assert svc.get("restart") == "no", name
            continue
        test = svc.get("healthcheck", {}).get("test")
        assert test and test[0] in ("CMD", "CMD-SHELL"), f"{name} has no health check"
        assert not svc["healthcheck"].get("disable"), name


#: An exact release in a tag: 15.10-bookworm, v3.7.15, 0.60.5, 3.11.10-slim-bookworm (not 15, 3, latest).
EXACT_TAG = re.compile(r"^v?\d+\.\d+(\.\d+)?(-[a-z0-9.-]+)?$")


def test_every_image_is_a_variable_with_an_exact_official_default():
    """Every image is `${X_IMAGE:-image:exact-tag}`: users get that image, the tests substitute their own builds."""
    for name, svc in services().items():
        image = svc.get("image", "")
        m = re.fullmatch(r"\$\{([A-Z_]+_IMAGE):-([^}]+)\}", image)
        assert m, f"{name}: image {image!r} is not ${{X_IMAGE:-image:tag}}"
        repo, _, tag = m.group(2).rpartition(":")
        assert repo and "/" not in tag, f"{name}: {image}"
        if "build" not in svc:  # built images are the project's own, tagged :local
            assert EXACT_TAG.match(tag), f"{name}: {m.group(2)} is not an exact release"
    for svc in services().values():
        base = (svc.get("build") or {}).get("args", {}).get("BASE_IMAGE")
        if base:
            assert EXACT_TAG.match(default_of(base).rpartition(":")[2]), f"floating base image {base}"


def _version(tag: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.match(r"v?(\d+(?:\.\d+)*)", tag).group(1).split("."))


def test_images_that_speak_the_engine_api_negotiate_its_version():
    """Docker Engine 29 refuses old API versions: Traefik >= 3.6.1 and cAdvisor from ghcr.io >= 0.57 negotiate."""
    traefik = default_of(services()["traefik"]["image"])
    assert traefik.startswith("traefik:") and _version(traefik.rpartition(":")[2]) >= (3, 6, 1), traefik
    cadvisor = default_of(services()["cadvisor"]["image"])
    assert cadvisor.startswith("ghcr.io/google/cadvisor:"), cadvisor
    assert _version(cadvisor.rpartition(":")[2]) >= (0, 57), cadvisor


def test_exactness_check_has_teeth():
    """Major-only and floating tags are refused by the same pattern; exact ones pass."""
    assert not any(EXACT_TAG.match(bad) for bad in ("15", "latest", "v3", "3-slim", "bookworm"))
    assert all(EXACT_TAG.match(good) for good in ("15.10-bookworm", "v3.7.15", "0.60.5", "3.11.10-slim-bookworm"))


def test_every_depends_on_uses_a_condition():
    """depends_on is always the long form with a condition; one-shots are waited for to succeed."""
    for name, svc in services().items():
        deps = svc.get("depends_on", {})
        assert isinstance(deps, dict), f"{name}: depends_on without conditions"
        for dep, spec in deps.items():
            assert spec.get("condition") in CONDITIONS, (name, dep)
            expected = "service_completed_successfully" if dep in ONE_SHOT else "service_healthy"
            assert spec["condition"] == expected, (name, dep)
            assert dep in services(), (name, dep)


def test_one_shots_are_adopted_so_wait_returns():
    """Each one-shot `up` starts is a service_completed_successfully dependency (else `up --wait` fails)."""
    svcs = services()
    for name in ONE_SHOT:
        if svcs[name].get("profiles"):
            continue  # not started by `up`
        adopters = [s for s, svc in svcs.items() if name in svc.get("depends_on", {}) and s not in ONE_SHOT]
        assert adopters, f"no long-running service waits for {name} to complete"


def test_app_replicas_are_separate_services():
    """app1..3: container name = replica, the app image, its tmpfs volume disk, limits, and the app contract."""
    svcs = services()
    for index, name in enumerate(REPLICAS, start=1):
        svc = svcs[name]
        assert svc["container_name"] == name
        build = svc["build"]
        assert build["context"] == "." and build["dockerfile"] == "stack/app/Dockerfile"
        assert default_of(build["args"]["BASE_IMAGE"]) == "python:3.11.10-slim-bookworm"
        (data,) = [v for v in svc["volumes"] if v.split(":")[1] == "/data"]
        volume = compose()["volumes"][data.split(":")[0]]
        assert volume["driver_opts"]["type"] == "tmpfs", volume
        assert re.search(r"size=\d+[kmg]", volume["driver_opts"]["o"]), volume
        # Kept mounted by `disks`, so a restart of the replica does not empty its disk.
        assert any(v.split(":")[0] == data.split(":")[0] for v in svcs["disks"]["volumes"])
        assert "tmpfs" not in svc, "a tmpfs: mount is emptied by every restart (no crash loop on a full disk)"
        assert svc["cpu_quota"] > 0 and svc["cpu_period"] > 0 and svc["mem_limit"]
        assert "cpus" not in svc, "a `cpus:` container cannot be given a quota under 0.01 core later"
        env = env_of(svc)
        assert env["REPLICA_NAME"] == name and env["DATA_DIR"] == "/data" and env["ALLOWED_HOSTS"] == "*"
        assert env["DATABASE_URL"] == "postgres://polls:polls@postgres:5432/polls"
        assert env["BIND"] == "0.0.0.0:8000" and env["SECRET_KEY"]
        assert env["PROMETHEUS_MULTIPROC_DIR"] != "/data" and not env["PROMETHEUS_MULTIPROC_DIR"].startswith("/data/")
        test = " ".join(svc["healthcheck"]["test"])
        assert "urllib" in test and "curl" not in test, "the app image may have no curl"
        assert svc["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert svc["networks"]["chaos"]["ipv4_address"] == dockerconf.replica_ip(index)


def test_limit_labels_match_the_limits():
    """The replicas' chaos-control.limits.* labels (the docker backend's reset values) equal the CFS quota and
    mem_limit."""
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    for name in REPLICAS:
        svc = services()[name]
        labels = svc["labels"]
        assert float(labels["chaos-control.limits.cpu"]) == svc["cpu_quota"] / svc["cpu_period"]
        mem = str(svc["mem_limit"]).lower()
        assert int(labels["chaos-control.limits.memory"]) == int(mem[:-1]) * units[mem[-1]]


def test_helper_image_is_built_but_not_started():
    """The network helper image is built from stack/helper (profile "tools"), never left running."""
    svc = services()["helper"]
    assert svc["build"]["dockerfile"] == "stack/helper/Dockerfile" and svc["profiles"] == ["tools"]
    assert svc["network_mode"] == "none"


def test_app_environment_names_are_read_by_the_app():
    """Every variable given to the app is one pollapp (settings, gunicorn, the release its launcher reads) or its
    runtime reads."""
    sources = "".join((REPO / "pollapp" / name).read_text() for name in ("settings.py", "gunicorn_conf.py",
                                                                         "releases.py"))
    runtime = {"DJANGO_SETTINGS_MODULE", "PYTHONUNBUFFERED", "PROMETHEUS_MULTIPROC_DIR"}
    for name in ("migrate", *REPLICAS):
        for key in env_of(services()[name]):
            assert key in runtime or f'"{key}"' in sources, f"{name}: {key} is not read by pollapp"


def test_migrate_is_a_one_shot_of_the_app_image():
    """migrate runs Django's migrations once, from the app image, after Postgres is healthy and the app's
    role is made (db-roles), as the app's role."""
    svc, app = services()["migrate"], services()["app1"]
    assert svc["image"] == app["image"] and svc["build"] == app["build"]
    assert svc["command"][:4] == ["python", "-m", "django", "migrate"]
    assert svc["depends_on"] == {"postgres": {"condition": "service_healthy"},
                                 "db-roles": {"condition": "service_completed_successfully"}}
    assert env_of(svc)["DATABASE_URL"] == env_of(app)["DATABASE_URL"]


def test_fixed_addresses_on_an_explicit_subnet():
    """The replicas' fixed IPs lie in the network's subnet, which chaoslib.dockerconf knows too."""
    import ipaddress

    net = compose()["networks"]["chaos"]
    assert net["name"] == dockerconf.NETWORK
    (cfg,) = net["ipam"]["config"]
    assert cfg["subnet"] == dockerconf.SUBNET
    subnet = ipaddress.ip_network(cfg["subnet"])
    ips = [services()[r]["networks"]["chaos"]["ipv4_address"] for r in REPLICAS]
    assert len(set(ips)) == len(ips) and all(ipaddress.ip_address(ip) in subnet for ip in ips)
    assert tuple(REPLICAS) == dockerconf.REPLICAS


def test_traefik_docker_provider_metrics_and_access_log():
    """Traefik: docker provider on the compose network, metrics on :8082, JSON access logs."""
    svcs = services()
    cmd = svcs["traefik"]["command"]
    for flag in ("--providers.docker=true", "--providers.docker.exposedByDefault=false",
                 f"--providers.docker.network={dockerconf.NETWORK}", "--entryPoints.metrics.address=:8082",
                 "--metrics.prometheus=true", "--metrics.prometheus.entryPoint=metrics",
                 "--accessLog=true", "--accessLog.format=json", "--log.format=json", "--ping=true"):
        assert flag in cmd, flag
    assert "${DOCKER_SOCKET:-/var/run/docker.sock}:/var/run/docker.sock:ro" in svcs["traefik"]["volumes"]
    for name in REPLICAS:
        labels = svcs[name]["labels"]
        assert labels["traefik.enable"] == "true"
        assert labels["traefik.docker.network"] == dockerconf.NETWORK
        assert labels["traefik.http.routers.polls.entrypoints"] == "web"
        assert labels["traefik.http.services.polls.loadbalancer.server.port"] == "8000"
        assert labels["traefik.http.services.polls.loadbalancer.healthcheck.path"] == "/healthz"


def test_bind_mounts_exist_in_a_fresh_clone():
    """Every relative bind-mount source is tracked by git (a file, or a folder holding tracked files):
    a fresh clone has it, so Compose never creates a directory in its place. Nothing is mounted
    from stack/generated/ (gitignored: only `make docker-config` writes there)."""
    # Tracked, and untracked but not ignored (what the next commit can hold).
    # The checkout may be another user's (root's, read unprivileged): trusted for this command only.
    tracked = set(run("git", "-c", f"safe.directory={REPO}", "ls-files", "--cached", "--others", "--exclude-standard",
                      cwd=REPO).stdout.split())
    for name, svc in services().items():
        for volume in svc.get("volumes", []):
            source = volume_parts(volume)[0]
            if not source.startswith("./"):
                continue
            path = source[2:].rstrip("/")
            assert not path.startswith("stack/generated"), f"{name} mounts {source}"
            assert path in tracked or any(t.startswith(path + "/") for t in tracked), \
                f"{name}: {source} is not in a fresh clone"


def test_prometheus_and_alertmanager_read_what_the_config_service_renders():
    """The one-shot `config` service renders both configs into a named volume on every `up`;
    Prometheus and Alertmanager mount it read-only and start only after it succeeded."""
    svcs = services()
    config, prom, am = svcs["config"], svcs["prometheus"], svcs["alertmanager"]
    assert config["image"] == svcs["app1"]["image"] and config["restart"] == "no"
    cmd = config["command"]
    assert cmd[:3] == ["python", "-m", "chaoslib.dockerconf"]
    out = cmd[cmd.index("--out") + 1]
    assert f"chaos-config:{out}" in config["volumes"]
    assert "chaos-config" in compose()["volumes"]
    for svc, file in ((prom, "prometheus.yml"), (am, "alertmanager.yml")):
        assert "chaos-config:/etc/chaos:ro" in svc["volumes"]
        assert f"--config.file=/etc/chaos/{file}" in svc["command"]
        assert svc["depends_on"]["config"] == {"condition": "service_completed_successfully", "restart": True}
    assert f"./stack/prometheus/rules:{dockerconf.RULES_DIR_IN_CONTAINER}:ro" in prom["volumes"]
    # The templates it renders are mounted where chaoslib.render looks for them (/srv/app = REPO_ROOT).
    for template in ("stack/prometheus/prometheus.yml.j2", "stack/alertmanager/alertmanager.yml.j2"):
        folder = template.rsplit("/", 1)[0]
        assert f"./{folder}:/srv/app/{folder}:ro" in config["volumes"]


def test_the_config_service_takes_webhooks_from_the_environment_only():
    """Webhook URLs reach the `config` service only from the environment of `docker compose`
    (or the untracked .env): passed through by name, never a value written in the file."""
    env = services()["config"]["environment"]
    for name in ("SLACK_WEBHOOK_URL", "DISCORD_WEBHOOK_URL"):
        assert name in env and env[name] is None, (name, env.get(name))
    assert "/.env" in (REPO / ".gitignore").read_text().split()


def test_pager_runs_chaoslib_pager_with_its_cli():
    """The pager service runs chaoslib.services.pager from the app image with the flags its CLI takes."""
    svc = services()["pager"]
    assert svc["image"] == services()["app1"]["image"]
    cmd = svc["command"]
    assert cmd[:3] == ["python", "-m", "chaoslib.services.pager"]
    assert cmd[cmd.index("--bind") + 1] == "0.0.0.0:9099" and "--store" in cmd
    source = (REPO / "chaoslib" / "services" / "pager.py").read_text()
    assert all(f'"{flag}"' in source for flag in ("--bind", "--store"))


def test_locust_runs_the_projects_locustfile():
    """Locust (official image) runs chaoslib/loadgen/locustfile.py against Traefik."""
    svc = services()["locust"]
    assert default_of(svc["image"]).startswith("locustio/locust:")
    (mount,) = [v for v in svc["volumes"] if v.startswith("./chaoslib/loadgen/locustfile.py:")]
    target = volume_parts(mount)[1]
    assert svc["command"][svc["command"].index("-f") + 1] == target
    assert "--host=http://traefik:80" in svc["command"]
    assert services()["locust"]["depends_on"]["traefik"]["condition"] == "service_healthy"


def test_elk_settings():
    """Elasticsearch single-node with a small heap and no security; Kibana and Filebeat versions match it."""
    svcs = services()
    es = env_of(svcs["elasticsearch"])
    assert es["discovery.type"] == "single-node"
    assert default_of(es["ES_JAVA_OPTS"]) == "-Xms512m -Xmx512m"  # ES_JAVA_OPTS may add to it (Apple M4)
    assert es["xpack.security.enabled"] == "false"
    version = default_of(svcs["elasticsearch"]["image"]).rsplit(":", 1)[1]
    assert default_of(svcs["kibana"]["image"]) == f"docker.elastic.co/kibana/kibana:{version}"
    assert default_of(svcs["filebeat"]["image"]) == f"docker.elastic.co/beats/filebeat:{version}"
    fb = svcs["filebeat"]
    assert fb["user"] == "root" and "--strict.perms=false" in fb["command"]
    mounts = {volume_parts(v)[1]: v for v in fb["volumes"]}
    assert mounts["/var/run/docker.sock"].endswith(":ro")
    assert mounts["/var/lib/docker/containers"].endswith(":ro")
    assert mounts["/usr/share/filebeat/filebeat.yml"].startswith("./stack/filebeat/filebeat.yml:")


def test_grafana_is_provisioned_from_the_repository():
    """Grafana mounts grafana/provisioning and grafana/dashboards; the admin password comes from the env."""
    svc = services()["grafana"]
    assert "./grafana/provisioning:/etc/grafana/provisioning:ro" in svc["volumes"]
    assert "./grafana/dashboards:/var/lib/grafana/dashboards:ro" in svc["volumes"]
    password = env_of(svc)["GF_SECURITY_ADMIN_PASSWORD"]
    assert password.startswith("${GF_SECURITY_ADMIN_PASSWORD:-") and default_of(password)


def test_cadvisor_and_postgres_exporter():
    """cAdvisor reports Docker containers only; postgres-exporter reads the polls database with its own role
    (db-roles makes it), not the app's, whose sessions a database fault ends."""
    svcs = services()
    assert "--docker_only=true" in svcs["cadvisor"]["command"]
    assert env_of(svcs["postgres-exporter"])["DATA_SOURCE_NAME"].startswith(
        "postgresql://exporter:exporter@postgres:5432/polls")


def test_published_ports_bind_to_a_configurable_address():
    """Published ports bind to ${CHAOS_BIND} (loopback by default), never silently to every interface."""
    for name, svc in services().items():
        for port in svc.get("ports", []):
            assert str(port).startswith("${CHAOS_BIND:-127.0.0.1}:"), (name, port)


def test_compose_config_with_real_compose():
    """Docker Compose v2 itself (`docker-compose config -q`) accepts the file, wherever the plugin is."""
    run(compose_binary(), "-f", str(COMPOSE_FILE), "config", "--quiet", cwd=REPO)


def test_real_compose_refuses_a_broken_file(tmp_path):
    """The check has teeth: a service depending on one that does not exist is refused by Compose."""
    broken = compose()
    broken["services"]["app1"]["depends_on"] = {"no-such-service": {"condition": "service_started"}}
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(broken))
    proc = subprocess.run([compose_binary(), "-f", str(path), "config", "--quiet"], capture_output=True, text=True,
                          timeout=120, cwd=REPO)
    assert proc.returncode != 0 and "no-such-service" in proc.stderr, proc.stderr


def test_prometheus_lifecycle_api_is_off():
    """Prometheus' /-/quit and /-/reload stay off under Docker too: its published port is not a kill switch."""
    command = services()["prometheus"].get("command", [])
    assert not any("enable-lifecycle" in str(arg) for arg in command), command
