"""A Docker Engine and a small stack for the docker backend's tests, built without any registry.

- The engine: the one DOCKER_HOST (or the default socket) points at; otherwise, as root,
  a dockerd this module starts with its own data root and socket, --iptables=false and
  --ip6tables=false (the host's ruleset stays as it was), stopped at the end.
- The base image: Debian bookworm from `debootstrap --variant=minbase` with python3 and
  python3-venv, imported as chaos-control-test/base:bookworm (built once, then cached).
- The images: stack/app, stack/helper and stack/postgres built with BASE_IMAGE set to that
  base (apt inside the builds uses the host network); the app's Python packages come from
  a wheelhouse built on the host (wheelhouse/, gitignored), as pip in a build has no PyPI.
- The stack: docker-compose.yml itself, brought up by compose_env.py.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROJECT = "chaos-control-test"
BASE_IMAGE = "chaos-control-test/base:bookworm"
IMAGES = {  # name -> Dockerfile
    "helper": "stack/helper/Dockerfile",
    "postgres": "stack/postgres/Dockerfile",
    "app": "stack/app/Dockerfile",
}
DATA_ROOT = Path("/var/lib/chaos-docker")
EXEC_ROOT = Path("/run/chaos-docker")
SOCKET = EXEC_ROOT / "docker.sock"
CACHE = Path("/var/cache/chaos-docker")
WHEELHOUSE = REPO / "wheelhouse"
#: docker-compose.yml: each replica disk is a 64 MiB tmpfs volume; the replicas run with 1 core, 512 MiB.
DISK_MB = 64
APP_LIMITS = (1.0, 512 * 1024 * 1024)


#: pytest's capture manager (set by the session fixture), so progress shows while output is captured.
capture_manager = None


def progress(line: str) -> None:
    """One progress line on the real stderr, even while pytest captures the test's output."""
    if capture_manager is not None:
        with capture_manager.global_and_fixture_disabled():
            sys.stderr.write(f"[docker] {line}\n")
            sys.stderr.flush()
        return
    sys.__stderr__.write(f"[docker] {line}\n")
    sys.__stderr__.flush()


def image(name: str) -> str:
    return f"{PROJECT}/{name}:latest"


# -- the host's ruleset -------------------------------------------------------------------
def host_ruleset() -> list | None:
    """The host's nftables ruleset without counters and without the native stack's own table
    (`inet chaos`, which the native tests running beside these change on purpose)."""
    exe = shutil.which("nft")
    if exe is None or os.geteuid() != 0:
        return None
    out = subprocess.run([exe, "-j", "-s", "list", "ruleset"], capture_output=True, text=True, check=True).stdout
    items = json.loads(out).get("nftables", [])
    keep = []
    for item in items:
        kind, body = next(iter(item.items()))
        if kind == "metainfo":
            continue
        table = body.get("name") if kind == "table" else body.get("table")
        if body.get("family") == "inet" and table == "chaos":
            continue
        keep.append(item)
    return keep


# -- the engine ---------------------------------------------------------------------------
class Engine:
    """A reachable engine; `started` is the dockerd process this module started, if any."""

    def __init__(self) -> None:
        self.client = None
        self.started: subprocess.Popen | None = None
        self.log = None

    def _try(self, base_url: str | None):
        import docker

        try:
            client = docker.DockerClient(base_url=base_url, timeout=600) if base_url else docker.from_env(timeout=600)
            client.ping()
            return client
        except docker.errors.DockerException:
            return None

    def connect(self) -> bool:
        self.client = self._try(None)
        if self.client is None and SOCKET.exists():
            self.client = self._try(f"unix://{SOCKET}")
            if self.client is not None:
                os.environ["DOCKER_HOST"] = f"unix://{SOCKET}"
        return self.client is not None

    def start(self, timeout: float = 90) -> None:
        """Start dockerd on its own socket and data root; wait for it with progress lines."""
        exe = shutil.which("dockerd")
        if exe is None:
            raise RuntimeError("dockerd is not installed: run `make deps WITH_DOCKER=1` as root")
        for d in (DATA_ROOT, EXEC_ROOT):
            d.mkdir(parents=True, exist_ok=True)
        self.log = open(CACHE / "dockerd.log", "ab") if CACHE.exists() else subprocess.DEVNULL
        progress(f"starting dockerd (data root {DATA_ROOT}, socket {SOCKET}, no iptables, no docker0)")
        self.started = subprocess.Popen(
            [exe, "--data-root", str(DATA_ROOT), "--exec-root", str(EXEC_ROOT / "exec"),
             "--pidfile", str(EXEC_ROOT / "dockerd.pid"), "-H", f"unix://{SOCKET}",
             "--iptables=false", "--ip6tables=false", "--bridge=none", "--storage-driver", "overlay2"],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        os.environ["DOCKER_HOST"] = f"unix://{SOCKET}"
        t0 = time.monotonic()
        last = 0.0
        while time.monotonic() - t0 < timeout:
            if self.started.poll() is not None:
                raise RuntimeError(f"dockerd exited with {self.started.returncode} (log: {CACHE / 'dockerd.log'})")
            self.client = self._try(f"unix://{SOCKET}")
            if self.client is not None:
                progress(f"dockerd answers after {time.monotonic() - t0:.1f} s")
                return
            if time.monotonic() - last > 5:
                progress("  waiting for dockerd")
                last = time.monotonic()
            time.sleep(0.3)
        raise RuntimeError(f"dockerd did not answer within {timeout:.0f} s")

    def stop(self) -> None:
        if self.started is None:
            return
        progress("stopping the dockerd these tests started")
        self.started.send_signal(signal.SIGTERM)
        try:
            self.started.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.started.kill()
            self.started.wait(timeout=10)
        if self.log not in (None, subprocess.DEVNULL):
            self.log.close()
        self.started = None
        # dockerd leaves a bind mount of the host's namespace (exec root/netns/default): unmount
        # whatever is still mounted under its own exec root.
        with open("/proc/mounts") as f:
            points = [line.split()[1] for line in f if line.split()[1].startswith(str(EXEC_ROOT) + "/")]
        for point in sorted(points, reverse=True):
            if subprocess.run(["umount", point], capture_output=True).returncode != 0:
                subprocess.run(["umount", "-l", point], capture_output=True)


# -- images -------------------------------------------------------------------------------
def ensure_base(client) -> None:
    """The debootstrapped base image, built once (about a minute) and then reused."""
    import docker

    try:
        client.images.get(BASE_IMAGE)
        progress(f"base image {BASE_IMAGE}: cached")
        return
    except docker.errors.ImageNotFound:
        pass
    exe = shutil.which("debootstrap")
    if exe is None:
        raise RuntimeError("debootstrap is not installed: run `make deps WITH_DOCKER=1` as root")
    CACHE.mkdir(parents=True, exist_ok=True)
    root = CACHE / "rootfs"
    shutil.rmtree(root, ignore_errors=True)
    t0 = time.monotonic()
    progress("debootstrap bookworm (minbase + python3, python3-venv, python3-pip): about a minute")
    with open(CACHE / "debootstrap.log", "wb") as log:
        subprocess.run([exe, "--variant=minbase", "--include=python3,python3-venv,python3-pip,ca-certificates",
                        "bookworm", str(root), "http://deb.debian.org/debian"], stdout=log, stderr=subprocess.STDOUT,
                       check=True, timeout=900)
    for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for p in (root / junk).glob("*"):
            if p.is_file():
                p.unlink()
    tar = CACHE / "rootfs.tar"
    subprocess.run(["tar", "-C", str(root), "-cf", str(tar), "."], check=True)
    repo, tag = BASE_IMAGE.split(":")
    client.api.import_image_from_file(str(tar), repository=repo, tag=tag)
    tar.unlink()
    shutil.rmtree(root, ignore_errors=True)
    progress(f"base image built and imported in {time.monotonic() - t0:.0f} s")


def ensure_wheelhouse() -> None:
    """Wheels of the app's run-time packages, built on the host (pip in a build has no PyPI)."""
    req = REPO / "stack/app/requirements.txt"
    digest = hashlib.sha256(req.read_bytes()).hexdigest()[:16]
    stamp = WHEELHOUSE / f".stamp-{digest}"
    if stamp.exists():
        progress("wheelhouse: cached")
        return
    t0 = time.monotonic()
    progress("building the wheelhouse for the app image")
    shutil.rmtree(WHEELHOUSE, ignore_errors=True)
    WHEELHOUSE.mkdir()
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "-w", str(WHEELHOUSE), "-r", str(req)],
                   check=True, timeout=600)
    stamp.touch()
    progress(f"wheelhouse built in {time.monotonic() - t0:.0f} s")


def build_images(client) -> dict[str, float]:
    """Build app, helper and postgres on the local base; seconds per image."""
    import docker

    took = {}
    for name, dockerfile in IMAGES.items():
        t0 = time.monotonic()
        try:
            client.images.build(path=str(REPO), dockerfile=dockerfile, tag=image(name), rm=True, forcerm=True,
                                buildargs={"BASE_IMAGE": BASE_IMAGE}, network_mode="host", timeout=900)
        except docker.errors.BuildError as e:
            lines = "".join(x.get("stream", "") for x in e.build_log if isinstance(x, dict))
            raise RuntimeError(f"building {name} failed: {e}\n{lines[-3000:]}") from e
        took[name] = time.monotonic() - t0
        progress(f"image {image(name)} built in {took[name]:.1f} s")
    return took


# -- the stack ----------------------------------------------------------------------------
def remove_stack(client, project: str = PROJECT) -> None:
    """Every container, volume and network of a compose project (and stray helpers), if any."""
    import docker

    for c in client.containers.list(all=True, filters={"label": f"com.docker.compose.project={project}"}):
        c.remove(force=True, v=True)
    for c in client.containers.list(all=True, filters={"label": "chaos-control.helper=1"}):
        c.remove(force=True)
    for v in client.volumes.list(filters={"label": f"com.docker.compose.project={project}"}):
        v.remove(force=True)
    for n in client.networks.list(filters={"label": f"com.docker.compose.project={project}"}):
        try:
            n.remove()
        except docker.errors.NotFound:
            pass
