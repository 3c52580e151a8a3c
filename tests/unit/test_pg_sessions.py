"""native.pg_sessions when PostgreSQL is gone: a server killed with -9 leaves its socket file, which refuses
connections; the holders' sweep then finds no session to end instead of failing (panic from any state)."""
from __future__ import annotations

import socket
from pathlib import Path

from chaoslib import config
from chaoslib.native import pg_sessions


def _socket_file(socket_dir: Path, *, listening: bool) -> socket.socket:
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(socket_dir / f".s.PGSQL.{config.POSTGRES.port}"))
    if listening:
        server.listen(1)
    return server


def test_a_socket_left_by_a_killed_server_does_not_answer(tmp_path):
    stale = _socket_file(tmp_path, listening=False)  # bound, never listening: as a killed server leaves it
    try:
        assert (tmp_path / f".s.PGSQL.{config.POSTGRES.port}").exists()
        assert not pg_sessions.answers(tmp_path)
        run_dir = tmp_path / "run"
        (run_dir / "db-holders").mkdir(parents=True)
        (run_dir / "db-holders" / "f-dead01.pid").write_text("999999999\n")
        # The holder's files are found and removed; no psql is tried against the dead server.
        assert pg_sessions.holders(run_dir, tmp_path) == ["f-dead01"]
        pg_sessions.stop_holder(run_dir, tmp_path, "f-dead01")
        assert pg_sessions.holders(run_dir, tmp_path) == [] and not (run_dir / "db-holders").exists()
    finally:
        stale.close()


def test_a_listening_server_answers(tmp_path):
    server = _socket_file(tmp_path, listening=True)  # the control: the probe sees a live socket
    try:
        assert pg_sessions.answers(tmp_path)
    finally:
        server.close()
    assert not pg_sessions.answers(tmp_path / "nowhere")
