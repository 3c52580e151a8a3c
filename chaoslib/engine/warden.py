"""The warden: a process that undoes faults whose time to live ran out.

The native stack runs it under its supervisor. A backend without a warden of its own
(`Features.warden_process`: docker) gets a detached one from the injector: it starts with the
first fault and exits once no fault is active. It holds no state of its own: the fault
registry on disk says what is in force and until when, so it can be killed and restarted at
any moment.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from chaoslib.config import Settings, fast_mode
from chaoslib.engine.detached import PIDFILE
from chaoslib.engine.registry import Registry
from chaoslib.stack import Stack


def log(level: str, message: str, **fields) -> None:
    print(json.dumps({"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "level": level,
                      "logger": "warden", "message": message, **fields}), flush=True)


def sweep(settings: Settings, backend: str | None = None) -> tuple[list[str], list[str]]:
    """Heal every expired fault once; return (ids healed, failures).

    The registry is read first: until a fault is due, the injector and the backends (pandas
    among them) stay unloaded, so the warden that runs for the whole game stays small.
    """
    now = time.time()
    if not any(r.expired(now) and not r.being_injected() for r in Registry(settings.faults_file).active()):
        return [], []
    # Deferred on purpose: the injector loads the backends and pandas (57 MiB), needed only once a fault is due.
    from chaoslib.engine.injector import heal_expired

    return heal_expired(Stack(backend, settings=settings))


def idle(settings: Settings) -> bool:
    """No fault is active (nor being injected): a detached warden has nothing left to watch."""
    return not Registry(settings.faults_file).active()


def main() -> None:
    parser = argparse.ArgumentParser(prog="chaoslib.engine.warden")
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--backend", default=None, help="the backend to load (default: CHAOSCTL_BACKEND, else local)")
    parser.add_argument("--interval", type=float, default=1.0 if fast_mode() else 2.0)
    parser.add_argument("--exit-when-idle", action="store_true", help="exit once no fault is active (detached)")
    args = parser.parse_args()
    settings = Settings(state_dir=Path(args.state_dir))
    log("info", "warden started", interval=args.interval, backend=args.backend or "default")
    while True:
        try:
            healed, failed = sweep(settings, args.backend)
            for fault_id in healed:
                log("warning", "fault expired and was undone", fault=fault_id)
            for failure in failed:
                log("error", "an expired fault could not be undone", failure=failure)
            if args.exit_when_idle and idle(settings):
                log("info", "no fault is active: the warden exits")
                (settings.state_dir / PIDFILE).unlink(missing_ok=True)
                return
        except Exception as e:  # keep watching: one failed sweep must not end the warden
            log("error", f"sweep failed: {e}", exc=type(e).__name__)
        time.sleep(args.interval)


if __name__ == "__main__":
    main()
