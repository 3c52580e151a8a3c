"""`chaosctl play | inject | faults | heal | panic`: the fault side of the command line."""
from __future__ import annotations

import argparse
import json
import sys
import time

from chaoslib.cli.args import stack_of
from chaoslib.cli.output import print_json, progress
from chaoslib.engine.injector import active_faults, heal, heal_tagged, inject, panic_report
from chaoslib.engine.registry import quarantine
from chaoslib.errors import UsageError
from chaoslib.faults import SCENARIOS, family
from chaoslib.faults.catalogue import Scenario
from chaoslib.game import Game


def parse_params(pairs: list[str]) -> dict[str, str]:
    """`--param KEY=VALUE` pairs as a dict (a one-line error for a pair without `=`)."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--param needs KEY=VALUE, got {pair!r}", field="param", value=pair)
        out[key] = value
    return out


def cmd_play(args: argparse.Namespace) -> int:
    """Start a game through the façade (progress on stderr): `--families` a comma list, or all."""
    families = [f.strip() for f in args.families.split(",") if f.strip()] if args.families else None
    info = Game(stack_of(args)).start(seed=args.seed, difficulty=args.difficulty, families=families,
                                      progress=progress)
    if args.json:
        print_json(info)
    else:
        print(f"The incident has begun (seed {info.seed}, {info.difficulty}). "
              "Watch for the page: chaosctl page --wait 300")
    return 0


def cmd_inject(args: argparse.Namespace) -> int:
    record = inject(stack_of(args), args.scenario, targets=args.target, params=parse_params(args.param),
                    ttl_s=args.ttl, tag=args.tag)
    print(f"injected {record.id}: {record.scenario} on {', '.join(record.targets)} {record.params or ''} "
          f"(undone automatically in {record.expires_at - record.injected_at:.0f} s)")
    return 0


def cmd_faults(args: argparse.Namespace) -> int:
    if args.catalogue:
        rows = [_catalogue_row(s) for s in SCENARIOS.values()]
        width = max(len(s) for s in SCENARIOS) + 2
        print(json.dumps(rows, indent=2) if args.json else
              "\n".join(f"{r['scenario']:<{width}}{r['family']:<11}{r['description']}\n"
                        f"{'':<{width + 11}}{_strength_words(r)}" for r in rows))
        return 0
    faults = active_faults(stack_of(args))
    if args.json:
        print(json.dumps([f.to_dict() for f in faults], indent=2))
        return 0
    if not faults:
        print("no active faults")
        return 0
    now = time.time()
    for f in faults:
        print(f"{f.id}  {f.scenario:<15} {','.join(f.targets):<12} {json.dumps(f.params):<22} "
              f"expires in {max(0, f.expires_at - now):.0f} s{'  (hidden: from play)' if f.hidden else ''}")
    return 0


def _catalogue_row(s: Scenario) -> dict:
    """A scenario as the catalogue lists it: what it does, its parameters, its strength at each difficulty."""
    return {"scenario": s.name, "family": s.family, "description": s.description,
            "params": {k: [p.low, p.high, p.default] for k, p in s.params.items()},
            "strength": {d: {"param": st.param, "low": st.low, "high": st.high} for d, st in s.strength.items()},
            "targets": [s.min_targets, s.max_targets], "everywhere": s.everywhere, "requires": sorted(s.requires),
            "default_draw": family(s.family).default_draw}


def _strength_words(row: dict) -> str:
    """"easy share 0.85-1 | normal ... ; 1-2 replicas; needs ...; drawn ..." for the catalogue's second line."""
    def span(st: dict) -> str:
        return f"{st['low']:g}" if st["low"] == st["high"] else f"{st['low']:g}-{st['high']:g}"
    strength = " | ".join(f"{d} {st['param']} {span(st)}" for d, st in row["strength"].items()) \
        or "the same strength at every difficulty"
    low, high = row["targets"]
    targets = "every replica (a shared cause)" if row["everywhere"] else f"{low}+ replicas" if high >= 9 else \
        f"{low}-{high} replicas" if high > low else f"{low} replica(s)"
    needs = f"; needs {', '.join(row['requires'])}" if row["requires"] else ""
    drawn = "in the default draw" if row["default_draw"] else f"drawn with --families {row['family']} (or all)"
    return f"{strength}; {targets}{needs}; {drawn}"


def cmd_heal(args: argparse.Namespace) -> int:
    """Undo one fault by its id, or with --tag every active fault injected with that tag (none: nothing to do)."""
    if (args.id is None) == (args.tag is None):
        raise UsageError("heal takes a fault ID or --tag TAG", field="id",
                         hint="chaosctl heal f-1a2b3c, or chaosctl heal --tag NAME (as given to inject --tag)")
    stack = stack_of(args)
    records = [heal(stack, args.id)] if args.id is not None else heal_tagged(stack, args.tag)
    if not records:
        print(f"no active fault tagged {args.tag!r}: nothing to heal")
    for record in records:
        print(f"healed {record.id} ({record.scenario} on {', '.join(record.targets)})")
    return 0


def cmd_panic(args: argparse.Namespace) -> int:
    """Undo everything; exit 1 with one line per thing not undone and what to run next."""
    stack = stack_of(args)
    done, failures = panic_report(stack)
    try:
        Game(stack).abandon(reason="panic")
    except (ValueError, TypeError, AttributeError, KeyError):
        game_file = stack.settings.state_dir / "game.json"
        done.append(f"the game journal was damaged: kept it as {quarantine(game_file)}")
    print("\n".join(done) if done else "nothing to undo: the host is clean")
    for failure in failures:
        print(f"chaosctl: could not undo {failure} (run `chaosctl down`, then `chaosctl up`)", file=sys.stderr)
    return 1 if failures else 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("play", help="draw a hidden fault, inject it and start the game clock")
    p.add_argument("--seed", type=int, default=None, help="same seed, same fault")
    p.add_argument("--difficulty", choices=["easy", "normal", "hard"], default="normal")
    p.add_argument("--families", default=None, metavar="FAMILY[,FAMILY]|all",
                   help="draw only from these fault families (default: $CHAOSCTL_FAMILY, else all)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_play)

    p = sub.add_parser("inject", help="inject an explicit fault (facilitators and tests)")
    p.add_argument("scenario", help="see `chaosctl faults --catalogue`")
    p.add_argument("--target", action="append", default=[], help="a replica (repeatable)")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--ttl", type=float, default=None, help="seconds before the warden undoes it (default 2700)")
    p.add_argument("--tag", default="", help="a name to undo it by later (`chaosctl heal --tag`): a tool's own faults")
    p.set_defaults(func=cmd_inject)

    p = sub.add_parser("faults", help="list active faults (this reveals them)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--catalogue", action="store_true", help="list the scenarios instead")
    p.set_defaults(func=cmd_faults)

    p = sub.add_parser("heal", help="undo one fault (by its id, or every one injected with --tag)")
    p.add_argument("id", nargs="?", default=None)
    p.add_argument("--tag", default=None, help="instead of an id: every active fault `inject --tag` gave this tag")
    p.set_defaults(func=cmd_heal)

    p = sub.add_parser("panic", help="undo every fault, now (safe to run twice)")
    p.set_defaults(func=cmd_panic)
