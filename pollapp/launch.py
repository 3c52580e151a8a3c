"""Start a replica's server on the release its release file names: `python -m pollapp.launch gunicorn ...`.

A container cannot change its own environment, and recreating it to roll a release would drop
what the engine keeps on it (a fault's limits, its writable layer). So the image starts through
this launcher: when APP_RELEASE_FILE names a file that exists (the docker backend writes it, as
root, before it restarts the container), its variables replace the environment's release and
knobs (pollapp/releases.py), then the server is exec'd with that environment: gunicorn's master,
its workers, settings.RELEASE and every log line see the same release, as under supervisord.
No file (or no APP_RELEASE_FILE) runs the environment's release: releases.CURRENT in a fresh container.
"""
from __future__ import annotations

import json
import os
import sys
import time

from pollapp import releases


def environment(env: dict[str, str]) -> dict[str, str]:
    """`env` with its release file applied (unchanged when it names none, or none exists)."""
    path = env.get(releases.FILE_ENV)
    if not path:
        return env
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return env
    return releases.with_file(env, text)


def main(argv: list[str]) -> None:
    if not argv:
        raise SystemExit("usage: python -m pollapp.launch COMMAND [ARGS...]")
    try:
        env = environment(dict(os.environ))
    except (OSError, releases.UnknownRelease) as e:
        why = f"cannot start: release file {os.environ.get(releases.FILE_ENV)}: {getattr(e, 'strerror', None) or e}"
        line = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "level": "CRITICAL",
                "logger": "pollapp.launch", "message": why, "replica": os.environ.get("REPLICA_NAME", "pollapp")}
        print(json.dumps(line), flush=True)
        raise SystemExit(1) from None
    os.execvpe(argv[0], argv, env)


if __name__ == "__main__":
    main(sys.argv[1:])
