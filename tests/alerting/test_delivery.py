"""The real Alertmanager delivers pages to Slack and Discord stand-ins: firing, then resolved.

Slack and Discord cannot be reached from here, so a local HTTP server stands in for their
webhook endpoints (a test double for what truly cannot run here). Everything else is real:
the Alertmanager binary, the rendered config in stack/alertmanager, its routes and templates,
and the game's own pager (`python -m chaoslib.services.pager`) receiving pages and tickets.
"""
from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from chaoslib.render import render_to

BINARY = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
pytestmark = pytest.mark.skipif(BINARY is None,
                                reason="Alertmanager is not installed (apt-get install prometheus-alertmanager)")


class Inbox:
    """Records every POST by path."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict]] = []
        self.lock = threading.Lock()

    pager = ""  # the real pager's URL: its channels are read back from it

    def of(self, path: str) -> list[dict]:
        if path in ("/pager", "/tickets"):
            channel = "pages" if path == "/pager" else "tickets"
            return [n["payload"] for n in requests.get(f"{self.pager}/pages", timeout=5).json()
                    if n["channel"] == channel]
        with self.lock:
            return [body for p, body in self.received if p == path]


def _server(inbox: Inbox) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server protocol
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with inbox.lock:
                inbox.received.append((self.path, json.loads(body or b"{}")))
            self.send_response(204 if self.path.startswith("/discord") else 200)
            self.end_headers()
            if not self.path.startswith("/discord"):
                self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(check, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"nothing within {timeout} s")


@pytest.fixture
def alertmanager(tmp_path):
    """A real Alertmanager with Slack and Discord pointed at a local stand-in."""
    inbox = Inbox()
    srv = _server(inbox)
    hook = f"http://127.0.0.1:{srv.server_address[1]}"
    pager_port = _port()
    pager = subprocess.Popen([sys.executable, "-m", "chaoslib.services.pager", "--bind", f"127.0.0.1:{pager_port}",
                              "--store", str(tmp_path / "pager")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    inbox.pager = f"http://127.0.0.1:{pager_port}"
    conf = render_to("stack/alertmanager/alertmanager.yml.j2", tmp_path / "alertmanager.yml",
                     pager_url=f"{inbox.pager}/pages", tickets_url=f"{inbox.pager}/tickets",
                     slack_webhook_url=f"{hook}/slack", slack_channel="#game-day",
                     discord_webhook_url=f"{hook}/discord")
    port = _port()
    proc = subprocess.Popen([BINARY, f"--config.file={conf}", f"--storage.path={tmp_path / 'data'}",
                             f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: _ready(url) and _ready(inbox.pager, "/healthz"), 30)
        yield url, inbox
    finally:
        for p in (proc, pager):
            p.terminate()
            p.wait(timeout=20)
        srv.shutdown()


def _ready(url: str, path: str = "/-/ready") -> bool:
    try:
        return requests.get(f"{url}{path}", timeout=1).status_code == 200
    except requests.RequestException:
        return False


RUNBOOK = "https://runbooks.example/PollsHighErrorRatio.md"
DASHBOARD = "https://grafana.example/d/golden-signals/golden-signals?from=1000&to=2000"


def _post_alert(url: str, *, severity: str, ends_at: datetime | None = None, replica: str | None = None,
                alertname: str = "PollsHighErrorRatio") -> None:
    now = datetime.now(timezone.utc)
    alert = {"labels": {"alertname": alertname, "severity": severity, "team": "polls",
                        **({"replica": replica} if replica else {})},
             "annotations": {"summary": "Users are getting errors", "description": "More than 5 % of requests fail.",
                             "runbook_url": RUNBOOK, "dashboard_url": DASHBOARD},
             "startsAt": (now - timedelta(seconds=30)).isoformat()}
    if ends_at:
        alert["endsAt"] = ends_at.isoformat()
    requests.post(f"{url}/api/v2/alerts", json=[alert], timeout=5).raise_for_status()


class TestPageDelivery:
    def test_slack_and_discord_get_firing_then_resolved(self, alertmanager):
        """A page reaches the pager, Slack and Discord well-formed, and a resolved notice follows."""
        url, inbox = alertmanager
        _post_alert(url, severity="page")
        slack = _wait(lambda: inbox.of("/slack"), 30)[0]
        discord = _wait(lambda: inbox.of("/discord"), 30)[0]
        pager = _wait(lambda: inbox.of("/pager"), 30)[0]
        assert slack["channel"] == "#game-day"
        att = slack["attachments"][0]
        assert att["title"].startswith("FIRING") and "PollsHighErrorRatio" in att["title"]
        assert "Users are getting errors" in att["text"]
        # The on-call engineer's way forward: the runbook and the dashboard, as each chat links them.
        assert f"<{RUNBOOK}|Runbook>" in att["text"] and f"<{DASHBOARD}|Dashboard>" in att["text"]
        embed = discord["embeds"][0]
        assert embed["title"].startswith("FIRING") and "Users are getting errors" in embed["description"]
        assert f"[Runbook](<{RUNBOOK}>)" in embed["description"]
        assert f"[Dashboard](<{DASHBOARD}>)" in embed["description"]
        assert pager["status"] == "firing" and pager["alerts"][0]["labels"]["alertname"] == "PollsHighErrorRatio"
        assert not inbox.of("/tickets")

        _post_alert(url, severity="page", ends_at=datetime.now(timezone.utc))
        resolved_slack = _wait(
            lambda: [b for b in inbox.of("/slack") if b["attachments"][0]["title"].startswith("RESOLVED")], 60)
        resolved_discord = _wait(
            lambda: [b for b in inbox.of("/discord") if b["embeds"][0]["title"].startswith("RESOLVED")], 60)
        assert "PollsHighErrorRatio" in resolved_slack[0]["attachments"][0]["title"]
        assert resolved_discord[0]["embeds"][0]["title"].startswith("RESOLVED")
        _wait(lambda: [b for b in inbox.of("/pager") if b["status"] == "resolved"], 60)

    def test_ticket_goes_only_to_tickets(self, alertmanager):
        """A non-paging alert is routed to the tickets receiver, never to Slack, Discord or the pager."""
        url, inbox = alertmanager
        _post_alert(url, severity="ticket")
        ticket = _wait(lambda: inbox.of("/tickets"), 30)[0]
        assert ticket["alerts"][0]["labels"]["severity"] == "ticket"
        time.sleep(2)
        assert not inbox.of("/slack") and not inbox.of("/discord") and not inbox.of("/pager")

    def test_a_replicas_tickets_wait_while_its_page_fires(self, alertmanager):
        """inhibit_rules: while a page about app2 fires, app2's ticket is held back; app3's ticket goes out."""
        url, inbox = alertmanager
        _post_alert(url, severity="page", replica="app2", alertname="PollsServerOutOfRotation")
        _wait(lambda: inbox.of("/pager"), 30)
        _post_alert(url, severity="ticket", replica="app2", alertname="ReplicaDown")
        _post_alert(url, severity="ticket", replica="app3", alertname="CrashLooping")
        ticket = _wait(lambda: inbox.of("/tickets"), 30)[0]
        time.sleep(3)  # past the ticket route's group_wait (5 s in all since the post): app2's would be out too
        replicas = {a["labels"]["replica"] for t in inbox.of("/tickets") for a in t["alerts"]}
        assert replicas == {"app3"}, ticket
        silenced = requests.get(f"{url}/api/v2/alerts", params={"inhibited": "true", "active": "false"},
                                timeout=5).json()
        assert [(a["labels"]["replica"], a["status"]["state"]) for a in silenced
                if a["labels"]["severity"] == "ticket"] == [("app2", "suppressed")]
