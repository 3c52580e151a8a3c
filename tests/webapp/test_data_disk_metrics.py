"""The data-disk gauges: the Docker path's disk-full signal, read from DATA_DIR at scrape time."""
from __future__ import annotations

import subprocess

import pytest
import requests

from .gunicorn_proc import REPO, free_port, gunicorn_cmd, gunicorn_env, tmpfs_disk, wait_for_livez

MiB = 1 << 20


def sample(text: str, name: str) -> float:
    """The value of an unlabelled sample in a Prometheus text exposition."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


@pytest.fixture
def small_disk(tmp_path, settings):
    """DATA_DIR on a real 4 MiB tmpfs (root only); unmounted after."""
    with tmpfs_disk(tmp_path / "disk", "4m") as mnt:
        settings.DATA_DIR = mnt
        yield mnt


def test_gauges_move_when_a_file_is_written(client, small_disk):
    """Writing 1 MiB to DATA_DIR raises pollapp_data_disk_used_bytes by 1 MiB; the size is the tmpfs's."""
    before = client.get("/metrics").content.decode()
    assert sample(before, "pollapp_data_disk_size_bytes") == 4 * MiB
    (small_disk / "blob.bin").write_bytes(b"\1" * MiB)
    after = client.get("/metrics").content.decode()
    grown = sample(after, "pollapp_data_disk_used_bytes") - sample(before, "pollapp_data_disk_used_bytes")
    assert grown == MiB
    (small_disk / "blob.bin").unlink()
    assert sample(client.get("/metrics").content.decode(), "pollapp_data_disk_used_bytes") == \
        sample(before, "pollapp_data_disk_used_bytes")


def test_no_gauges_when_data_dir_is_missing(client, settings, tmp_path):
    """An unreadable DATA_DIR yields no disk series (rather than a made-up zero)."""
    settings.DATA_DIR = tmp_path / "does-not-exist"
    text = client.get("/metrics").content.decode()
    assert "pollapp_data_disk_used_bytes" not in text and "pollapp_data_disk_size_bytes" not in text


def test_metrics_view_keeps_its_name(client):
    """/metrics resolves to the view name the recording rules exclude from user traffic."""
    from django.urls import resolve

    assert resolve("/metrics").view_name == "prometheus-django-metrics"


def test_gauges_in_multiprocess_view_under_gunicorn(tmp_path):
    """Under gunicorn (multiprocess mode), /metrics serves the disk gauges beside every worker's counters."""
    port = free_port()
    env = gunicorn_env(tmp_path, tmp_path / "data", port, name="appd")
    proc = subprocess.Popen(gunicorn_cmd(), cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_livez(f"http://127.0.0.1:{port}", proc)
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert sample(text, "pollapp_data_disk_size_bytes") > 0
        assert sample(text, "pollapp_data_disk_used_bytes") >= 0
        assert "django_http_requests_total_by_view_transport_method_total" in text
    finally:
        proc.terminate()
        proc.wait(timeout=20)
