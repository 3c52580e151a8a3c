"""The docker stack's outside probes: act from inside the load balancer's, a replica's or the exporter's container."""
from __future__ import annotations

import urllib.request
from collections.abc import Callable

from chaoslib.backends.base import Probe
from chaoslib.backends.docker.containers import DockerContainers
from chaoslib.backends.docker.engine import docker_sdk
from chaoslib.errors import NotSupported
from chaoslib.kernel.probes import CONNECT, CONNECT_TIME, WRITE, reported_version

#: Reads the container's own cgroup: v2 memory.events, else v1 memory.oom_control; prints the oom_kill count.
OOM_KILLS = ("import re\nfor p in ('/sys/fs/cgroup/memory.events','/sys/fs/cgroup/memory/memory.oom_control'):\n"
             " try: m=re.search(r'^oom_kill (\\d+)',open(p).read(),re.M)\n except OSError: continue\n"
             " if m: print(m.group(1)); break\nelse: print(-1)")


class DockerProbe:
    """The native OutsideProbe's methods, run by exec in the stack's containers."""

    def __init__(self, containers: Callable[[], dict], ip: Callable[..., str]) -> None:
        self.containers = containers
        self.ip_of = ip

    def _ip(self, service: str) -> str:
        return self.ip_of(self.containers()[service])

    def _exec(self, service: str, *argv: str) -> str:
        code, out = self.containers()[service].exec_run(list(argv))
        text = out.decode("utf-8", "replace").strip()
        if code != 0:
            raise RuntimeError(f"exec in {service} failed ({code}): {text}")
        return text.splitlines()[-1] if text else ""

    def lb_connect_failures(self, target: str, n: int) -> int:
        return int(self._exec("traefik", "python3", "-c", CONNECT, self._ip(target), "8000", str(n)))

    def lb_connect_seconds(self, target: str, n: int = 5) -> float:
        return float(self._exec("traefik", "python3", "-c", CONNECT_TIME, self._ip(target), "8000", str(n)))

    def db_reachable_from(self, target: str) -> bool:
        return self._exec(target, "python3", "-c", CONNECT, self._ip("postgres"), "5432", "3") == "0"

    def db_reachable_from_exporter(self) -> bool:
        return self._exec("postgres-exporter", "python3", "-c", CONNECT, self._ip("postgres"), "5432", "3") == "0"

    def app_write_errno(self, target: str) -> int | None:
        out = self._exec(target, "python3", "-c", WRITE, "/data")
        return None if out == "ok" else int(out)

    def throttled_periods(self, target: str) -> int:
        stats = self.containers()[target].stats(stream=False, one_shot=True)
        return int(stats["cpu_stats"].get("throttling_data", {}).get("throttled_periods", 0))

    def oom_kills(self, target: str) -> int:
        """The replica's cgroup count of OOM kills; else 1 when the engine says it was OOM killed."""
        c = self.containers()[target]
        try:
            count = int(self._exec(target, "python3", "-c", OOM_KILLS))
        except (RuntimeError, ValueError, docker_sdk().errors.DockerException):
            count = -1
        return count if count >= 0 else int(bool(c.attrs.get("State", {}).get("OOMKilled")))

    def healthy(self, target: str) -> bool:
        try:
            c = self.containers()[target]
            if not c.attrs["State"]["Running"]:
                return False
            return urllib.request.urlopen(f"http://{self.ip_of(c)}:8000/healthz", timeout=2).status == 200
        except Exception:  # not running, no address, no answer
            return False

    def version(self, target: str) -> str | None:
        try:
            return reported_version(f"http://{self.ip_of(self.containers()[target])}:8000")
        except Exception:  # not running, no address
            return None

    def db_lock_waits(self) -> int:
        raise NotSupported("database sessions", "docker")


class DockerProbes(DockerContainers):
    """probe(): a DockerProbe on this project's containers."""

    def probe(self) -> Probe:
        return DockerProbe(self._containers, self._ip)
