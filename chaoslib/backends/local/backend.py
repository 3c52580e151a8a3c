"""LocalBackend: the native stack's mixins (one per area of the contract) composed into one backend."""
from __future__ import annotations

import shutil
from functools import cached_property
from pathlib import Path

from chaoslib import config
from chaoslib.backends.base import Backend, Features
from chaoslib.backends.local.database import LocalDatabase
from chaoslib.backends.local.lifecycle import LocalLifecycle
from chaoslib.backends.local.limits import LocalLimits
from chaoslib.backends.local.logs import LocalLogs
from chaoslib.backends.local.probes import LocalProbes
from chaoslib.backends.local.safety import LocalSafety
from chaoslib.backends.local.status import LocalStatus
from chaoslib.config import Settings
from chaoslib.kernel.cgroups import Cgroups
from chaoslib.kernel.netem import detect_netem
from chaoslib.native.supervisor import Supervisor


class LocalBackend(LocalLifecycle, LocalStatus, LocalLimits, LocalLogs, LocalSafety, LocalProbes, LocalDatabase,
                   Backend):
    """Native Linux processes: the embedded default."""

    name = "local"

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        stack = self._stack_file()
        if stack and settings is None:
            self.settings.replicas = len(stack.get("replicas", [])) or self.settings.replicas
            self.settings.disk_mb = stack.get("disk_mb", self.settings.disk_mb)
            self.settings.rps = stack.get("rps", self.settings.rps)
        self.cgroups = Cgroups()
        self.supervisor = Supervisor(self.settings.supervisor_socket, self.settings.config_dir / "supervisord.conf")

    @cached_property
    def features(self) -> Features:  # type: ignore[override]
        return Features(has_netem=detect_netem(), real_network=bool(shutil.which("nft")),
                        real_limits=Path("/sys/fs/cgroup/memory").exists(), disk_survives_restart=True,
                        needs_root=True, has_monitoring=True, log_lines=True,
                        load_burst=True, releases=True, database_sessions=True)

    def endpoints(self) -> dict[str, str]:
        """Every service the stack publishes, each on its own loopback address: Traefik, each replica,
        PostgreSQL, the monitoring (no Elasticsearch natively: logs are the captured files; its entry
        names the Docker stack's published port, where nothing listens natively)."""
        pg = config.POSTGRES
        urls = {"app": config.TRAEFIK.url, "traefik_metrics": config.TRAEFIK_METRICS.url,
                "prometheus": config.PROMETHEUS.url,
                "alertmanager": config.ALERTMANAGER.url, "pager": config.PAGER.url,
                "postgres": f"postgres://{pg.host}:{pg.port}", "postgres_exporter": config.POSTGRES_EXPORTER.url,
                "saturation_exporter": config.SATURATION_EXPORTER.url,
                **{config.replica_name(i): f"http://{config.replica_address(i)}:{config.APP_PORT}"
                   for i in range(1, self.settings.replicas + 1)},
                "elasticsearch": f"http://127.0.0.1:{config.DOCKER_PUBLISHED['elasticsearch']}"}
        return {name: config.url_override(name, url) for name, url in urls.items()}
