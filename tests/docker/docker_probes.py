"""DockerProbe: the native OutsideProbe's methods, acting from inside the stack's containers.

The load balancer's connections come from the `traefik` container (the address and network
namespace the rules target), a replica's from the replica, the exporter's from the
`postgres-exporter` container; health is read from the host, which reaches every
container by its address on the bridge.
"""
from __future__ import annotations

import json
import urllib.request

import docker_env as eng
from chaoslib.kernel.probes import CONNECT as _CONNECT
from chaoslib.kernel.probes import CONNECT_TIME
from chaoslib.kernel.probes import WRITE as _WRITE

_HTTP = ("import json,sys,urllib.request,urllib.error\nurl,n=sys.argv[1],int(sys.argv[2])\nout=[]\n"
         "for _ in range(n):\n try:\n  out.append(urllib.request.urlopen(url,timeout=float(sys.argv[3])).status)\n"
         " except urllib.error.HTTPError as e: out.append(e.code)\n except OSError: out.append(0)\n"
         "print(json.dumps(out))")


class DockerProbe:
    def __init__(self, backend):
        self.backend = backend

    def _c(self, service: str):
        return self.backend._containers()[service]

    def ip(self, service: str) -> str:
        return self.backend._ip(self._c(service))

    def _exec(self, service: str, *argv: str, user: str = "") -> str:
        code, out = self._c(service).exec_run(list(argv), user=user)
        text = out.decode("utf-8", "replace").strip()
        assert code == 0, f"exec in {service} failed ({code}): {text}"
        return text.splitlines()[-1] if text else ""

    def lb_connect_failures(self, target: str, n: int) -> int:
        return int(self._exec("traefik", "python3", "-c", _CONNECT, self.ip(target), "8000", str(n)))

    def lb_connect_seconds(self, target: str, n: int = 5) -> float:
        """Median time of the load balancer's TCP connects to a replica (-1 when none succeeded)."""
        return float(self._exec("traefik", "python3", "-c", CONNECT_TIME, self.ip(target), "8000", str(n)))

    def lb_http_statuses(self, target: str, n: int, path: str = "/livez", timeout: float = 2.0) -> list[int]:
        """HTTP statuses the load balancer gets from a replica (0: no answer)."""
        url = f"http://{self.ip(target)}:8000{path}"
        return json.loads(self._exec("traefik", "python3", "-c", _HTTP, url, str(n), str(timeout)))

    def db_reachable_from(self, target: str) -> bool:
        return self._exec(target, "python3", "-c", _CONNECT, self.ip("postgres"), "5432", "3") == "0"

    def db_reachable_from_exporter(self) -> bool:
        return self._exec("postgres-exporter", "python3", "-c", _CONNECT, self.ip("postgres"), "5432", "3") == "0"

    def app_write_errno(self, target: str) -> int | None:
        out = self._exec(target, "python3", "-c", _WRITE, "/data")
        return None if out == "ok" else int(out)

    def throttled_periods(self, target: str) -> int:
        stats = self._c(target).stats(stream=False, one_shot=True)
        return int(stats["cpu_stats"].get("throttling_data", {}).get("throttled_periods", 0))

    def healthy(self, target: str) -> bool:
        try:
            c = self._c(target)
            if not c.attrs["State"]["Running"]:
                return False
            url = f"http://{self.backend._ip(c)}:8000/healthz"
            return urllib.request.urlopen(url, timeout=2).status == 200
        except Exception:  # not running, no address, no answer
            return False


def url(probe: DockerProbe, target: str, path: str) -> str:
    return f"http://{probe.ip(target)}:8000{path}"


__all__ = ["DockerProbe", "eng", "url"]
