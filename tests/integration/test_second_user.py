"""A second local user gets nothing from the live stack: no secret, no database, no control endpoint."""
from __future__ import annotations

import json
import pwd
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from chaoslib import config
from chaoslib.native import credentials

pytestmark = pytest.mark.integration
PROBE = Path(__file__).with_name("second_user_probe.py")
USER = "chaosprobe"


@pytest.fixture(scope="module")
def second_user():
    """An unprivileged local user, like any account on a shared machine; removed afterwards if this test made it."""
    try:
        pwd.getpwnam(USER)
        made = False
    except KeyError:
        subprocess.run(["useradd", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin",
                        USER], check=True, capture_output=True)
        made = True
    yield USER
    if made:
        subprocess.run(["userdel", USER], check=True, capture_output=True)
        with pytest.raises(KeyError):
            pwd.getpwnam(USER)


@pytest.fixture(scope="module")
def lab(live_stack):
    """JupyterLab started by the project (so its token is somewhere to look for), stopped after."""
    from chaoslib.native.health import port_in_use
    from chaoslib.services.lab import start_lab, stop_lab

    port = next(p for p in range(8890, 8990) if not port_in_use("127.0.0.1", p))
    url = start_lab(live_stack.settings, port=port)
    yield url.split("token=", 1)[1]
    stop_lab(live_stack.settings)


def _secrets(stack, token: str) -> dict[str, str]:
    s = stack.settings
    found = {"jupyter token": token, "SECRET_KEY": (s.state_dir / "secret_key").read_text().strip()}
    for role in credentials.ROLES:
        found[f"{role} password"] = credentials.password(s, role)
    return found


def test_second_user_gets_nothing(live_stack, second_user, lab, figures):
    """As another local user: no secret in any readable process, no database login, no file, no control endpoint."""
    pages_before = requests.get(f"{config.PAGER.url}/pages", timeout=5).json()
    proc = subprocess.run([shutil.which("runuser") or "/usr/sbin/runuser", "-u", second_user, "--", sys.executable, str(PROBE),
                           str(live_stack.settings.state_dir)], capture_output=True, text=True, timeout=300,
                          cwd="/", env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(config.REPO_ROOT)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    got_in = [r for r in report["results"] if r["got_in"]]
    leaked = [name for name, value in _secrets(live_stack, lab).items()
              if any(value in text for text in report["readable"])]
    attempts = len(report["results"]) + report["proc_reads"]
    figures.append(f"second local user: {attempts} attempts ({report['proc_reads']} /proc reads, "
                   f"{len(report['results'])} actions), {len(got_in) + len(leaked)} got in")
    assert not leaked, f"secrets readable by another user: {leaked}"
    assert not got_in, got_in
    # Nothing the probe tried reached the pager or stopped Prometheus.
    assert requests.get(f"{config.PROMETHEUS.url}/-/ready", timeout=5).status_code == 200
    pages_after = requests.get(f"{config.PAGER.url}/pages", timeout=5).json()
    assert len(pages_after) == len(pages_before)
    assert "SecondUserFake" not in json.dumps(pages_after)


def test_private_files_have_private_modes(live_stack, lab):
    """The state folder is closed to others, rendered configs and secrets are 0600, the lab token is off the command line."""
    s = live_stack.settings
    assert s.state_dir.stat().st_mode & 0o007 == 0
    for path in [*(s.config_dir.glob("*.yml")), s.config_dir / "supervisord.conf", s.state_dir / "secret_key",
                 *(s.state_dir / "secrets").glob("*"), s.faults_file, s.run_dir / "jupyter.token"]:
        if path.exists():
            assert path.stat().st_mode & 0o077 == 0, f"{path} is {oct(path.stat().st_mode & 0o777)}"
    pid = int((s.run_dir / "jupyter.pid").read_text())
    assert lab not in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    assert lab in Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
    hba = (s.data_dir / "postgres" / "pg_hba.conf").read_text()
    assert "trust" not in [w for line in hba.splitlines() if not line.startswith("#") for w in line.split()]


def test_an_idle_connection_does_not_block_scraping(live_stack):
    """Holding a connection open to the saturation exporter does not delay another scrape."""
    host, port = config.SATURATION_EXPORTER.host, config.SATURATION_EXPORTER.port
    idle = [socket.create_connection((host, port), timeout=5) for _ in range(3)]
    try:
        t0 = time.monotonic()
        r = requests.get(f"{config.SATURATION_EXPORTER.url}/metrics", timeout=8)
        assert r.status_code == 200 and "container_cpu_usage_seconds_total" in r.text
        assert time.monotonic() - t0 < 5
    finally:
        for s in idle:
            s.close()


def test_prometheus_lifecycle_api_is_off(live_stack):
    """Even root cannot stop Prometheus over HTTP: the lifecycle endpoints are disabled."""
    r = requests.post(f"{config.PROMETHEUS.url}/-/quit", timeout=5)
    assert r.status_code in (403, 404, 405)
    assert requests.get(f"{config.PROMETHEUS.url}/-/ready", timeout=5).status_code == 200
