"""A real gunicorn running pollapp for one test, and real size-limited tmpfs disks (root only)."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gunicorn_env(tmp_path: Path, data_dir: Path, port: int, *, name: str = "appg") -> dict:
    """The environment of a replica on `port` with its disk at `data_dir` (a stale metrics file planted)."""
    mp = tmp_path / "prom"
    mp.mkdir(exist_ok=True)
    (mp / "stale.db").write_text("left from a previous run")
    return {**os.environ, "PYTHONPATH": str(REPO), "DJANGO_SETTINGS_MODULE": "pollapp.settings",
            "SECRET_KEY": "k", "REPLICA_NAME": name, "DATA_DIR": str(data_dir), "BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": "2", "PROMETHEUS_MULTIPROC_DIR": str(mp), "ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": "postgres://polls:polls@127.0.0.1:1/polls"}


def gunicorn_cmd() -> list[str]:
    """gunicorn with the replicas' own config."""
    return [sys.executable, "-m", "gunicorn", "-c", "python:pollapp.gunicorn_conf", "pollapp.wsgi"]


def wait_for_livez(base: str, proc: subprocess.Popen, *, timeout: float = 30) -> None:
    """Block until `base`/livez answers; fail the test if gunicorn exits or takes too long."""
    deadline = time.time() + timeout
    while True:
        try:
            requests.get(f"{base}/livez", timeout=1)
            return
        except requests.ConnectionError:
            assert time.time() < deadline and proc.poll() is None, "gunicorn did not start"
            time.sleep(0.2)


@contextlib.contextmanager
def tmpfs_disk(mnt: Path, size: str) -> Iterator[Path]:
    """Mount a real tmpfs of `size` (e.g. "1m") at `mnt` for the block; skip unless root."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)], check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)
