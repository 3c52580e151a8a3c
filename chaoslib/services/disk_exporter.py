"""The Docker stack's disk exporter: each replica's disk, measured where it stays mounted.

Under Docker a replica's disk is a tmpfs volume that the `disks` service keeps mounted
(docker-compose.yml), so it outlives the replica's restarts. cAdvisor measures a container's
root filesystem, not such a volume, and the app reports its own disk only while it runs: a
replica that cannot boot on a full disk (disk-crashloop) would show no disk figure at all.
This exporter runs in `disks` and publishes every mounted disk under cAdvisor's names
(`container_fs_usage_bytes{name="app1"}`, `container_fs_limit_bytes`), as the native
saturation exporter does, so the same recording rule serves both backends.
"""
from __future__ import annotations

import argparse
import os
import signal
from pathlib import Path

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import GaugeMetricFamily


class DiskCollector:
    """statvfs of each disk at scrape time; a disk that is not mounted is left out."""

    def __init__(self, disks: list[Path]) -> None:
        self.disks = disks

    def collect(self):  # noqa: D102 - prometheus_client protocol
        used = GaugeMetricFamily("container_fs_usage_bytes", "Number of bytes that are consumed by the container "
                                 "on this filesystem.", labels=["name", "device"])
        size = GaugeMetricFamily("container_fs_limit_bytes", "Number of bytes that can be consumed by the container "
                                 "on this filesystem.", labels=["name", "device"])
        for disk in self.disks:
            if not os.path.ismount(disk):
                continue
            st = os.statvfs(disk)
            total = st.f_blocks * st.f_frsize
            used.add_metric([disk.name, str(disk)], float(total - st.f_bfree * st.f_frsize))
            size.add_metric([disk.name, str(disk)], float(total))
        yield used
        yield size


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m chaoslib.services.disk_exporter",
                                     description="Publish the replicas' disks (mount points named after them).")
    parser.add_argument("--bind", default="0.0.0.0:9339", help="address:port to serve /metrics on")
    parser.add_argument("disks", nargs="+", type=Path, help="mount points, each named after its replica")
    args = parser.parse_args(argv)
    host, _, port = args.bind.rpartition(":")
    stop = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop)  # waited for below: PID 1 in a container ignores them otherwise
    registry = CollectorRegistry()
    registry.register(DiskCollector(args.disks))
    start_http_server(int(port), addr=host or "0.0.0.0", registry=registry)
    print(f"disk exporter on {args.bind}: {', '.join(str(d) for d in args.disks)}", flush=True)
    signal.sigwait(stop)


if __name__ == "__main__":
    main()
