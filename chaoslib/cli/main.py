"""`chaosctl`: start, inspect and stop the stack; inject, list and undo faults; play.

Every error chaoslib raises on purpose becomes one line on stderr and exit status 2.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Callable

from chaoslib.backends import BACKENDS
from chaoslib.config import DEFAULT_BACKEND
from chaoslib.errors import ChaosError
from chaoslib.guard import check_environment


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _human_bytes(n: int | None) -> str:
    if n is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def _uptime(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(seconds)
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


def cmd_up(args: argparse.Namespace) -> int:
    from chaoslib.cli.args import stack_of

    stack = stack_of(args)
    stack.up(replicas=args.replicas, progress=_progress)
    urls = stack.backend.endpoints()
    print(f"stack is up: the app is at {urls.get('app', '-')}/  (Prometheus {urls.get('prometheus', '-')})")
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    from chaoslib.cli.args import stack_of

    stack_of(args).down(purge=args.purge, progress=_progress)
    print("stack is down" + (" and its data removed" if args.purge else ""))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from chaoslib.cli.args import stack_of

    services = stack_of(args).status()
    if args.json:
        print(json.dumps({"up": bool(services), "services": [s.to_dict() for s in services]}, indent=2))
        return 0
    if not services:
        print("the stack is not running (start it with `chaosctl up`)")
        return 1
    print(f"{'SERVICE':<20}{'STATE':<10}{'HEALTH':<10}{'ADDRESS':<17}{'PID':>7}{'UPTIME':>9}{'RESTARTS':>9}"
          f"  {'CPU s':>7}{'MEMORY':>11}{'DISK':>20}")
    for s in services:
        disk = "-" if s.disk_used_bytes is None else f"{_human_bytes(s.disk_used_bytes)}/{_human_bytes(s.disk_size_bytes)}"
        cpu = "-" if s.cpu_seconds is None else f"{s.cpu_seconds:.1f}"
        print(f"{s.name:<20}{s.state:<10}{'ok' if s.healthy else 'FAIL':<10}{s.address:<17}{s.pid or '-':>7}"
              f"{_uptime(s.uptime_s):>9}{s.restarts:>9}  {cpu:>7}{_human_bytes(s.memory_bytes):>11}{disk:>20}")
    unhealthy = [s.name for s in services if not s.healthy]
    return 1 if unhealthy else 0


def cmd_lab(args: argparse.Namespace) -> int:
    from chaoslib.cli.args import settings_of
    from chaoslib.services.lab import start_lab

    url = start_lab(settings_of(args), port=args.port, progress=_progress)
    print(f"JupyterLab: {url}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chaosctl", description="Chaos Control: a game day in a box.")
    parser.add_argument("--backend", choices=list(BACKENDS), default=None,
                        help=f"where the stack runs (default: $CHAOSCTL_BACKEND or {DEFAULT_BACKEND})")
    parser.add_argument("--state-dir", default=None, help="run state directory (default .chaos/)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("up", help="start the stack and wait until every service is healthy")
    p.add_argument("--replicas", type=int, default=None, help="app replicas (default 3)")
    p.add_argument("--rps", type=float, default=None, help="load generator requests per second (default 15)")
    p.set_defaults(func=cmd_up)

    p = sub.add_parser("down", help="stop everything and leave nothing behind")
    p.add_argument("--purge", action="store_true", help="also remove the data (database, metrics, logs)")
    p.set_defaults(func=cmd_down)

    p = sub.add_parser("status", help="every service's state, health, restarts and saturation")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("lab", help="start JupyterLab on notebooks/ (localhost, with a token)")
    p.add_argument("--port", type=int, default=8888)
    p.set_defaults(func=cmd_lab)

    for register in _extensions():
        register(sub)
    # `chaosctl status --backend docker` as well as `chaosctl --backend docker status`.
    for command in sub.choices.values():
        try:
            command.add_argument("--backend", choices=list(BACKENDS), default=argparse.SUPPRESS,
                                 help=f"where the stack runs (default: $CHAOSCTL_BACKEND or {DEFAULT_BACKEND})")
        except argparse.ArgumentError:  # the command defines its own --backend
            pass
    return parser


def _extensions() -> list[Callable]:
    """Sub-commands defined beside the features they drive (faults, game, benchmarks)."""
    found = []
    for module in ("chaoslib.cli.faults", "chaoslib.cli.game", "chaoslib.cli.bench"):
        try:
            mod = __import__(module, fromlist=["register"])
        except ModuleNotFoundError as e:
            if e.name != module:
                raise
            continue
        found.append(mod.register)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        check_environment()
        return args.func(args)
    except ChaosError as e:
        print(f"chaosctl: error: {e.one_line()}", file=sys.stderr)
        tail = getattr(e, "log_tail", "")
        if tail:
            print(f"--- last lines of {getattr(e, 'service', 'the service')}'s log ---", file=sys.stderr)
            print(tail, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("chaosctl: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
