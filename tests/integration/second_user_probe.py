"""Run as an unprivileged local user: try every way into the stack, print what worked as JSON.

It is given no secret. It reports what it could read (command lines, environments, files)
so the test, as root, can search that text for the stack's real secrets, and the outcome
of each attempt to act (database logins, control endpoints).
"""
from __future__ import annotations

import json
import os
import socket
import sys
import urllib.error
import urllib.request


def attempt(results: list, name: str, fn) -> None:
    try:
        detail = fn()
        results.append({"attempt": name, "got_in": True, "detail": str(detail)[:200]})
    except Exception as e:  # every failure is the expected outcome: record it, go on
        results.append({"attempt": name, "got_in": False, "detail": f"{type(e).__name__}: {e}"[:200]})


def read_procs(readable: list) -> int:
    tried = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        for what in ("cmdline", "environ"):
            tried += 1
            try:
                with open(f"/proc/{pid}/{what}", "rb") as f:
                    readable.append(f.read().replace(b"\0", b" ").decode(errors="replace"))
            except OSError:
                pass
    return tried


def http(method: str, url: str, body: bytes | None = None) -> int:
    """The HTTP status: any answer, even a 4xx, means the endpoint was reached (got in)."""
    req = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status
    except urllib.error.HTTPError as e:
        return e.code


def pg_login(host: str, user: str, password: str) -> str:
    import psycopg

    with psycopg.connect(host=host, port=5432, user=user, password=password, dbname="polls",
                         connect_timeout=5) as conn:
        return conn.execute("SELECT current_user").fetchone()[0]


def main() -> None:
    state = sys.argv[1]
    results: list[dict] = []
    readable: list[str] = []
    proc_reads = read_procs(readable)
    for path in ["", "faults.json", "game.json", "secret_key", "stack.json", "secrets/polls.password",
                 "secrets/exporter.password", "config/supervisord.conf", "config/alertmanager.yml",
                 "config/prometheus.yml", "config/traefik.yml", "run/jupyter.token", "logs/supervisord.log"]:
        full = os.path.join(state, path)
        attempt(results, f"read {path or 'the state folder'}",
                lambda full=full: os.listdir(full) if os.path.isdir(full) or not path else open(full).read())
    for user in ("postgres", "polls", "exporter"):
        for password in ("", user, "polls", "exporter", "postgres"):
            attempt(results, f"postgres tcp as {user}/{password or '-'}",
                    lambda u=user, p=password: pg_login("127.0.2.1", u, p))
        attempt(results, f"postgres socket as {user}", lambda u=user: pg_login(os.path.join(state, "run/pg"), u, ""))
    attempt(results, "prometheus /-/quit", lambda: http("POST", "http://127.0.2.3:9090/-/quit"))
    attempt(results, "prometheus query", lambda: http("GET", "http://127.0.2.3:9090/api/v1/query?query=up"))
    alert = json.dumps([{"labels": {"alertname": "SecondUserFake", "severity": "page"}}]).encode()
    attempt(results, "alertmanager post alert", lambda: http("POST", "http://127.0.2.4:9093/api/v2/alerts", alert))
    page = json.dumps({"status": "firing", "alerts": [{"status": "firing",
                                                       "labels": {"alertname": "SecondUserFake"}}]}).encode()
    attempt(results, "pager post page", lambda: http("POST", "http://127.0.2.7:9099/pages", page))
    attempt(results, "saturation exporter hold a connection",
            lambda: socket.create_connection(("127.0.2.6", 9338), timeout=5))
    print(json.dumps({"results": results, "readable": readable, "proc_reads": proc_reads}))


if __name__ == "__main__":
    main()
