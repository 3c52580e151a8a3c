"""System users the native stack runs its services as (created once, never removed)."""
from __future__ import annotations

import grp
import pwd
import subprocess

from chaoslib.errors import PrerequisiteError


def ensure_user(name: str) -> tuple[int, int]:
    """Create a system user without a login shell if missing; return (uid, gid)."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        try:
            subprocess.run(
                ["useradd", "--system", "--user-group", "--no-create-home",
                 "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", name],
                check=True, capture_output=True, text=True)
        except FileNotFoundError as e:
            raise PrerequisiteError("useradd not found", hint="install the 'passwd' package") from e
        except subprocess.CalledProcessError as e:
            raise PrerequisiteError(f"cannot create user {name}: {e.stderr.strip()}",
                                    hint="run chaosctl as root") from e
        entry = pwd.getpwnam(name)
    return entry.pw_uid, entry.pw_gid


def uid_of(name: str) -> int:
    """The uid of an existing user."""
    return pwd.getpwnam(name).pw_uid


#: The group of every service user: the only one (besides root) that may enter the state folder.
STACK_GROUP = "chaos"


def ensure_group_member(user: str, group: str = STACK_GROUP) -> int:
    """Create the system group if missing, add `user` to it (idempotent); the group's gid."""
    try:
        entry = grp.getgrnam(group)
    except KeyError:
        try:
            subprocess.run(["groupadd", "--system", group], check=True, capture_output=True, text=True)
        except (FileNotFoundError, subprocess.CalledProcessError) as e:
            raise PrerequisiteError(f"cannot create group {group}: {getattr(e, 'stderr', e)}",
                                    hint="run chaosctl as root") from e
        entry = grp.getgrnam(group)
    if user not in entry.gr_mem:
        try:
            subprocess.run(["usermod", "-a", "-G", group, user], check=True, capture_output=True, text=True)
        except (FileNotFoundError, subprocess.CalledProcessError) as e:
            raise PrerequisiteError(f"cannot add {user} to group {group}: {getattr(e, 'stderr', e)}",
                                    hint="run chaosctl as root") from e
    return entry.gr_gid
