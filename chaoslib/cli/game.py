"""`chaosctl page | hypothesis | fix | validate | hint | score | give-up`: the rest of a game, in the terminal.

Argument parsing and printing only. Every command goes through the `Game` façade on the stack
the arguments name, and prints the records it returns (their dicts with --json). Nothing here
names a fault family: the game lists its fixes and the read-only views they need.
Exit status: 0 success, 1 a failed outcome (validation failed, no page yet), 2 a usage error.
"""
from __future__ import annotations

import argparse
import time

from chaoslib.cli.args import stack_of
from chaoslib.cli.output import frame_text, print_json, progress, table
from chaoslib.errors import UsageError
from chaoslib.game import Finding, Game, Hypothesis, Outcome

FINDING = "FAMILY:REPLICA[,REPLICA]"


def parse_finding(text: str) -> Finding:
    """`disk:app2,app3` as a Finding, or a one-line usage error."""
    family, sep, replicas = text.partition(":")
    targets = tuple(r.strip() for r in replicas.split(",") if r.strip())
    if not sep or not family.strip() or not targets:
        raise UsageError(f"--finding takes {FINDING}, got {text!r}", field="finding", value=text,
                         hint="a fault family, a colon, the replicas it affects separated by commas")
    return Finding(family.strip(), targets)


def parse_value(raw: str) -> object:
    """A fix's argument as typed on the command line: a whole number, a number, true/false, or text."""
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(raw.lower(), raw)


def parse_arguments(args: argparse.Namespace) -> dict[str, object]:
    """The keyword arguments of a fix or a view: --target, every --path (as `paths`), and --arg KEY=VALUE."""
    out: dict[str, object] = {}
    for pair in args.arg:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--arg takes KEY=VALUE, got {pair!r}", field="arg", value=pair,
                             hint="`chaosctl fix` lists each fix's arguments")
        out[key.strip()] = parse_value(raw.strip())
    if args.target:
        out["target"] = args.target
    if args.path:
        out["paths"] = list(args.path)
    return out


def game_of(args: argparse.Namespace) -> Game:
    """The game on the stack the arguments name."""
    return Game(stack_of(args))


def describe(h: Hypothesis) -> str:
    """A hypothesis on one line: its version, time, findings and evidence."""
    said = "; ".join(f"{f.family} on {', '.join(f.targets)}" for f in h.findings) or "no fault"
    at = time.strftime("%H:%M:%S", time.localtime(h.at))
    return f"v{h.version}  {at}  {said}" + (f"  (evidence: {h.evidence})" if h.evidence else "")


def cmd_page(args: argparse.Namespace) -> int:
    page = game_of(args).page(wait_s=args.wait, progress=progress)
    if args.json:
        print_json(page)
    elif page is None:
        print("no page yet" + (f" after waiting {args.wait:g} s" if args.wait else "") +
              " (wait for it: chaosctl page --wait 300)")
    else:
        about = f" on {page.replica}" if page.replica else ""
        print(f"PAGE {page.alertname}{about}, {page.after_s:.0f} s after the incident began: {page.summary}")
    return 0 if page is not None else 1


def cmd_hypothesis(args: argparse.Namespace) -> int:
    findings = [parse_finding(f) for f in args.finding]
    if args.no_fault and findings:
        raise UsageError("--no-fault names no finding", field="finding", hint="either --no-fault or --finding")
    if args.evidence and not findings and not args.no_fault:
        raise UsageError("--evidence goes with at least one --finding", field="evidence", hint=f"--finding {FINDING}")
    game = game_of(args)
    if not findings and not args.no_fault:
        versions = game.hypotheses()
        if args.json:
            print_json(versions)
        elif not versions:
            print(f"no hypothesis recorded yet (record one: chaosctl hypothesis --finding {FINDING} --evidence TEXT)")
        else:
            print("\n".join(describe(h) for h in versions))
        return 0
    recorded = game.hypothesis(findings, evidence=args.evidence, no_fault=args.no_fault)
    if args.json:
        print_json(recorded)
    else:
        print(f"recorded hypothesis {describe(recorded)}")
    return 0


def _result_text(result: object) -> str:
    if isinstance(result, dict):
        return ", ".join(f"{k} {v}" for k, v in result.items())
    if isinstance(result, list):
        return f"{len(result)} row(s)"
    return "done" if result is None else str(result)


def cmd_fix(args: argparse.Namespace) -> int:
    arguments = parse_arguments(args)
    if args.show and args.name:
        raise UsageError("either apply a fix or --show a view, not both", field="show", value=args.show)
    if not args.show and not args.name and arguments:
        raise UsageError("name the fix to apply", field="fix", hint="`chaosctl fix` lists them")
    game = game_of(args)
    if args.show:
        frame = game.view(args.show, **arguments)
        if args.json:
            print_json(frame)
        else:
            print(frame_text(frame, empty=f"{args.show}: nothing to show"))
        return 0
    if not args.name:
        fixes, views = game.fixes(), game.views()
        if args.json:
            print_json({"fixes": fixes, "views": views})
            return 0
        print(table([(f.name, ", ".join(f.arguments), f.description) for f in fixes],
                    ("FIX", "ARGUMENTS", "WHAT IT DOES")))
        print("\nApply one: chaosctl fix NAME --target appN [--path P ...] [--arg KEY=VALUE ...]")
        print("Look before you fix (read-only): chaosctl fix --show VIEW [--target appN]\n")
        print(table([(v.name, ", ".join(v.arguments) or "-", v.description) for v in views],
                    ("VIEW", "ARGUMENTS", "WHAT IT SHOWS")))
        return 0
    done = game.apply_fix(args.name, **arguments)
    if args.json:
        print_json(done)
    else:
        said = ", ".join(f"{k}={v}" for k, v in done.arguments.items())
        print(f"applied {done.name}({said}): {_result_text(done.result)}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    result = game_of(args).validate(progress=progress, window_s=args.window, recover_s=args.recover)
    if args.json:
        print_json(result)
    elif result.passed:
        print(f"validated: the steady state held for {result.window_s:g} s and the cause is gone")
    else:
        print("not validated: " + "; ".join(result.problems))
    return 0 if result.passed else 1


def cmd_hint(args: argparse.Namespace) -> int:
    hint = game_of(args).hint()
    if args.json:
        print_json(hint)
    else:
        print(f"hint {hint.level} (costs {hint.cost} points): {hint.text}")
    return 0


def show_outcome(outcome: Outcome, *, as_json: bool) -> int:
    """The reveal (each fault: scenario, family, replicas, strength in words), the score, the postmortem."""
    if as_json:
        print_json(outcome)
        return 0
    print("The incident was:")
    if not outcome.faults:
        print("  no fault: nothing was injected (a no-fault round)")
    for f in outcome.faults:
        strength = f"; {f.strength}" if f.strength else ""
        print(f"  {f.scenario} ({f.family}) on {', '.join(f.targets)}: {f.description}{strength}")
    if outcome.herrings:
        print("Red herrings (harmless, planted to mislead):")
        print("\n".join(f"  {f.scenario} on {', '.join(f.targets)}: {f.description}" for f in outcome.herrings))
    print("The score:")
    print("\n".join(f"  {line}" for line in outcome.score.lines))
    if outcome.postmortem:
        print(f"The postmortem: {outcome.postmortem}")
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    return show_outcome(game_of(args).finish(plots=not args.no_plots), as_json=args.json)


def cmd_give_up(args: argparse.Namespace) -> int:
    return show_outcome(game_of(args).give_up(), as_json=args.json)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the game's commands to chaosctl."""
    p = sub.add_parser("page", help="the game's first page (exit 1 when none came yet)")
    p.add_argument("--wait", type=float, default=0.0, metavar="S", help="wait up to S seconds for it (default 0)")
    p.set_defaults(func=cmd_page)

    p = sub.add_parser("hypothesis", help="record a hypothesis (every version is kept), or list them")
    p.add_argument("--finding", action="append", default=[], metavar=FINDING,
                   help="a fault family and the replicas it affects (repeatable: one per fault)")
    p.add_argument("--no-fault", action="store_true", help="the answer: nothing is wrong (no finding with it)")
    p.add_argument("--evidence", default="", help="why you think so, in your words")
    p.set_defaults(func=cmd_hypothesis)

    p = sub.add_parser("fix", help="list the fixes (and the views to look at first), or apply one")
    p.add_argument("name", nargs="?", help="the fix to apply (none: list them)")
    p.add_argument("--target", help="the replica to act on, e.g. app2")
    p.add_argument("--path", action="append", default=[], help="a file to delete (repeatable)")
    p.add_argument("--arg", action="append", default=[], metavar="KEY=VALUE", help="another argument (repeatable)")
    p.add_argument("--show", metavar="VIEW", help="show a read-only view instead (see `chaosctl fix`)")
    p.set_defaults(func=cmd_fix)

    p = sub.add_parser("validate", help="prove the fix: recovery, then the steady state held over a window")
    p.add_argument("--window", type=float, default=None, metavar="S",
                   help="seconds the steady state must hold (default 60; 20 with CHAOSCTL_FAST)")
    p.add_argument("--recover", type=float, default=180.0, metavar="S", help="seconds to wait for recovery (180)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("hint", help="the next hint (each costs points)")
    p.set_defaults(func=cmd_hint)

    p = sub.add_parser("score", help="finish the game: the reveal, the score and the postmortem")
    p.add_argument("--no-plots", action="store_true", help="write the postmortem without its picture")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("give-up", help="end the game now: the reveal, the score and the postmortem")
    p.set_defaults(func=cmd_give_up)

    for name in ("page", "hypothesis", "fix", "validate", "hint", "score", "give-up"):
        sub.choices[name].add_argument("--json", action="store_true", help="machine-readable output")
