"""The native database's sessions: read pg_stat_activity, end sessions, and start or end a fault's holder.

Reads and ends go through psql as the superuser over the cluster's 0700 socket (its reserved
slots: they work while a fault fills every other one). A holder (native/db_holder.py) runs as a
process of its own, logged in as the app's role; its pid is kept in `db-holders/<key>.pid` in the
run folder, and found again by its command line, never by a name alone.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from chaoslib import config
from chaoslib.errors import ServiceError
from chaoslib.native import postgres
from chaoslib.native.holders import DbSession, holder_key, holder_name

MODULE = "chaoslib.native.db_holder"
#: Runs one statement as the superuser; its rows as lists of strings (psql -qAt -F SEP).
RunSql = Callable[[str], list[list[str]]]
#: How long ending sessions waits for them to leave pg_stat_activity.
TERMINATE_WAIT_S = 5.0
#: psql's field separator (-F): a character no column holds.
SEP = "\x1f"
ACTIVITY_SQL = f"""
SELECT pid, coalesce(application_name, ''), coalesce(usename, ''), coalesce(state, ''),
       coalesce(round(extract(epoch FROM now() - xact_start)::numeric, 1), 0),
       coalesce(wait_event_type || ':' || wait_event, ''), array_to_string(pg_blocking_pids(pid), ','),
       btrim(replace(regexp_replace(left(coalesce(query, ''), 200), '\\s+', ' ', 'g'), '{SEP}', ' '))
FROM pg_stat_activity WHERE datname = '{config.DB_NAME}' AND backend_type = 'client backend'
  AND pid <> pg_backend_pid()
ORDER BY xact_start NULLS LAST, pid
"""
MAX_CONNECTIONS_SQL = ("SELECT current_setting('max_connections')::int"
                       " - current_setting('superuser_reserved_connections')::int")


def psql(socket_dir: Path, sql: str) -> list[list[str]]:
    """Run one statement as the superuser; its rows as lists of strings."""
    run = ["runuser", "-u", config.POSTGRES.user, "--", postgres.psql_path(), "-h", str(socket_dir),
           "-p", str(config.POSTGRES.port), "-U", "postgres", "-d", config.DB_NAME, "-v", "ON_ERROR_STOP=1",
           "-qAt", "-F", SEP, "-c", sql]
    try:
        proc = subprocess.run(run, capture_output=True, text=True, timeout=15)
    except subprocess.TimeoutExpired as e:
        raise ServiceError("postgres", "psql did not answer in 15 s") from e
    if proc.returncode != 0:
        raise ServiceError("postgres", f"psql failed: {proc.stderr.strip().splitlines()[-1:] or proc.returncode}")
    return [line.split(SEP) for line in proc.stdout.splitlines() if line]


def sessions(rows: list[list[str]]) -> list[DbSession]:
    """ACTIVITY_SQL's rows as sessions (shared with the docker backend, which runs it by exec)."""
    return [DbSession(pid=int(r[0]), application_name=r[1], usename=r[2], state=r[3], xact_age_s=float(r[4]),
                      wait_event=r[5], blocked_by=tuple(int(p) for p in r[6].split(",") if p), query=r[7])
            for r in rows]


def activity(socket_dir: Path) -> list[DbSession]:
    """pg_stat_activity of the app's database, the oldest transaction first."""
    return sessions(psql(socket_dir, ACTIVITY_SQL))


def max_connections(socket_dir: Path) -> int:
    """Connection slots a client other than a superuser may take."""
    return int(psql(socket_dir, MAX_CONNECTIONS_SQL)[0][0])


def terminate(socket_dir: Path, *, pid: int | None = None, application_name: str | None = None) -> list[int]:
    """pg_terminate_backend by pid, or every session of an application; the pids ended."""
    return terminate_with(lambda sql: psql(socket_dir, sql), pid=pid, application_name=application_name)


def terminate_with(run: RunSql, *, pid: int | None = None, application_name: str | None = None) -> list[int]:
    """pg_terminate_backend through `run` (the superuser's psql, wherever it runs); the pids ended, once gone."""
    where = f"pid = {int(pid)}" if pid is not None else \
        "application_name = '" + str(application_name).replace("'", "''") + "'"
    # The chosen pids first, behind a fence: a planner may test pg_terminate_backend before the other quals.
    rows = run(f"WITH chosen AS MATERIALIZED (SELECT pid FROM pg_stat_activity WHERE {where} "
                            f"AND backend_type = 'client backend' AND pid <> pg_backend_pid()) "
                            f"SELECT pid FROM chosen WHERE pg_terminate_backend(pid)")
    ended = [int(r[0]) for r in rows]
    # pg_terminate_backend only signals: wait (a little) until the sessions are gone, so a caller that
    # looks right after sees them ended.
    deadline = time.monotonic() + TERMINATE_WAIT_S
    while ended and time.monotonic() < deadline:
        pids = ",".join(map(str, ended))
        if not run(f"SELECT pid FROM pg_stat_activity WHERE pid IN ({pids})"):
            break
        time.sleep(0.1)
    return ended


# -- holders -------------------------------------------------------------------------------------
def _pidfile(run_dir: Path, key: str) -> Path:
    return run_dir / "db-holders" / f"{key}.pid"


def holder_pid(run_dir: Path, key: str) -> int | None:
    """The pid of the holder of `key` when it is alive (its command line names the module and the key)."""
    try:
        pid = int(_pidfile(run_dir, key).read_text().split()[0])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError, IndexError):
        return None
    return pid if MODULE.encode() in cmdline and key.encode() in cmdline else None


def start_holder(run_dir: Path, password: str, *, key: str, kind: str, amount: int) -> int:
    """Start the holder of `key`; its pid (its log is db-holders/<key>.log)."""
    folder = run_dir / "db-holders"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "PGHOST": config.POSTGRES.host,
           "PGPORT": str(config.POSTGRES.port), "PGDATABASE": config.DB_NAME, "PGUSER": config.DB_USER,
           "PGPASSWORD": password, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    with open(folder / f"{key}.log", "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", MODULE, "--key", key, "--kind", kind, "--amount", str(amount),
                                 "--name", holder_name(key, kind)], env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    _pidfile(run_dir, key).write_text(f"{proc.pid}\n")
    return proc.pid


def wait_holding(socket_dir: Path, key: str, kind: str, *, pid: int, timeout: float) -> int:
    """Wait until the holder's sessions are in the database (the idle one: until it stops growing); their count."""
    return wait_sessions(lambda: activity(socket_dir), lambda: Path(f"/proc/{pid}").exists(), key, kind,
                         timeout=timeout)


def wait_sessions(read: Callable[[], list[DbSession]], alive: Callable[[], bool], key: str, kind: str, *,
                  timeout: float) -> int:
    """wait_holding over any reader of the sessions and any liveness check of the holder (docker's too)."""
    name, deadline, last, steady = holder_name(key, kind), time.monotonic() + timeout, -1, 0
    while time.monotonic() < deadline:
        n = sum(1 for r in read() if r.application_name == name)
        if n and (kind == "locks" or n == last):
            steady += 1
            if kind == "locks" or steady >= 3:
                return n
        else:
            steady = 0
        if not alive():
            break
        last = n
        time.sleep(0.5)
    return last if last > 0 else 0


def answers(socket_dir: Path) -> bool:
    """PostgreSQL listens on its socket: a server killed with -9 leaves the file, which then refuses connections
    (and a database that is down has no session to end)."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(2)
    try:
        probe.connect(str(socket_dir / f".s.PGSQL.{config.POSTGRES.port}"))
        return True
    except OSError:
        return False
    finally:
        probe.close()


def stop_holder(run_dir: Path, socket_dir: Path, key: str) -> list[str]:
    """End the holder's process (TERM, then KILL), then its sessions by name, then its files; what was done."""
    done: list[str] = []
    pid = holder_pid(run_dir, key)
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 3
        while holder_pid(run_dir, key) == pid and time.monotonic() < deadline:
            time.sleep(0.05)
        if holder_pid(run_dir, key) == pid:
            os.kill(pid, signal.SIGKILL)
        done.append(f"stopped the database holder of {key} (pid {pid})")
    if answers(socket_dir):  # a database that is down has no session
        for kind in ("locks", "idle"):
            ended = terminate(socket_dir, application_name=holder_name(key, kind))
            if ended:
                done.append(f"ended {len(ended)} session(s) of {holder_name(key, kind)}")
    for suffix in ("pid", "log"):
        (run_dir / "db-holders" / f"{key}.{suffix}").unlink(missing_ok=True)
    try:
        (run_dir / "db-holders").rmdir()
    except OSError:
        pass  # another holder's files are still there (or the folder is already gone)
    return done


def holders(run_dir: Path, socket_dir: Path) -> list[str]:
    """The keys of every holder with a pid file, a live process or a session left."""
    keys = {p.stem for p in (run_dir / "db-holders").glob("*.*")} if (run_dir / "db-holders").exists() else set()
    if answers(socket_dir):
        keys |= {k for r in activity(socket_dir) if (k := holder_key(r.application_name))}
    return sorted(keys)
