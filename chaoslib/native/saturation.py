"""A saturation exporter for the native stack, speaking cAdvisor's metric names.

Each replica's cgroup and disk figures are published as cAdvisor publishes a container's
(`container_cpu_usage_seconds_total{name="app1"}`, ...), so one set of PromQL, alert rules
and dashboards serves the native and the Docker backend alike.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
import socketserver
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from .. import config
from ..config import Settings
from ..kernel import disks
from ..kernel.cgroups import Cgroups
from .restarts import load as load_restarts
from .supervisor import Supervisor


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

    def collect(self):  # noqa: D102 - prometheus_client protocol
        def counter(name: str, doc: str) -> CounterMetricFamily:
            return CounterMetricFamily(name, doc, labels=["name"])

        def gauge(name: str, doc: str, labels=("name",)) -> GaugeMetricFamily:
            return GaugeMetricFamily(name, doc, labels=list(labels))

        cpu = counter("container_cpu_usage_seconds", "Cumulative CPU time consumed in seconds.")
        periods = counter("container_cpu_cfs_periods", "Number of elapsed enforcement period intervals.")
        throttled = counter("container_cpu_cfs_throttled_periods", "Number of throttled period intervals.")
        throttled_s = counter("container_cpu_cfs_throttled_seconds", "Total time duration the container has been throttled.")
        quota = gauge("container_spec_cpu_quota", "CPU quota of the container.")
        period = gauge("container_spec_cpu_period", "CPU period of the container.")
        mem = gauge("container_memory_usage_bytes", "Current memory usage in bytes, including all memory regardless of when it was accessed.")
        wss = gauge("container_memory_working_set_bytes", "Current working set in bytes.")
        limit = gauge("container_spec_memory_limit_bytes", "Memory limit for the container (0 = unlimited).")
        failcnt = counter("container_memory_failcnt", "Number of memory usage hits limits.")
        oom = counter("container_oom_events", "Count of out of memory events observed for the container.")
        fs_use = gauge("container_fs_usage_bytes", "Number of bytes that are consumed by the container on this filesystem.", ("name", "device"))
        fs_lim = gauge("container_fs_limit_bytes", "Number of bytes that can be consumed by the container on this filesystem.", ("name", "device"))
        started = gauge("container_start_time_seconds", "Start time of the container since unix epoch in seconds.")
        restarts = counter("chaos_process_restarts", "Automatic restarts of the process by its supervisor.")

        counts = load_restarts(self.settings.run_dir / "restarts.json")
        starts = self._start_times()
        for name in self._replicas():
            if self.cgroups.exists(name):
                s = self.cgroups.stats(name)
                cpu.add_metric([name], s.cpu_usage_seconds)
                periods.add_metric([name], s.cpu_periods)
                throttled.add_metric([name], s.cpu_throttled_periods)
                throttled_s.add_metric([name], s.cpu_throttled_seconds)
                if s.cpu_quota_us > 0:
                    quota.add_metric([name], s.cpu_quota_us)
                    period.add_metric([name], s.cpu_period_us)
                mem.add_metric([name], s.memory_usage_bytes)
                wss.add_metric([name], s.memory_working_set_bytes)
                limit.add_metric([name], s.memory_limit_bytes)
                failcnt.add_metric([name], s.memory_failcnt)
                oom.add_metric([name], s.oom_kills)
            disk = self.settings.disk_path(name)
            if disks.is_mounted(disk):
                u = disks.usage(disk)
                fs_use.add_metric([name, f"tmpfs:{name}"], u.used_bytes)
                fs_lim.add_metric([name, f"tmpfs:{name}"], u.size_bytes)
            if name in starts:
                started.add_metric([name], starts[name])
            restarts.add_metric([name], counts.get(name, {}).get("restarts", 0))
        yield from (cpu, periods, throttled, throttled_s, quota, period, mem, wss, limit, failcnt, oom,
                    fs_use, fs_lim, started, restarts)


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
    registry = CollectorRegistry()
    registry.register(SaturationCollector(Settings(state_dir=Path(args.state_dir))))
    host, port = args.bind.rsplit(":", 1)
    server = make_server(host, int(port), make_wsgi_app(registry), server_class=_ThreadingServer,
                         handler_class=_QuietHandler)
    print(json.dumps({"time": time.time(), "level": "info", "message": f"saturation exporter on {args.bind}"}),
          flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
