"""Business counters beside django-prometheus' own, and the /metrics view that serves them all.

Counters are multiprocess-safe under gunicorn. The data disk's usage is read at scrape time
(statvfs of DATA_DIR) by a custom collector: cAdvisor does not see a tmpfs mount inside a
container, so under Docker the app itself is the source of the disk-full signal.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric

POLLS_CREATED = Counter("polls_created", "Polls created.")
VOTES_CAST = Counter("votes_cast", "Votes accepted and stored.")
DISK_WRITE_ERRORS = Counter("pollapp_disk_write_errors", "Failed writes to the replica's data directory, by errno.",
                            ["errno"])


def data_disk_usage(path: Path) -> tuple[int, int] | None:
    """(used, size) in bytes of the filesystem holding `path`, or None when it cannot be read."""
    try:
        st = os.statvfs(path)
    except OSError:
        return None
    return (st.f_blocks - st.f_bfree) * st.f_frsize, st.f_blocks * st.f_frsize


class DataDiskCollector:
    """pollapp_data_disk_{used,size}_bytes of DATA_DIR, read when scraped (no series if unreadable)."""

    def collect(self) -> Iterator[Metric]:
        from django.conf import settings

        usage = data_disk_usage(Path(settings.DATA_DIR))
        if usage is None:
            return
        used, size = usage
        yield GaugeMetricFamily("pollapp_data_disk_used_bytes", "Bytes used on the filesystem of DATA_DIR.", value=used)
        yield GaugeMetricFamily("pollapp_data_disk_size_bytes", "Size in bytes of the filesystem of DATA_DIR.",
                                value=size)


class BuildInfoCollector:
    """pollapp_build_info{version, revision} 1: the release this process runs (settings.RELEASE).

    Yielded at scrape time, not kept in a multiprocess Gauge: it is the same in every worker, so
    no mmap file per pid nor a multiprocess_mode to aggregate them, and a roll to another release
    (a restart with another APP_RELEASE) can never leave the old version's series behind.
    """

    def collect(self) -> Iterator[Metric]:
        from django.conf import settings

        release = settings.RELEASE
        info = GaugeMetricFamily("pollapp_build_info", "The release this replica runs (always 1).",
                                 labels=["version", "revision"])
        info.add_metric([release.version, release.revision], 1)
        yield info


_DISK_REGISTRY = CollectorRegistry(auto_describe=False)
_DISK_REGISTRY.register(DataDiskCollector())
_DISK_REGISTRY.register(BuildInfoCollector())


def app_registry() -> CollectorRegistry:
    """Every worker's metrics (multiprocess mode) or this process's (single process)."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ or "prometheus_multiproc_dir" in os.environ:
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


def export(request: HttpRequest) -> HttpResponse:
    """/metrics: django-prometheus' exposition plus the data-disk gauges and the build info read now."""
    body = generate_latest(app_registry()) + generate_latest(_DISK_REGISTRY)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
