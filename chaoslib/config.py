"""Where everything lives: addresses, ports, users and directories of the native stack.

One place for the topology so that the backends, the templates in stack/, the tests and
the notebooks agree. Values come from the environment where a user may want to move them.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

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
    if (flag := os.environ.get("CHAOSCTL_FAST")) is not None:
        return flag not in ("", "0", "false", "no")
    return os.environ.get("CI", "") not in ("", "0", "false")


def _flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0", "false", "no")


def autopilot() -> bool:
    """CHAOSCTL_AUTOPILOT=1: the game's forms fill and submit themselves (CI, a facilitator's demo)."""
    return _flag("CHAOSCTL_AUTOPILOT")


def forced_families() -> list[str] | None:
    """CHAOSCTL_FAMILY (a family, or several separated by commas) limits the draw (CI plays each family)."""
    return [f.strip() for f in os.environ.get("CHAOSCTL_FAMILY", "").split(",") if f.strip()] or None


def default_seed() -> int | None:
    """CHAOSCTL_SEED: the seed the play panel offers (a replay, or CI's seeded games); None for a random one."""
    value = os.environ.get("CHAOSCTL_SEED", "").strip()
    try:
        return int(value) or None
    except ValueError:
        return None


def board_secret() -> str | None:
    """CHAOS_BOARD_SECRET: the key of the leaderboard's held-out seeds (never in the repository), else None."""
    return os.environ.get("CHAOS_BOARD_SECRET", "").strip() or None


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


def published_port(name: str) -> int:
    """The host port docker-compose.yml publishes endpoint `name` on: its variable (DOCKER_PORTS), else the default."""
    variable, default = DOCKER_PORTS[name]
    return int(os.environ.get(variable) or default)


def grafana_public_url() -> str:
    """Grafana as a browser reaches it, for the alerts' dashboard links (CHAOSCTL_GRAFANA_URL, else
    CHAOS_HOST:3000; in a workspace, the forwarded address of its port: public_url)."""
    return public_url("grafana", url_override("grafana", f"http://{published_host()}:{published_port('grafana')}"))


def runbook_base() -> str:
    """Where the alerts' runbook_url points: docs/runbooks as a browser opens it.

    CHAOS_RUNBOOK_URL when set; else the repository on GitHub when the workspace says which
    (Codespaces and GitHub Actions set GITHUB_REPOSITORY); else the clone's own files (file://).
    """
    if os.environ.get("CHAOS_RUNBOOK_URL"):
        return os.environ["CHAOS_RUNBOOK_URL"].rstrip("/")
    repo = os.environ.get("GITHUB_REPOSITORY")
    if repo:
        server = os.environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
        return f"{server}/{repo}/blob/{os.environ.get('GITHUB_REF_NAME') or 'main'}/docs/runbooks"
    return (REPO_ROOT / "docs" / "runbooks").as_uri()


def workspace() -> tuple[str, str | None]:
    """(kind, template) of the address a browser opens a forwarded port at, `{port}` and `{name}` to fill.

    CHAOS_PUBLIC_URL wins: a template (`https://{port}-myws.example`, `https://host/{name}`) or a base URL,
    which gets `:{port}`. Else GitHub Codespaces (CODESPACE_NAME, GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN:
    https://NAME-PORT.DOMAIN), else Gitpod (GITPOD_WORKSPACE_URL: https://PORT-<its host>). Else ("local",
    None): 127.0.0.1 is right, on a laptop and in DevPod (it forwards ports to the laptop's localhost).
    """
    explicit = os.environ.get("CHAOS_PUBLIC_URL", "").strip().rstrip("/")
    if explicit:
        if "{port}" in explicit or "{name}" in explicit:
            return "CHAOS_PUBLIC_URL", explicit
        parts = urlsplit(explicit if "://" in explicit else f"http://{explicit}")
        return "CHAOS_PUBLIC_URL", f"{parts.scheme}://{parts.hostname}:{{port}}{parts.path}"
    name, domain = os.environ.get("CODESPACE_NAME", ""), os.environ.get("GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN", "")
    if name.strip() and domain.strip():
        return "codespaces", f"https://{name.strip()}-{{port}}.{domain.strip()}"
    scheme, sep, rest = os.environ.get("GITPOD_WORKSPACE_URL", "").strip().rstrip("/").partition("://")
    return ("gitpod", f"{scheme}://{{port}}-{rest}") if sep and rest else ("local", None)


def public_url(name: str, url: str) -> str:
    """Where a player's browser opens service `name`, which this process reaches at `url`: in a workspace,
    the forwarded address of its port (path kept); else, and for a scheme other than http(s), `url` itself."""
    template, parts = workspace()[1], urlsplit(url)
    if template is None or parts.scheme not in ("http", "https"):
        return url
    port = parts.port or (443 if parts.scheme == "https" else 80)
    query = f"?{parts.query}" if parts.query else ""
    return template.replace("{port}", str(port)).replace("{name}", name).rstrip("/") + parts.path.rstrip("/") + query


def public_urls(endpoints: dict[str, str]) -> dict[str, str]:
    """Each endpoint as a browser opens it (public_url)."""
    return {name: public_url(name, url) for name, url in endpoints.items()}


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
#: Every port docker-compose.yml publishes, by endpoint name: (the variable that moves it, its default).
DOCKER_PORTS = {"app": ("CHAOS_HTTP_PORT", 8000), **{name: (f"CHAOS_{name.upper()}_PORT", port) for name, port in
                {"traefik": 8080, "grafana": 3000, "kibana": 5601, "locust": 8089, **DOCKER_PUBLISHED}.items()}}
#: The backend used when neither `--backend` nor CHAOSCTL_BACKEND names one.
DEFAULT_BACKEND = "local"


def backend_name() -> str:
    """The backend the user chose: CHAOSCTL_BACKEND, else the default."""
    return os.environ.get("CHAOSCTL_BACKEND") or DEFAULT_BACKEND


def url_override(name: str, default: str) -> str:
    """CHAOSCTL_<NAME>_URL when set (without a trailing slash), else `default`."""
    return override.rstrip("/") if (override := os.environ.get(f"CHAOSCTL_{name.upper()}_URL")) else default


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
