"""Where everything lives: addresses, ports, users and directories of the native stack.

One place for the topology so that the backends, the templates in stack/, the tests and
the notebooks agree. Values come from the environment where a user may want to move them.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

#: Default number of app replicas.
DEFAULT_REPLICAS = 3
MAX_REPLICAS = 9

APP_PORT = 8000
#: Size of each replica's own disk (a tmpfs), in MiB.
DEFAULT_DISK_MB = 64
#: What pollapp itself keeps on a replica's disk: its journal (rotated once, see
#: pollapp/journal.py) and its boot records (pollapp/gunicorn_conf.py). Never junk; anything
#: else on the disk is not the app's, even under journal/ (a fault's junk may hide there).
APP_FILES = re.compile(r"(journal/writes\.jsonl(\.1)?|boot/boot-\d+-\d+\.json)")


def is_app_file(path: str) -> bool:
    """Is this path (relative to a replica's disk) one of pollapp's own files?"""
    return APP_FILES.fullmatch(path) is not None


def fast_mode() -> bool:
    """True under CI (or CHAOSCTL_FAST=1): the one switch that shortens waits and windows."""
    flag = os.environ.get("CHAOSCTL_FAST")
    if flag is not None:
        return flag not in ("", "0", "false", "no")
    return os.environ.get("CI", "") not in ("", "0", "false")


def _flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0", "false", "no")


def autopilot() -> bool:
    """CHAOSCTL_AUTOPILOT=1: the game's forms fill and submit themselves (CI, a facilitator's demo)."""
    return _flag("CHAOSCTL_AUTOPILOT")


def forced_families() -> list[str] | None:
    """CHAOSCTL_FAMILY (a family, or several separated by commas) limits the draw (CI plays each family)."""
    value = os.environ.get("CHAOSCTL_FAMILY", "").strip()
    return [f.strip() for f in value.split(",") if f.strip()] or None


def default_seed() -> int | None:
    """CHAOSCTL_SEED: the seed the play panel offers (a replay, or CI's seeded games); None for a random one."""
    value = os.environ.get("CHAOSCTL_SEED", "").strip()
    try:
        return int(value) or None
    except ValueError:
        return None


def environment(**overrides: str) -> dict[str, str]:
    """This process's environment with `overrides`: what a child process (a kernel, a service) is started with."""
    return {**os.environ, **overrides}


def owner_file() -> Path:
    """Where the native stack records which user started it (CHAOSCTL_OWNER_FILE moves it, for the tests)."""
    return Path(os.environ.get("CHAOSCTL_OWNER_FILE", "/run/chaos-control/owner"))


def compose_project(default: str) -> str:
    """The Docker Compose project the docker backend acts on (CHAOSCTL_COMPOSE_PROJECT, else `default`)."""
    return os.environ.get("CHAOSCTL_COMPOSE_PROJECT") or default


def helper_image(default: str) -> str:
    """The image of the docker backend's network helper (CHAOSCTL_HELPER_IMAGE, else `default`)."""
    return os.environ.get("CHAOSCTL_HELPER_IMAGE") or default


def published_host() -> str:
    """The host address docker-compose.yml publishes its ports on, as the notebooks reach it (CHAOS_HOST)."""
    return os.environ.get("CHAOS_HOST", "127.0.0.1")


def published_app_port(default: int) -> int:
    """The app's published port through Traefik (CHAOS_HTTP_PORT, else `default`)."""
    return int(os.environ.get("CHAOS_HTTP_PORT", default))


def docker_host() -> str:
    """The Docker Engine's address (DOCKER_HOST, else the local socket)."""
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def replica_name(index: int) -> str:
    """The name of replica number `index` (1-based): app1, app2, ..."""
    return f"app{index}"


def replica_address(index: int) -> str:
    """Each replica listens on its own loopback address, 127.0.1.N."""
    return f"127.0.1.{index}"


def replica_user(index: int) -> str:
    """Each replica runs as its own unprivileged user, so nftables can match its sockets."""
    return f"chaosapp{index}"


@dataclass(frozen=True)
class Infra:
    """An infrastructure service: its loopback address and port."""

    name: str
    host: str
    port: int
    user: str

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


#: Infrastructure services live on 127.0.2.x.
POSTGRES = Infra("postgres", "127.0.2.1", 5432, "chaosdb")
TRAEFIK = Infra("traefik", "127.0.2.2", 8080, "chaoslb")
TRAEFIK_METRICS = Infra("traefik-metrics", "127.0.2.2", 8082, "chaoslb")
PROMETHEUS = Infra("prometheus", "127.0.2.3", 9090, "chaossvc")
ALERTMANAGER = Infra("alertmanager", "127.0.2.4", 9093, "chaossvc")
ALERTMANAGER_CLUSTER = Infra("alertmanager-cluster", "127.0.2.4", 9094, "chaossvc")
POSTGRES_EXPORTER = Infra("postgres-exporter", "127.0.2.5", 9187, "chaossvc")
SATURATION_EXPORTER = Infra("saturation-exporter", "127.0.2.6", 9338, "root")
PAGER = Infra("pager", "127.0.2.7", 9099, "chaossvc")
JUPYTER = Infra("jupyter", "127.0.0.1", 8888, "root")

#: The ports docker-compose.yml publishes on the host for what the notebooks read.
DOCKER_PUBLISHED = {"prometheus": 9090, "alertmanager": 9093, "pager": 9099, "elasticsearch": 9200}
#: The backend used when neither `--backend` nor CHAOSCTL_BACKEND names one.
DEFAULT_BACKEND = "local"


def backend_name() -> str:
    """The backend the user chose: CHAOSCTL_BACKEND, else the default."""
    return os.environ.get("CHAOSCTL_BACKEND") or DEFAULT_BACKEND


def url_override(name: str, default: str) -> str:
    """CHAOSCTL_<NAME>_URL when set (without a trailing slash), else `default`."""
    override = os.environ.get(f"CHAOSCTL_{name.upper()}_URL")
    return override.rstrip("/") if override else default


#: The users the native stack creates (system users without a login shell).
SERVICE_USERS = ("chaosdb", "chaoslb", "chaossvc")

DB_NAME = "polls"
DB_USER = "polls"
DB_PASSWORD = "polls"  # loopback only; the cluster listens on 127.0.2.1


def database_url() -> str:
    """The URL the app replicas use to reach PostgreSQL."""
    return f"postgres://{DB_USER}:{DB_PASSWORD}@{POSTGRES.host}:{POSTGRES.port}/{DB_NAME}"


@dataclass
class Settings:
    """Run-time settings of one native stack: where its state lives and how big it is."""

    state_dir: Path = field(default_factory=lambda: Path(
        os.environ.get("CHAOSCTL_STATE_DIR", str(REPO_ROOT / ".chaos"))).resolve())
    replicas: int = DEFAULT_REPLICAS
    disk_mb: int = DEFAULT_DISK_MB
    #: Locust's target throughput, requests per second through Traefik.
    rps: float = float(os.environ.get("CHAOSCTL_RPS", "15"))

    # -- layout of the state directory ------------------------------------------------
    @property
    def run_dir(self) -> Path:
        return self.state_dir / "run"

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def data_dir(self) -> Path:
        return self.state_dir / "data"

    @property
    def disks_dir(self) -> Path:
        return self.state_dir / "disks"

    @property
    def config_dir(self) -> Path:
        return self.state_dir / "config"

    @property
    def faults_file(self) -> Path:
        return self.state_dir / "faults.json"

    @property
    def stack_file(self) -> Path:
        """What `up` started (replica count, disk size, rps), so other commands agree."""
        return self.state_dir / "stack.json"

    @property
    def supervisor_socket(self) -> Path:
        return self.run_dir / "supervisor.sock"

    def disk_path(self, replica: str) -> Path:
        return self.disks_dir / replica

    def metrics_dir(self, replica: str) -> Path:
        """django-prometheus multiprocess directory, kept off the replica's own disk."""
        return self.run_dir / "prom" / replica

    def replica_names(self) -> list[str]:
        return [replica_name(i) for i in range(1, self.replicas + 1)]


def replica_index(name: str) -> int:
    """The index N of replica `appN`; ValueError for anything else."""
    if not name.startswith("app") or not name[3:].isdigit():
        raise ValueError(name)
    return int(name[3:])
