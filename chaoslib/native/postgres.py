"""The native stack's PostgreSQL: its own cluster, initdb on first run, roles and database."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from chaoslib import config
from chaoslib.errors import PrerequisiteError, ServiceError

PG_VERSIONS = ("17", "16", "15", "14", "13")


def bin_dir() -> Path:
    """The directory of PostgreSQL's server binaries (postgres, initdb)."""
    for version in PG_VERSIONS:
        d = Path(f"/usr/lib/postgresql/{version}/bin")
        if (d / "postgres").exists() and (d / "initdb").exists():
            return d
    found = shutil.which("postgres")
    if found and shutil.which("initdb"):
        return Path(found).resolve().parent
    raise PrerequisiteError("PostgreSQL server binaries not found",
                            hint="apt-get install postgresql (or run `make up`, which installs it)")


def command(data_dir: Path, socket_dir: Path) -> list[str]:
    """The postgres server command line for the native stack."""
    return [str(bin_dir() / "postgres"), "-D", str(data_dir),
            "-c", f"listen_addresses={config.POSTGRES.host}", "-c", f"port={config.POSTGRES.port}",
            "-c", f"unix_socket_directories={socket_dir}", "-c", "unix_socket_permissions=0700",
            # Sized for a small box: a database of a few MiB, at most 3 x 2 x 4 app threads
            # with a connection each, the exporter and migrations; no parallel query, no
            # replication, so no worker processes idling.
            "-c", "shared_buffers=16MB", "-c", "work_mem=2MB", "-c", "maintenance_work_mem=16MB",
            "-c", "max_worker_processes=2", "-c", "max_parallel_workers_per_gather=0",
            "-c", "max_logical_replication_workers=0", "-c", "max_wal_senders=0", "-c", "wal_level=minimal",
            "-c", "max_connections=100", "-c", "log_min_messages=warning",
            "-c", "log_line_prefix=%m [%p] %u@%d ", "-c", "fsync=on"]


def initdb(data_dir: Path, *, uid: int, gid: int) -> bool:
    """Create the cluster if it does not exist yet; True when it was created now."""
    if (data_dir / "PG_VERSION").exists():
        return False
    data_dir.mkdir(parents=True, exist_ok=True)
    os.chown(data_dir, uid, gid)
    os.chmod(data_dir, 0o700)
    cmd = ["runuser", "-u", config.POSTGRES.user, "--", str(bin_dir() / "initdb"), "-D", str(data_dir),
           "--auth-local=peer", "--auth-host=scram-sha-256", "--encoding=UTF8", "--locale=C.UTF-8",
           "--username=postgres", "--no-instructions"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ServiceError("postgres", f"initdb failed: {proc.stderr.strip().splitlines()[-1:]}",
                           log_tail=proc.stderr)
    write_hba(data_dir, uid=uid, gid=gid)
    return True


HBA = """# Chaos Control (rewritten at every `up`): no trust anywhere.
# The superuser only over the 0700 socket folder, and only for the OS user chaosdb (peer);
# the services over loopback with their generated passwords (scram-sha-256).
local all postgres peer map=chaos
host all all 127.0.0.0/8 scram-sha-256
"""
IDENT = "chaos chaosdb postgres\n"


def write_hba(data_dir: Path, *, uid: int, gid: int) -> None:
    """Write pg_hba.conf and pg_ident.conf (0600, the cluster's user): also fixes an old trust cluster."""
    for name, text in (("pg_hba.conf", HBA), ("pg_ident.conf", IDENT)):
        path = data_dir / name
        tmp = data_dir / f".{name}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chown(tmp, uid, gid)
        os.replace(tmp, path)


def _bootstrap_sql(passwords: dict[str, str]) -> str:
    """Create or update the roles; passwords are hex (checked), so inlining them is safe."""
    for value in passwords.values():
        if not value or any(c not in "0123456789abcdef" for c in value):
            raise ServiceError("postgres", "a generated password is not hex", hint="delete .chaos/secrets and retry")
    app, exporter = passwords[config.DB_USER], passwords["exporter"]
    return f"""
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{config.DB_USER}') THEN
    CREATE ROLE {config.DB_USER} LOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'exporter') THEN
    CREATE ROLE exporter LOGIN;
  END IF;
END
$$;
SET password_encryption = 'scram-sha-256';
ALTER ROLE {config.DB_USER} WITH LOGIN PASSWORD '{app}';
ALTER ROLE exporter WITH LOGIN PASSWORD '{exporter}';
GRANT pg_monitor TO exporter;
"""


def psql_path() -> str:
    """PostgreSQL's psql beside its server binaries, else the one on PATH."""
    return str(bin_dir() / "psql") if (bin_dir() / "psql").exists() else "psql"


def bootstrap(socket_dir: Path, passwords: dict[str, str]) -> None:
    """Create the app's role and database and the exporter's role, with their passwords (idempotent).

    The SQL goes on psql's standard input: a password on its command line would be readable
    by every local user in /proc/PID/cmdline.
    """
    psql = [psql_path(), "-h", str(socket_dir), "-p", str(config.POSTGRES.port), "-U", "postgres",
            "-v", "ON_ERROR_STOP=1", "-qAt"]
    run = ["runuser", "-u", config.POSTGRES.user, "--", *psql]
    proc = subprocess.run(run + ["-d", "postgres", "-f", "-"], input=_bootstrap_sql(passwords),
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise ServiceError("postgres", f"bootstrap failed: {proc.stderr.strip()}")
    exists = subprocess.run(run + ["-d", "postgres", "-c",
                                   f"SELECT 1 FROM pg_database WHERE datname = '{config.DB_NAME}'"],
                            capture_output=True, text=True)
    if exists.stdout.strip() != "1":
        proc = subprocess.run(run + ["-d", "postgres", "-c",
                                     f"CREATE DATABASE {config.DB_NAME} OWNER {config.DB_USER}"],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise ServiceError("postgres", f"cannot create database: {proc.stderr.strip()}")
