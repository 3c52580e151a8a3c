"""A second local user gets nothing from the live stack: no secret, no database, no control endpoint.

The threat model (docs/security.md): another local user may reach the product (Traefik and the
app replicas, open to everyone local by design) and nothing else. The control endpoints refuse
it by socket owner (nftables `inet chaos_lockdown`: a reset to its SYN, i.e. connection refused),
JupyterLab by its token (403), the state folder by its modes (permission denied). The probe runs
as that user on a plan built here from the stack's own endpoint list; its controls come first, so a
probe that cannot see access (or counts a crash as a refusal) fails the test.
"""
from __future__ import annotations

import json
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from chaoslib import config
from chaoslib.native import credentials

pytestmark = pytest.mark.integration
PROBE = Path(__file__).with_name("second_user_probe.py")
USER = "chaosprobe"
REACHED, REFUSED, UNKNOWN = "reached", "refused", "unknown"
ALERT = json.dumps([{"labels": {"alertname": "SecondUserFake", "severity": "page"}}])
PAGE = json.dumps({"status": "firing", "alerts": [{"status": "firing", "labels": {"alertname": "SecondUserFake"}}]})
#: The requests tried on each guarded endpoint, by the name the stack publishes it under (besides a bare
#: TCP connection to each). Every endpoint must be either here or open by design (`_open_by_design`).
GUARDED: dict[str, list[tuple[str, str, str | None]]] = {
    "prometheus": [("GET", "/api/v1/query?query=up", None), ("POST", "/-/quit", None), ("POST", "/-/reload", None)],
    "alertmanager": [("GET", "/api/v2/status", None), ("POST", "/api/v2/alerts", ALERT)],
    "pager": [("GET", "/pages", None), ("POST", "/pages", PAGE)],
    # Natively Traefik has no dashboard (no `api:` in traefik.yml): its second port serves /metrics and /ping.
    "traefik_metrics": [("GET", "/metrics", None), ("GET", "/ping", None), ("GET", "/dashboard/", None),
                        ("GET", "/api/rawdata", None)],
    "postgres_exporter": [("GET", "/metrics", None)],
    "saturation_exporter": [("GET", "/metrics", None)],
    "postgres": [],  # logins below
    # Nothing listens there natively (logs are files; the name is the Docker stack's port): refused as closed.
    "elasticsearch": [("GET", "/", None)],
}
GUESSED_PASSWORDS = ("", "polls", "exporter", "postgres", "chaos")


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
    """JupyterLab started by the project (so its token is somewhere to look for), stopped after: (base URL, token)."""
    from chaoslib.native.health import port_in_use
    from chaoslib.services.lab import start_lab, stop_lab

    port = next(p for p in range(8890, 8990) if not port_in_use("127.0.0.1", p))
    url = start_lab(live_stack.settings, port=port)
    yield url.split("/lab?", 1)[0], url.split("token=", 1)[1]
    stop_lab(live_stack.settings)


class _Granted(BaseHTTPRequestHandler):
    """The throwaway listener the second user is allowed to reach: 200 on /open, 401 on /locked."""

    def do_GET(self) -> None:  # http.server's spelling
        code = 200 if self.path == "/open" else 401
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def controls() -> Iterator[tuple[list[dict], dict[str, str], str]]:
    """Access granted on purpose (an open listener, a world-readable file), a 401, a closed port and a
    listener that never answers: the attempts, the outcome each must get, and the readable file."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Granted)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    silent = socket.create_server(("127.0.0.1", 0))  # listens, never accepts: the request times out
    closed = socket.create_server(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    folder = Path(tempfile.mkdtemp(prefix="chaos-probe-control-"))
    folder.chmod(0o755)
    readable = folder / "granted.txt"
    readable.write_text("granted on purpose")
    readable.chmod(0o644)
    host, port = server.server_address[:2]
    attempts = [
        {"name": "control: granted HTTP", "kind": "http", "url": f"http://{host}:{port}/open"},
        {"name": "control: granted TCP", "kind": "tcp", "host": host, "port": port},
        {"name": "control: HTTP 401", "kind": "http", "url": f"http://{host}:{port}/locked"},
        {"name": "control: closed port", "kind": "tcp", "host": "127.0.0.1", "port": closed_port},
        {"name": "control: silent listener", "kind": "http", "timeout": 1,
         "url": f"http://127.0.0.1:{silent.getsockname()[1]}/"},
    ]
    expected = {"control: granted HTTP": REACHED, "control: granted TCP": REACHED, "control: HTTP 401": REFUSED,
                "control: closed port": REFUSED, "control: silent listener": UNKNOWN, f"read {readable}": REACHED}
    yield attempts, expected, str(readable)
    server.shutdown()
    server.server_close()
    silent.close()
    shutil.rmtree(folder)


def _open_by_design(stack) -> set[str]:
    """The product: Traefik and every replica, open to every local user (docs/security.md)."""
    return {"app", *stack.targets()}


def _endpoint_attempts(stack) -> tuple[list[dict], dict[str, str]]:
    """A TCP connection and the requests above for every endpoint the stack publishes, and the outcome each must get."""
    attempts: list[dict] = []
    endpoints = stack.endpoints()
    unclassified = set(endpoints) - set(GUARDED) - _open_by_design(stack)
    assert not unclassified, f"endpoints with no expectation (add them here and to docs/security.md): {unclassified}"
    for name, url in sorted(endpoints.items()):
        where = urlsplit(url)
        attempts.append({"name": f"{name} tcp", "kind": "tcp", "host": where.hostname, "port": where.port})
        if name in GUARDED:
            attempts += [{"name": f"{name} {method} {path}", "kind": "http", "method": method, "url": url + path,
                          "body": body} for method, path, body in GUARDED[name]]
        else:
            attempts.append({"name": f"{name} GET /livez", "kind": "http", "url": f"{url}/livez"})
    pg = urlsplit(endpoints["postgres"])
    for user in ("postgres", *credentials.ROLES):
        attempts += [{"name": f"postgres tcp login as {user}/{password or '-'}", "kind": "pg", "host": pg.hostname,
                      "port": pg.port, "user": user, "password": password, "dbname": config.DB_NAME}
                     for password in GUESSED_PASSWORDS]
        attempts.append({"name": f"postgres socket login as {user}", "kind": "pg", "port": pg.port, "user": user,
                         "host": str(stack.settings.run_dir / "pg"), "password": "", "dbname": config.DB_NAME})
    open_names = _open_by_design(stack)
    expected = {a["name"]: REACHED if a["name"].split(" ", 1)[0] in open_names else REFUSED for a in attempts}
    return attempts, expected


def _jupyter_attempts(base: str) -> list[dict]:
    """JupyterLab without its token: its API answers 403."""
    return [{"name": "jupyter GET /api/contents", "kind": "http", "url": f"{base}/api/contents"},
            {"name": "jupyter POST /api/kernels", "kind": "http", "method": "POST", "url": f"{base}/api/kernels",
             "body": "{}"}]


def _state_files(settings) -> list[str]:
    """The state folder and what root sees in it, its secrets, configs, run and log files."""
    s = settings.state_dir
    found = [s, *(p for p in s.iterdir() if p.is_file())]
    for sub in ("secrets", "config", "run", "logs"):
        found += [s / sub, *sorted((s / sub).glob("*"))] if (s / sub).is_dir() else []
    return [str(p) for p in found]


def _secrets(stack, token: str) -> dict[str, str]:
    s = stack.settings
    found = {"jupyter token": token, "SECRET_KEY": (s.state_dir / "secret_key").read_text().strip()}
    for role in credentials.ROLES:
        found[f"{role} password"] = credentials.password(s, role)
    return found


def test_second_user_gets_nothing(live_stack, second_user, lab, controls, figures):
    """As another local user: the controls first (it reaches what it is granted, sees a 401, a closed port and a
    timeout for what they are), then no secret in any readable process, no file of the state folder, no database
    login and no endpoint but the product's, each refusal one it recognises (an unknown fails with its text)."""
    control_attempts, expected, control_file = controls
    attempts, expected_live = _endpoint_attempts(live_stack)
    jupyter = _jupyter_attempts(lab[0])
    files = _state_files(live_stack.settings)
    expected |= expected_live | {a["name"]: REFUSED for a in jupyter} | {f"read {f}": REFUSED for f in files}
    plan = {"files": [control_file, *files], "attempts": [*control_attempts, *attempts, *jupyter]}
    pages_before = requests.get(f"{live_stack.endpoint('pager')}/pages", timeout=5).json()
    proc = subprocess.run([shutil.which("runuser") or "/usr/sbin/runuser", "-u", second_user, "--", sys.executable,
                           str(PROBE)], input=json.dumps(plan), capture_output=True, text=True, timeout=300,
                          cwd="/", env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(config.REPO_ROOT)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    outcomes = {r["attempt"]: r for r in report["results"]}
    assert set(outcomes) == set(expected), set(outcomes) ^ set(expected)
    assert any(PROBE.name in text for text in report["readable"]), "the probe could not read even its own /proc"
    wrong = [f"{name}: expected {want}, got {outcomes[name]['outcome']} ({outcomes[name]['detail']})"
             for name, want in expected.items() if outcomes[name]["outcome"] != want]
    leaked = [name for name, value in _secrets(live_stack, lab[1]).items()
              if any(value in text for text in report["readable"])]
    got_in = [n for n, r in outcomes.items() if r["outcome"] == REACHED and expected[n] == REACHED
              and not n.startswith("control") and n != f"read {control_file}"]
    n_controls = sum(name.startswith("control") or name == f"read {control_file}" for name in outcomes)
    figures.append(f"second local user: {len(outcomes) + report['proc_reads']} attempts ({report['proc_reads']} "
                   f"/proc reads, {len(outcomes)} actions, {n_controls} of them controls), {len(got_in)} reached "
                   f"(the product, open by design), {len(leaked)} secrets leaked")
    assert not leaked, f"secrets readable by another user: {leaked}"
    assert not wrong, "\n".join(wrong)
    # Nothing the probe tried reached the pager or stopped Prometheus.
    assert requests.get(f"{live_stack.endpoint('prometheus')}/-/ready", timeout=5).status_code == 200
    # Alertmanager may still deliver the previous game's notifications meanwhile (its groups repeat and resolve):
    # every page that arrived must be one Alertmanager sent (its webhook's version, receiver and groupKey), none
    # the probe's (the probe's page has none of them).
    pages_after = requests.get(f"{live_stack.endpoint('pager')}/pages", timeout=5).json()
    arrived = pages_after[len(pages_before):]
    assert pages_after[:len(pages_before)] == pages_before
    foreign = [p for p in arrived if not {"version", "receiver", "groupKey"} <= set(p["payload"])]
    assert not foreign, f"pages that Alertmanager did not send: {foreign}"
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
    token = lab[1]
    assert token not in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    assert token in Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
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
    """Even root cannot stop or reload Prometheus over HTTP: the lifecycle endpoints are disabled."""
    url = live_stack.endpoint("prometheus")
    for path in ("/-/quit", "/-/reload"):
        r = requests.post(f"{url}{path}", timeout=5)
        assert r.status_code in (403, 404, 405), (path, r.status_code, r.text[:200])
    assert requests.get(f"{url}/-/ready", timeout=5).status_code == 200
