"""`chaosctl export chaostoolkit`: a scenario (or every one, into a folder) as a Chaos Toolkit experiment."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from chaoslib.cli.faults import parse_params
from chaoslib.errors import UsageError
from chaoslib.export import chaostoolkit


def cmd_export(args: argparse.Namespace) -> int:
    """One experiment to stdout or --out; with --all, one file per scenario in --dir."""
    if args.all:
        if args.scenario or args.param or args.out or not args.dir:
            raise UsageError("--all takes --dir DIR (and --target, --ttl), not a scenario, --param or --out",
                             field="all", hint="chaosctl export chaostoolkit --all --dir experiments/")
        written = chaostoolkit.write_all(Path(args.dir), args.target or None, ttl_s=args.ttl)
        print(f"wrote {len(written)} experiments to {args.dir}", file=sys.stderr)
        return 0
    if not args.scenario or args.dir:
        raise UsageError("name a SCENARIO (or --all --dir DIR)", field="scenario",
                         hint="scenarios: chaosctl faults --catalogue")
    text = chaostoolkit.render(chaostoolkit.experiment(args.scenario, args.target or None,
                                                       parse_params(args.param), ttl_s=args.ttl))
    if args.out:
        Path(args.out).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="write a scenario as another tool's experiment (Chaos Toolkit)")
    p.add_argument("format", choices=["chaostoolkit"], help="the experiment format")
    p.add_argument("scenario", nargs="?", default=None, help="see `chaosctl faults --catalogue`")
    p.add_argument("--target", action="append", default=[],
                   help=f"a replica (repeatable; default {', '.join(chaostoolkit.DEFAULT_TARGETS)})")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--ttl", type=float, default=None,
                   help=f"the fault's time to live, the safety net (default {chaostoolkit.DEFAULT_TTL_S:g} s)")
    p.add_argument("--out", default=None, metavar="FILE", help="write here instead of stdout")
    p.add_argument("--all", action="store_true", help="every scenario of the catalogue, one file each")
    p.add_argument("--dir", default=None, metavar="DIR", help="with --all: the folder (files SCENARIO.json)")
    p.set_defaults(func=cmd_export)
