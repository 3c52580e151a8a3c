"""The native stack's PostgreSQL: its own cluster, initdb on first run, roles and database."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from .. import config
from ..errors import PrerequisiteError, ServiceError

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
            "-c", f"unix_socket_directories={socket_dir}", "-c", "shared_buffers=32MB",
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
           "--auth-local=trust", "--auth-host=scram-sha-256", "--encoding=UTF8", "--locale=C.UTF-8",
           "--username=postgres", "--no-instructions"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ServiceError("postgres", f"initdb failed: {proc.stderr.strip().splitlines()[-1:]}",
                           log_tail=proc.stderr)
    with open(data_dir / "pg_hba.conf", "a") as f:
        f.write("\n# Chaos Control: the stack's services connect over loopback with passwords.\n"
                "host all all 127.0.0.0/8 scram-sha-256\n")
    return True


BOOTSTRAP_SQL = f"""
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{config.DB_USER}') THEN
    CREATE ROLE {config.DB_USER} LOGIN PASSWORD '{config.DB_PASSWORD}';
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'exporter') THEN
    CREATE ROLE exporter LOGIN PASSWORD 'exporter';
    GRANT pg_monitor TO exporter;
  END IF;
END
$$;
"""


def bootstrap(socket_dir: Path) -> None:
    """Create the app's role and database and the exporter's role (idempotent)."""
    psql = [str(bin_dir().parent / "bin" / "psql") if (bin_dir() / "psql").exists() else "psql",
            "-h", str(socket_dir), "-p", str(config.POSTGRES.port), "-U", "postgres", "-v", "ON_ERROR_STOP=1",
            "-qAt"]
    run = ["runuser", "-u", config.POSTGRES.user, "--", *psql]
    steps = [
        ["-d", "postgres", "-c", BOOTSTRAP_SQL],
    ]
    for args in steps:
        proc = subprocess.run(run + args, capture_output=True, text=True)
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


def exporter_dsn() -> str:
    """The postgres-exporter's connection string (its own monitoring role)."""
    return (f"postgresql://exporter:exporter@{config.POSTGRES.host}:{config.POSTGRES.port}/"
            f"{config.DB_NAME}?sslmode=disable")
