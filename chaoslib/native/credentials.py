"""The native stack's generated passwords, each in its own 0600 file under `secrets/`.

No password of the stack is fixed in the code or written where another local user can read
it: PostgreSQL's roles get a random password at the first `up`, kept in the state folder's
0700 `secrets/` folder; the services receive them in their environment (readable by their
own user and root only), never on a command line.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from chaoslib import config
from chaoslib.config import Settings

#: The database roles the stack's services log in as.
ROLES = (config.DB_USER, "exporter")


def secrets_dir(settings: Settings) -> Path:
    d = settings.state_dir / "secrets"
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(d, 0o700)
    return d


def password(settings: Settings, role: str) -> str:
    """The role's password, generated once (hex: safe in a URL and in SQL) and kept 0600."""
    path = secrets_dir(settings) / f"{role}.password"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    value = secrets.token_hex(24)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(value)
    return value


def database_url(settings: Settings) -> str:
    """The URL the app replicas use to reach PostgreSQL (with the generated password)."""
    return (f"postgres://{config.DB_USER}:{password(settings, config.DB_USER)}@{config.POSTGRES.host}:"
            f"{config.POSTGRES.port}/{config.DB_NAME}")


def exporter_dsn(settings: Settings) -> str:
    """The postgres-exporter's connection string (its own monitoring role)."""
    return (f"postgresql://exporter:{password(settings, 'exporter')}@{config.POSTGRES.host}:"
            f"{config.POSTGRES.port}/{config.DB_NAME}?sslmode=disable")
