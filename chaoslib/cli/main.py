"""`chaosctl`: start, inspect and stop the stack; inject, list and undo faults; play a whole game.

Exit status: 0 success; 1 a failed outcome (validation failed, no page yet, the stack down or a
service unhealthy for `status`); 2 a usage error: every error chaoslib raises on purpose (a
ChaosError) becomes one line on stderr and exit status 2, as argparse's own errors do.
"""
from __future__ import annotations

import argparse
import json
import sys

from chaoslib import config
from chaoslib.backends import BACKENDS
from chaoslib.cli import bench, board, export, faults, game, mcp
from chaoslib.cli.args import settings_of, stack_of
from chaoslib.cli.output import progress
from chaoslib.config import DEFAULT_BACKEND
from chaoslib.errors import ChaosError
from chaoslib.guard import check_environment
from chaoslib.services.lab import start_lab


def _human_bytes(n: float | None) -> str:
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
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s"


#: What a player opens in a browser, in this order (the rest of a backend's endpoints are for programs).
BROWSER = ("app", "grafana", "kibana", "prometheus", "alertmanager", "pager", "locust")


def browser_links(endpoints: dict[str, str]) -> dict[str, str]:
    """The endpoints a player opens, as their browser reaches them (the forwarded port in a workspace)."""
    return {name: config.public_url(name, endpoints[name]) for name in BROWSER if endpoints.get(name)}


def cmd_up(args: argparse.Namespace) -> int:
    stack = stack_of(args)
    stack.up(replicas=args.replicas, progress=progress)
    urls = browser_links(stack.backend.endpoints())
    print(f"stack is up: the app is at {urls.get('app', '-')}/  (Prometheus {urls.get('prometheus', '-')})")
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    stack_of(args).down(purge=args.purge, progress=progress)
    print("stack is down" + (" and its data removed" if args.purge else ""))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """Exit 1 when the stack is down or a service is unhealthy, with --json too."""
    stack = stack_of(args)
    services = stack.status()
    links = browser_links(stack.backend.endpoints()) if services else {}
    if args.json:
        print(json.dumps({"up": bool(services), "services": [s.to_dict() for s in services], "links": links},
                         indent=2))
        return 0 if services and all(s.healthy for s in services) else 1
    if not services:
        print("the stack is not running (start it with `chaosctl up`)")
        return 1
    print(f"{'SERVICE':<20}{'STATE':<10}{'HEALTH':<10}{'ADDRESS':<17}{'RELEASE':<11}{'PID':>7}{'UPTIME':>9}"
          f"{'RESTARTS':>9}"
          f"  {'CPU s':>7}{'MEMORY':>11}{'DISK':>20}")
    for s in services:
        disk = ("-" if s.disk_used_bytes is None
                else f"{_human_bytes(s.disk_used_bytes)}/{_human_bytes(s.disk_size_bytes)}")
        cpu = "-" if s.cpu_seconds is None else f"{s.cpu_seconds:.1f}"
        print(f"{s.name:<20}{s.state:<10}{'ok' if s.healthy else 'FAIL':<10}{s.address:<17}{s.release:<11}"
              f"{s.pid or '-':>7}{_uptime(s.uptime_s):>9}{s.restarts:>9}  {cpu:>7}"
              f"{_human_bytes(s.memory_bytes):>11}{disk:>20}")
    print(f"\nopen ({config.workspace()[0]}): " + "  ".join(f"{name} {url}" for name, url in links.items()))
    unhealthy = [s.name for s in services if not s.healthy]
    return 1 if unhealthy else 0


def cmd_lab(args: argparse.Namespace) -> int:
    url = start_lab(settings_of(args), port=args.port, progress=progress)
    public = config.public_url("jupyter", url)
    print(f"JupyterLab: {public}" + (f"  (here: {url})" if public != url else ""))
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

    p = sub.add_parser("status", help="every service's state, health, release, restarts and saturation")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("lab", help="start JupyterLab on notebooks/ (localhost, with a token)")
    p.add_argument("--port", type=int, default=8888)
    p.set_defaults(func=cmd_lab)

    # Sub-commands defined beside what they drive: faults and play, the rest of the game, benchmarks, agents,
    # experiments for other tools.
    for register in (faults.register, game.register, bench.register, board.register, mcp.register,
                     export.register):
        register(sub)
    # `chaosctl status --backend docker` as well as `chaosctl --backend docker status`.
    for command in sub.choices.values():
        try:
            command.add_argument("--backend", choices=list(BACKENDS), default=argparse.SUPPRESS,
                                 help=f"where the stack runs (default: $CHAOSCTL_BACKEND or {DEFAULT_BACKEND})")
        except argparse.ArgumentError:  # the command defines its own --backend
            pass
    return parser


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
