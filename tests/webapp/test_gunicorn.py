"""The replica's process under real gunicorn: multiprocess metrics, and the full-disk crash at boot."""
from __future__ import annotations

import json
import signal
import subprocess

import requests

from chaoslib import config
from chaoslib.kernel import disks

from .gunicorn_proc import REPO, free_port, gunicorn_cmd, gunicorn_env, wait_for_livez


class TestMultiprocessMetrics:
    def test_counts_sum_over_workers(self, tmp_path):
        """With two workers, /metrics counts every request once, whichever worker served it."""
        port = free_port()
        env = gunicorn_env(tmp_path, tmp_path / "data", port)
        proc = subprocess.Popen(gunicorn_cmd(), cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for_livez(base, proc)
            assert not (tmp_path / "prom" / "stale.db").exists(), "multiprocess dir not wiped at start"
            for _ in range(40):
                requests.get(f"{base}/livez", timeout=5)
            total = 0.0
            for line in requests.get(f"{base}/metrics", timeout=5).text.splitlines():
                if (line.startswith("django_http_requests_total_by_view_transport_method_total{")
                        and 'view="livez"' in line):
                    total += float(line.rsplit(" ", 1)[1])
            assert total == 41  # the one readiness probe that answered, and the forty
            assert list((tmp_path / "data" / "boot").glob("boot-*.json"))
            written = [f.path for f in disks.list_files(tmp_path / "data")]
            assert written and all(config.is_app_file(f) for f in written), written
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=20)


class TestBootOnFullDisk:
    def test_exits_nonzero_and_says_why(self, tmp_path, full_disk):
        """On a full disk gunicorn cannot write its boot record: it exits 1 with a CRITICAL JSON line."""
        proc = subprocess.run(gunicorn_cmd(), cwd=REPO, env=gunicorn_env(tmp_path, full_disk, free_port()),
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 1
        lines = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith("{")]
        assert any(r["level"] == "CRITICAL" and "No space left on device" in r["message"] for r in lines), proc.stdout
