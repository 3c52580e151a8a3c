"""The native PostgreSQL health probe asks what pg_isready asks, not only whether TCP connects.

A server in crash recovery listens but refuses sessions with SQLSTATE 57P03; that state lasts
a fraction of a second after a restart and cannot be held open on purpose, so these tests stand
a few lines of socket code in for the server's first answer (the live stack's own probe is
exercised against the real PostgreSQL by every integration test's `up`).
"""
from __future__ import annotations

import socket
import struct
import threading

import pytest

from chaoslib.native.health import postgres_ok


def _error(code: str, message: str) -> bytes:
    body = b"SFATAL\0C" + code.encode() + b"\0M" + message.encode() + b"\0\0"
    return b"E" + struct.pack("!i", 4 + len(body)) + body


def _serve(answer: bytes | None) -> tuple[int, list[bytes]]:
    """Listen on a loopback port; read one startup message, send `answer`, hang up."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    got: list[bytes] = []

    def run() -> None:
        conn, _ = srv.accept()
        with conn:
            length = struct.unpack("!i", conn.recv(4))[0]
            rest = b""
            while len(rest) < length - 4:
                rest += conn.recv(length - 4 - len(rest))
            got.append(rest)
            if answer is not None:
                conn.sendall(answer)
        srv.close()

    threading.Thread(target=run, daemon=True).start()
    return srv.getsockname()[1], got


def test_starting_up_is_not_healthy():
    """An answer of 57P03 (the database system is starting up) is reported unhealthy with the server's words."""
    port, _ = _serve(_error("57P03", "the database system is starting up"))
    ok, detail = postgres_ok("127.0.0.1", port)
    assert not ok
    assert "starting up" in detail


def test_authentication_request_is_healthy():
    """An authentication request (SCRAM) means sessions are accepted; the probe sends a protocol 3.0 startup."""
    port, got = _serve(b"R" + struct.pack("!ii", 23, 10) + b"SCRAM-SHA-256\0\0")
    ok, detail = postgres_ok("127.0.0.1", port)
    assert ok, detail
    assert struct.unpack("!i", got[0][:4])[0] == 196608
    assert b"user\0postgres\0" in got[0]


@pytest.mark.parametrize("code", ["28P01", "28000", "3D000"])
def test_other_errors_mean_sessions_are_accepted(code):
    """A refusal of this user or database is still a server that accepts sessions (pg_isready's rule)."""
    port, _ = _serve(_error(code, "no"))
    assert postgres_ok("127.0.0.1", port)[0]


def test_hang_up_and_closed_port_are_unhealthy():
    """A server that closes at once, or nothing listening, is unhealthy."""
    port, _ = _serve(None)
    assert not postgres_ok("127.0.0.1", port)[0]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    ok, detail = postgres_ok("127.0.0.1", free)
    assert not ok and str(free) in detail
