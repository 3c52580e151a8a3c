"""Which state folder owns the host-wide parts (the `inet chaos` table, the `chaos/*` cgroups).

Those names are fixed, so only one stack can hold them; `up` claims them for its state
folder and `down` releases them. `down` and `panic` from another state folder leave them
alone while the owner's supervisor is alive, so one stack never tears down another.
"""
from __future__ import annotations

import os
from pathlib import Path

from chaoslib import config
from chaoslib.config import Settings
from chaoslib.errors import PrerequisiteError
from chaoslib.native.supervisor import Supervisor

OWNER_FILE = config.owner_file()


def owner() -> Path | None:
    """The state folder that claimed the host, or None."""
    try:
        text = OWNER_FILE.read_text().strip()
    except FileNotFoundError:
        return None
    return Path(text) if text else None


def _alive(state_dir: Path) -> bool:
    s = Settings(state_dir=state_dir)
    return Supervisor(s.supervisor_socket, s.config_dir / "supervisord.conf").running()


def owns_host(settings: Settings) -> bool:
    """True when `settings`' stack may touch the host-wide parts (no live stack elsewhere holds them)."""
    held_by = owner()
    return held_by is None or held_by == settings.state_dir.resolve() or not _alive(held_by)


def claim(settings: Settings) -> None:
    """Claim the host for this state folder; refuses while another live stack holds it."""
    held_by = owner()
    mine = settings.state_dir.resolve()
    if held_by is not None and held_by != mine and _alive(held_by):
        raise PrerequisiteError(f"another Chaos Control stack (state folder {held_by}) is running",
                                hint=f"stop it first: `chaosctl --state-dir {held_by} down`")
    OWNER_FILE.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = OWNER_FILE.with_suffix(f".tmp{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(str(mine))
    os.replace(tmp, OWNER_FILE)


def release(settings: Settings) -> None:
    """Give the host back (only if this state folder holds it)."""
    if owner() == settings.state_dir.resolve():
        OWNER_FILE.unlink(missing_ok=True)
