"""DockerBackend: the docker backend's mixins (one per area of the contract) composed into one backend."""
from __future__ import annotations

from functools import cached_property

from chaoslib import config
from chaoslib.backends.base import Backend, Features
from chaoslib.backends.docker.containers import DockerContainers
from chaoslib.backends.docker.database import DockerDatabase
from chaoslib.backends.docker.disks import DockerDisks
from chaoslib.backends.docker.engine import DEFAULT_HELPER_IMAGE, DEFAULT_PROJECT
from chaoslib.backends.docker.helpers import DockerHelpers
from chaoslib.backends.docker.lifecycle import DockerLifecycle
from chaoslib.backends.docker.limits import DockerLimits
from chaoslib.backends.docker.logs import DockerLogs
from chaoslib.backends.docker.network import DockerNetwork
from chaoslib.backends.docker.probes import DockerProbes
from chaoslib.backends.docker.releases import DockerReleases
from chaoslib.backends.docker.safety import DockerSafety
from chaoslib.config import Settings

#: What the CLI and the notebooks open, by name: the ports docker-compose.yml publishes.
PUBLISHED = {"app": 8000, "grafana": 3000, "kibana": 5601, "locust": 8089, **config.DOCKER_PUBLISHED}


class DockerBackend(DockerLifecycle, DockerSafety, DockerDatabase, DockerNetwork, DockerDisks, DockerHelpers,
                    DockerLimits, DockerLogs, DockerProbes, DockerReleases, DockerContainers, Backend):
    """Docker Engine API via the docker SDK (Gitpod, laptops). (Each mixin builds on
    DockerContainers, or on the mixins whose helpers it uses.)"""

    name = "docker"

    def __init__(self, settings: Settings | None = None, *, project: str | None = None,
                 helper_image: str | None = None, client=None) -> None:
        self.settings = settings or Settings()
        self.project = project or config.compose_project(DEFAULT_PROJECT)
        self.helper_image = helper_image or config.helper_image(DEFAULT_HELPER_IMAGE)
        self._client = client

    @cached_property
    def features(self) -> Features:  # type: ignore[override]
        return Features(has_netem=self._probe_netem(), real_network=True, real_limits=True,
                        disk_survives_restart=True, needs_root=False, has_monitoring=True,
                        warden_process=True, releases=True, database_sessions=True)

    def endpoints(self) -> dict[str, str]:
        """The ports compose publishes on CHAOS_HOST (default 127.0.0.1), each where its variable moved
        it (CHAOS_HTTP_PORT, CHAOS_PROMETHEUS_PORT, ...: config.DOCKER_PORTS); CHAOSCTL_<NAME>_URL wins."""
        host = config.published_host()
        ports = {name: config.published_port(name) for name in PUBLISHED}
        return {name: config.url_override(name, f"http://{host}:{port}") for name, port in ports.items()}
