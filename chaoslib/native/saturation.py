"""A saturation exporter for the native stack, speaking cAdvisor's metric names.

Each replica's cgroup and disk figures are published as cAdvisor publishes a container's
(`container_cpu_usage_seconds_total{name="app1"}`, ...), so one set of PromQL, alert rules
and dashboards serves the native and the Docker backend alike.
"""
from __future__ import annotations

import argparse
import json
import socketserver
import time
from dataclasses import dataclass, field
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from chaoslib import config
from chaoslib.config import Settings
from chaoslib.kernel import disks
from chaoslib.kernel.cgroups import Cgroups
from chaoslib.native.restarts import load as load_restarts
from chaoslib.native.supervisor import Supervisor


class SaturationCollector:
    """Collects per-replica figures at scrape time (no background thread)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.cgroups = Cgroups()
        self.supervisor = Supervisor(settings.supervisor_socket, settings.config_dir / "supervisord.conf")

    def _replicas(self) -> list[str]:
        try:
            return json.loads(self.settings.stack_file.read_text())["replicas"]
        except (FileNotFoundError, ValueError, KeyError):
            return self.settings.replica_names()

    def _start_times(self) -> dict[str, float]:
        try:
            return {p["name"]: float(p["start"]) for p in self.supervisor.info() if p.get("pid")}
        except Exception:  # the supervisor may be restarting: publish what we can
            return {}

    def collect(self) -> list[Family]:
        """Every family, read now from the cgroups, the disks, supervisord and the restart counts."""
        def counter(name: str, doc: str) -> Family:
            return Family(f"{name}_total", "counter", doc)

        def gauge(name: str, doc: str) -> Family:
            return Family(name, "gauge", doc)

        cpu = counter("container_cpu_usage_seconds", "Cumulative CPU time consumed in seconds.")
        periods = counter("container_cpu_cfs_periods", "Number of elapsed enforcement period intervals.")
        throttled = counter("container_cpu_cfs_throttled_periods", "Number of throttled period intervals.")
        throttled_s = counter("container_cpu_cfs_throttled_seconds",
                              "Total time duration the container has been throttled.")
        quota = gauge("container_spec_cpu_quota", "CPU quota of the container.")
        period = gauge("container_spec_cpu_period", "CPU period of the container.")
        mem = gauge("container_memory_usage_bytes",
                    "Current memory usage in bytes, including all memory regardless of when it was accessed.")
        wss = gauge("container_memory_working_set_bytes", "Current working set in bytes.")
        limit = gauge("container_spec_memory_limit_bytes", "Memory limit for the container (0 = unlimited).")
        failcnt = counter("container_memory_failcnt", "Number of memory usage hits limits.")
        oom = counter("container_oom_events", "Count of out of memory events observed for the container.")
        fs_use = gauge("container_fs_usage_bytes",
                       "Number of bytes that are consumed by the container on this filesystem.")
        fs_lim = gauge("container_fs_limit_bytes",
                       "Number of bytes that can be consumed by the container on this filesystem.")
        started = gauge("container_start_time_seconds", "Start time of the container since unix epoch in seconds.")
        restarts = counter("chaos_process_restarts", "Automatic restarts of the process by its supervisor.")

        counts = load_restarts(self.settings.run_dir / "restarts.json")
        starts = self._start_times()
        for name in self._replicas():
            one = {"name": name}
            if self.cgroups.exists(name):
                s = self.cgroups.stats(name)
                cpu.add(one, s.cpu_usage_seconds)
                periods.add(one, s.cpu_periods)
                throttled.add(one, s.cpu_throttled_periods)
                throttled_s.add(one, s.cpu_throttled_seconds)
                if s.cpu_quota_us > 0:
                    quota.add(one, s.cpu_quota_us)
                    period.add(one, s.cpu_period_us)
                mem.add(one, s.memory_usage_bytes)
                wss.add(one, s.memory_working_set_bytes)
                limit.add(one, s.memory_limit_bytes)
                failcnt.add(one, s.memory_failcnt)
                oom.add(one, s.oom_kills)
            disk = self.settings.disk_path(name)
            if disks.is_mounted(disk):
                u = disks.usage(disk)
                fs_use.add({**one, "device": f"tmpfs:{name}"}, u.used_bytes)
                fs_lim.add({**one, "device": f"tmpfs:{name}"}, u.size_bytes)
            if name in starts:
                started.add(one, starts[name])
            restarts.add(one, counts.get(name, {}).get("restarts", 0))
        return [cpu, periods, throttled, throttled_s, quota, period, mem, wss, limit, failcnt, oom,
                fs_use, fs_lim, started, restarts]


@dataclass
class Family:
    """One metric family in Prometheus' text format (version 0.0.4), written out by hand.

    prometheus_client would write the same lines, but importing it doubled this small
    process (8 MiB of 17 PSS: issue #15); these families need nothing but names, help,
    labels and floats.
    """

    name: str
    kind: str
    doc: str
    samples: list[tuple[dict[str, str], float]] = field(default_factory=list)

    def add(self, labels: dict[str, str], value: float) -> None:
        self.samples.append((labels, float(value)))

    def text(self) -> str:
        doc = self.doc.replace("\\", "\\\\").replace("\n", "\\n")
        lines = [f"# HELP {self.name} {doc}", f"# TYPE {self.name} {self.kind}"]
        for labels, value in self.samples:
            inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
            lines.append(f"{self.name}{{{inner}}} {value!r}")
        return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def exposition(families: list[Family]) -> bytes:
    """The body of a /metrics answer."""
    return "".join(f.text() for f in families).encode()


def _app(collector: SaturationCollector):
    def app(environ, start_response):
        if environ.get("PATH_INFO", "/") not in ("/", "/metrics"):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found: try /metrics\n"]
        body = exposition(collector.collect())
        start_response("200 OK", [("Content-Type", "text/plain; version=0.0.4; charset=utf-8"),
                                  ("Content-Length", str(len(body)))])
        return [body]
    return app


class _QuietHandler(WSGIRequestHandler):
    #: A client that connects and sends nothing is dropped after this many seconds.
    timeout = 10

    def log_message(self, *args) -> None:  # scrapes every 5 s would flood the log
        pass


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    """One thread per connection: an idle client must never block Prometheus' scrape."""

    daemon_threads = True


def main() -> None:
    parser = argparse.ArgumentParser(prog="chaoslib.native.saturation")
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--bind", default=config.SATURATION_EXPORTER.address)
    args = parser.parse_args()
    collector = SaturationCollector(Settings(state_dir=Path(args.state_dir)))
    host, port = args.bind.rsplit(":", 1)
    server = make_server(host, int(port), _app(collector), server_class=_ThreadingServer,
                         handler_class=_QuietHandler)
    print(json.dumps({"time": time.time(), "level": "info", "message": f"saturation exporter on {args.bind}"}),
          flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
