"""A supervisord event listener that counts automatic restarts per process.

supervisord restarts a crashed process but keeps no count. This listener sees every
PROCESS_STATE_STARTING event; one that comes from EXITED or BACKOFF is a restart the
supervisor made on its own (a crash, an OOM kill, a failed boot). Counts are kept in a
JSON file, written atomically, that `status` and the saturation exporter read.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

AUTOMATIC = {"EXITED", "BACKOFF"}


def load(path: Path) -> dict[str, dict]:
    """The counts file: {process: {"restarts": n, "last": unix time}}."""
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return {}


def save(path: Path, counts: dict[str, dict]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(counts, sort_keys=True))
    os.replace(tmp, path)


def parse(line: str) -> dict[str, str]:
    return dict(token.split(":", 1) for token in line.split() if ":" in token)


def record(counts: dict[str, dict], event: str, payload: dict[str, str], now: float) -> bool:
    """Update counts for one event; True when something changed."""
    if event != "PROCESS_STATE_STARTING":
        return False
    name = payload.get("processname", "")
    if payload.get("from_state") not in AUTOMATIC or not name:
        return False
    entry = counts.setdefault(name, {"restarts": 0, "last": 0.0})
    entry["restarts"] += 1
    entry["last"] = now
    return True


def main() -> None:
    path = Path(sys.argv[1])
    counts = load(path)
    stdin, stdout = sys.stdin, sys.stdout
    while True:
        stdout.write("READY\n")
        stdout.flush()
        header = parse(stdin.readline())
        body = stdin.read(int(header.get("len", "0")))
        payload_line = body.split("\n", 1)[0]
        if record(counts, header.get("eventname", ""), parse(payload_line), time.time()):
            save(path, counts)
        stdout.write("RESULT 2\nOK")
        stdout.flush()


if __name__ == "__main__":
    main()
