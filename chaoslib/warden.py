"""The warden: a process under the supervisor that undoes faults whose time to live ran out.

It holds no state of its own: the fault registry on disk says what is in force and until
when, so the warden can be killed and restarted at any moment.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from .config import Settings, fast_mode


def log(level: str, message: str, **fields) -> None:
    print(json.dumps({"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "level": level,
                      "logger": "warden", "message": message, **fields}), flush=True)


def sweep(settings: Settings) -> tuple[list[str], list[str]]:
    """Heal every expired fault once; return (ids healed, failures)."""
    from .injector import heal_expired
    from .stack import Stack

    return heal_expired(Stack(settings=settings))


def main() -> None:
    parser = argparse.ArgumentParser(prog="chaoslib.warden")
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--interval", type=float, default=1.0 if fast_mode() else 2.0)
    args = parser.parse_args()
    settings = Settings(state_dir=Path(args.state_dir))
    log("info", "warden started", interval=args.interval)
    while True:
        try:
            healed, failed = sweep(settings)
            for fault_id in healed:
                log("warning", "fault expired and was undone", fault=fault_id)
            for failure in failed:
                log("error", "an expired fault could not be undone", failure=failure)
        except Exception as e:  # keep watching: one failed sweep must not end the warden
            log("error", f"sweep failed: {e}", exc=type(e).__name__)
        time.sleep(args.interval)


if __name__ == "__main__":
    main()
