"""Logs of the containers: from Elasticsearch when Filebeat shipped them, else from the Engine API."""
from __future__ import annotations

from pathlib import Path

from chaoslib.backends.docker.containers import DockerContainers
from chaoslib.backends.docker.engine import docker_sdk
from chaoslib.errors import ObserveError


class DockerLogs(DockerContainers):
    """Container logs exported to files for the log search engine, and a service's last lines."""

    def log_files(self) -> dict[str, list[Path]]:
        """Each container's log in state_dir/docker-logs/: from Elasticsearch when it is up
        (what Filebeat shipped, as the lines the container wrote), else from the Engine API."""
        from chaoslib.observe import elastic  # the Elasticsearch client is heavy: loaded only to read logs

        out: dict[str, list[Path]] = {}
        folder = self.settings.state_dir / "docker-logs"
        folder.mkdir(parents=True, exist_ok=True)
        es = self.endpoints()["elasticsearch"]
        use_es = elastic.reachable(es)
        for service, c in self._containers().items():
            try:
                if use_es:
                    lines = elastic.container_lines(es, container=c.name or service)
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
