"""Run as an unprivileged local user: try every way into the stack the plan lists, print each outcome as JSON.

It is given no secret and no address of its own: the test sends a plan on standard input, built
from the stack's own endpoint list (and the live state folder's files), with its controls first.
Each attempt ends "reached" (a file read, a login, a connection held, any HTTP answer but 401/403),
"refused" for a refusal recognised here (connection refused or reset, HTTP 401/403, permission
denied, PostgreSQL refusing the password or the connection), or "unknown" with its text (a timeout,
a file not found, anything else): the test fails on an unknown. It also reports what it could
read under /proc (command lines, environments) so the test, as root, can search it for secrets.
A missing module (psycopg) stops it at import: the test fails on its exit code, never counts it.
"""
from __future__ import annotations

import errno
import json
import os
import socket
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from http.client import RemoteDisconnected
from typing import Any

import psycopg

REACHED, REFUSED, UNKNOWN = "reached", "refused", "unknown"
#: What libpq says when the server (or the folder of its socket) turns the probe away.
PG_REFUSALS = ("Connection refused", "Connection reset", "password authentication failed",
               "no pg_hba.conf entry", "Permission denied")


def classify(e: BaseException) -> str:
    """REFUSED only for the refusals named in the module's docstring; everything else is UNKNOWN."""
    if isinstance(e, urllib.error.HTTPError):
        return REFUSED if e.code in (401, 403) else REACHED  # any other answer: the endpoint was reached
    if isinstance(e, urllib.error.URLError) and isinstance(e.reason, BaseException):
        return classify(e.reason)
    if isinstance(e, RemoteDisconnected):  # accepted, then closed unanswered: not a refusal we know
        return UNKNOWN
    if isinstance(e, (ConnectionRefusedError, ConnectionResetError)):
        return REFUSED
    if isinstance(e, PermissionError) and e.errno in (errno.EACCES, errno.EPERM):
        return REFUSED
    if isinstance(e, psycopg.OperationalError) and any(text in str(e) for text in PG_REFUSALS):
        return REFUSED
    return UNKNOWN


def attempt(results: list[dict[str, str]], name: str, fn: Callable[[], object]) -> None:
    try:
        detail, outcome = str(fn()), REACHED
    except Exception as e:  # classified: only the refusals classify() knows count as refused
        detail, outcome = f"{type(e).__name__}: {e}", classify(e)
    results.append({"attempt": name, "outcome": outcome, "detail": detail[:300]})


def read_procs(readable: list[str]) -> int:
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


def read_path(path: str) -> object:
    if os.path.isdir(path):
        return os.listdir(path)
    with open(path, "rb") as f:
        return f.read(200)


def http(step: dict[str, Any]) -> int:
    """The HTTP status of a 2xx/3xx answer (a 4xx/5xx arrives as HTTPError, classified by the caller)."""
    body = step.get("body")
    req = urllib.request.Request(step["url"], data=body.encode() if body is not None else None,
                                 method=step.get("method", "GET"), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=step.get("timeout", 5)) as resp:
        return int(resp.status)


def tcp(step: dict[str, Any]) -> str:
    with socket.create_connection((step["host"], step["port"]), timeout=step.get("timeout", 5)) as s:
        return f"connected from {s.getsockname()}"


def pg_login(step: dict[str, Any]) -> str:
    with psycopg.connect(host=step["host"], port=step["port"], user=step["user"], password=step["password"],
                         dbname=step.get("dbname", "postgres"), connect_timeout=step.get("timeout", 5)) as conn:
        row = conn.execute("SELECT current_user").fetchone()
        return str(row[0] if row else "")


KINDS: dict[str, Callable[[dict[str, Any]], object]] = {"http": http, "tcp": tcp, "pg": pg_login}


def main() -> None:
    plan = json.load(sys.stdin)
    results: list[dict[str, str]] = []
    readable: list[str] = []
    proc_reads = read_procs(readable)
    for path in plan["files"]:
        attempt(results, f"read {path}", lambda path=path: read_path(path))
    for step in plan["attempts"]:
        attempt(results, step["name"], lambda step=step: KINDS[step["kind"]](step))
    print(json.dumps({"results": results, "readable": readable, "proc_reads": proc_reads}))


if __name__ == "__main__":
    main()
