"""Logs of the containers: from Elasticsearch when Filebeat shipped them, else from the Engine API.

Elasticsearch, Kibana and Filebeat are the compose file's optional profile "logs": without
them the lines come from the engine (`container.logs()`), and `log_source()` says which.
"""
from __future__ import annotations

import time
from pathlib import Path
from types import ModuleType

from chaoslib.backends.base.logs import LogSource
from chaoslib.backends.docker.containers import DockerContainers
from chaoslib.backends.docker.engine import docker_sdk
from chaoslib.errors import ObserveError

#: Filebeat's lines in Elasticsearch (the compose profile "logs" is up).
ELASTICSEARCH = LogSource("elasticsearch", "logs from Elasticsearch (shipped by Filebeat, as Kibana shows them)")
#: The engine's own record of each container's output (the core profile alone).
ENGINE = LogSource("engine", "logs from the Docker engine (start with --profile logs for Elasticsearch and Kibana)")
#: How long one answer of `log_source()` stands: a search asks it, then `log_files()` reads that source.
SOURCE_TTL_S = 5.0


def elastic() -> ModuleType:
    """chaoslib.observe.elastic, loaded on first use."""
    from chaoslib.observe import elastic as module  # the Elasticsearch client is heavy: loaded only to read logs

    return module


class DockerLogs(DockerContainers):
    """Container logs exported to files for the log search engine, and a service's last lines."""

    def log_source(self) -> LogSource:
        """Elasticsearch when it answers with Filebeat's lines, else the engine (asked again after SOURCE_TTL_S)."""
        asked = getattr(self, "_log_source_asked", None)
        if asked is not None and time.monotonic() - asked[0] < SOURCE_TTL_S:
            return asked[1]
        source = ELASTICSEARCH if elastic().reachable(self.endpoints()["elasticsearch"]) else ENGINE
        self._log_source_asked = (time.monotonic(), source)
        return source

    def log_files(self) -> dict[str, list[Path]]:
        """Each container's log in state_dir/docker-logs/, from where `log_source()` says: what Filebeat
        shipped to Elasticsearch (as the lines the container wrote), else the Engine API's."""
        out: dict[str, list[Path]] = {}
        folder = self.settings.state_dir / "docker-logs"
        folder.mkdir(parents=True, exist_ok=True)
        es = self.endpoints()["elasticsearch"]
        use_es = self.log_source() is ELASTICSEARCH
        for service, c in self._containers().items():
            try:
                if use_es:
                    lines = elastic().container_lines(es, container=c.name or service)
                    data = "".join(f"{line}\n" for line in lines).encode()
                else:
                    data = c.logs(stdout=True, stderr=True, tail=50_000)
            except (docker_sdk().errors.DockerException, ObserveError):
                continue
            path = folder / f"{service}.log"
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
            out[service] = [path]
        return out

    def tail_log(self, *, service: str, lines: int = 20) -> str:
        c = self._containers().get(service)
        if c is None:
            return ""
        try:
            return c.logs(stdout=True, stderr=True, tail=int(lines)).decode("utf-8", "replace").rstrip("\n")
        except docker_sdk().errors.DockerException:
            return ""
