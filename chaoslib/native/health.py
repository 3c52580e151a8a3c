"""Health probes for the native services: small, with short timeouts, never raising."""
from __future__ import annotations

import socket
import struct
import urllib.error
import urllib.request


def http_ok(url: str, *, timeout: float = 1.5, contains: str | None = None) -> tuple[bool, str]:
    """GET `url`; healthy on a 2xx (and `contains` in the body, if given)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            body = resp.read(1 << 20).decode("utf-8", "replace")
            if contains is not None and contains not in body:
                return False, f"{url}: '{contains}' not in the answer"
            return True, f"{url}: {resp.status}"
    except urllib.error.HTTPError as e:
        return False, f"{url}: HTTP {e.code}"
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        return False, f"{url}: {reason}"


def postgres_ok(host: str, port: int, *, timeout: float = 1.0) -> tuple[bool, str]:
    """Does PostgreSQL accept sessions (what pg_isready asks), not only TCP connections?

    After a crash the server listens during recovery but answers every session with
    SQLSTATE 57P03 "the database system is starting up": a plain TCP probe passed then, and
    the bootstrap that followed failed. This sends a startup message and reads the first
    answer; an authentication request, or any error but 57P03, means sessions are accepted.
    The probe hangs up before authenticating, which the server does not log (during
    start-up it logs the 57P03 refusal, as it does for pg_isready).
    """
    params = b"user\0postgres\0database\0postgres\0\0"
    startup = struct.pack("!ii", 8 + len(params), 196608) + params
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(startup)
            head = s.recv(5)
            if len(head) < 5:
                return False, f"{host}:{port}: closed before answering"
            kind, length = head[:1], struct.unpack("!i", head[1:])[0]
            body = b""
            # Read the whole answer: closing with bytes unread resets the connection, which
            # the server logs ("could not receive data from client") on every probe.
            while len(body) < min(length - 4, 1 << 16):
                chunk = s.recv(length - 4 - len(body))
                if not chunk:
                    break
                body += chunk
    except OSError as e:
        return False, f"{host}:{port}: {e.strerror or e}"
    if kind == b"E":
        fields = {f[:1]: f[1:].decode("utf-8", "replace") for f in body.split(b"\0") if f}
        if fields.get(b"C") == "57P03":
            return False, f"{host}:{port}: {fields.get(b'M', 'not accepting sessions yet')}"
    return True, f"{host}:{port} accepts sessions"


def port_in_use(host: str, port: int) -> bool:
    """True when something already listens on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False
