"""The replica's process under real gunicorn: multiprocess metrics, and the full-disk crash at boot."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(tmp_path: Path, data_dir: Path, port: int) -> dict:
    mp = tmp_path / "prom"
    mp.mkdir(exist_ok=True)
    (mp / "stale.db").write_text("left from a previous run")
    return {**os.environ, "PYTHONPATH": str(REPO), "DJANGO_SETTINGS_MODULE": "pollapp.settings",
            "SECRET_KEY": "k", "REPLICA_NAME": "appg", "DATA_DIR": str(data_dir), "BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": "2", "PROMETHEUS_MULTIPROC_DIR": str(mp), "ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": "postgres://polls:polls@127.0.0.1:1/polls"}


def _gunicorn() -> list[str]:
    return [sys.executable, "-m", "gunicorn", "-c", "python:pollapp.gunicorn_conf", "pollapp.wsgi"]


class TestMultiprocessMetrics:
    def test_counts_sum_over_workers(self, tmp_path):
        """With two workers, /metrics counts every request once, whichever worker served it."""
        port = _port()
        env = _env(tmp_path, tmp_path / "data", port)
        proc = subprocess.Popen(_gunicorn(), cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.time() + 30
            while True:
                try:
                    requests.get(f"{base}/livez", timeout=1)
                    break
                except requests.ConnectionError:
                    assert time.time() < deadline and proc.poll() is None, "gunicorn did not start"
                    time.sleep(0.2)
            assert not (tmp_path / "prom" / "stale.db").exists(), "multiprocess dir not wiped at start"
            for _ in range(40):
                requests.get(f"{base}/livez", timeout=5)
            total = 0.0
            for line in requests.get(f"{base}/metrics", timeout=5).text.splitlines():
                if line.startswith("django_http_requests_total_by_view_transport_method_total{") and 'view="livez"' in line:
                    total += float(line.rsplit(" ", 1)[1])
            assert total >= 41
            assert list((tmp_path / "data" / "boot").glob("boot-*.json"))
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=20)


class TestBootOnFullDisk:
    def test_exits_nonzero_and_says_why(self, tmp_path, full_disk):
        """On a full disk gunicorn cannot write its boot record: it exits 1 with a CRITICAL JSON line."""
        proc = subprocess.run(_gunicorn(), cwd=REPO, env=_env(tmp_path, full_disk, _port()),
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 1
        lines = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith("{")]
        assert any(r["level"] == "CRITICAL" and "No space left on device" in r["message"] for r in lines), proc.stdout
