"""`chaosctl bench agents` and `chaosctl board submit`: an agent's games, or a person's finished game, on the
leaderboard (docs/leaderboard.json and .md). Argument parsing and printing only: chaoslib.bench.leaderboard
plays and counts."""
from __future__ import annotations

import argparse
import os
import pwd
from pathlib import Path
from typing import Any

from chaoslib.bench import leaderboard
from chaoslib.bench.board import board_of, load_agent
from chaoslib.cli.args import stack_of
from chaoslib.cli.output import progress
from chaoslib.errors import UsageError
from chaoslib.game import Game
from chaoslib.game.draw import families_of


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} s"


def bench_agents(args: argparse.Namespace) -> int:
    """Play the board for one agent, merge its row, print the figures and the pace."""
    if not args.agent:
        raise UsageError("bench agents needs --agent NAME", field="agent",
                         hint="detective, one-rule, or package.module:callable")
    if args.games < 0 or args.no_fault < 0 or args.games + args.no_fault == 0:
        raise UsageError("--games and --no-fault must be 0 or more, and not both 0", field="games",
                         value=(args.games, args.no_fault))
    agent = load_agent(args.agent)
    board, secret = board_of(args.board)
    families = families_of([f.strip() for f in args.families.split(",") if f.strip()]) if args.families else None
    print(f"agents: {args.agent} on the {board} seeds, {args.games} {args.difficulty} games per family and "
          f"{args.no_fault} no-fault rounds")
    run = leaderboard.play(stack_of(args), agent, board=board, secret=secret, games=args.games, families=families,
                           no_fault=args.no_fault, difficulty=args.difficulty,
                           validation_window_s=args.validation_window, progress=progress)
    row = leaderboard.row(args.agent, board, run.games, difficulty=args.difficulty, games_per_hour=run.per_hour,
                          median_gap_s=run.median_gap_s)
    for path in leaderboard.merge(args.docs_dir, row):
        print(f"wrote {path}")
    print(summary(row))
    for family, fig in row["per_family"].items():
        print(f"  {family:10} " + summary({**fig, "agent": "", "set": ""}).strip())
    print(f"{run.per_hour:.1f} games per hour; median {_seconds(run.median_gap_s)} from one game's end to the next "
          f"game's injection (max {_seconds(max(run.gaps_s, default=None))})")
    return 0


def summary(row: dict[str, Any]) -> str:
    """A row on one line: the board's columns."""
    return (f"{row['agent']} {row['set']} games {row['games']}: detection {_share(row['detection'])}, "
            f"localization {_share(row['localization'])}, diagnosis {_share(row['diagnosis'])} "
            f"(wrong {row['wrong']}, declined {row['declined']}), mitigation {_share(row['mitigation'])}, "
            f"median TTD {_seconds(row['median_ttd_s'])}, median TTR {_seconds(row['median_ttr_s'])}, "
            f"points {row['points']}")


def cmd_board(args: argparse.Namespace) -> int:
    name = args.name or pwd.getpwuid(os.getuid()).pw_name
    row = leaderboard.submit(Game(stack_of(args), autopilot=False), name, args.docs_dir)
    game = row["played"][-1]
    print(f"submitted seed {game['seed']} ({game['answer']}, {game['points']} points) as {row['agent']}")
    print(summary(row))
    return 0


def register(sub: Any) -> None:
    """Add `chaosctl board submit` to the sub-command parser `sub`."""
    p = sub.add_parser("board", help="put your finished game on the leaderboard (docs/leaderboard.md)")
    p.add_argument("action", choices=["submit"], help="submit: the finished game, with its seed and score")
    p.add_argument("--name", default=None, help="your name on the board, as human:NAME (default: your user name)")
    p.add_argument("--docs-dir", type=Path, default=leaderboard.DOCS,
                   help="where leaderboard.json and .md are (default docs/)")
    p.set_defaults(func=cmd_board)


def add_bench_arguments(p: argparse.ArgumentParser) -> None:
    """The flags of `chaosctl bench agents`."""
    p.add_argument("--agent", default=None, help="agents: detective, one-rule, or package.module:callable")
    p.add_argument("--games", type=int, default=3, help="agents: games per family (default 3)")
    p.add_argument("--families", default=None,
                   help="agents, detective, game: FAMILY[,FAMILY] or all to play (default: the seed's three)")
    p.add_argument("--no-fault", type=int, default=2, help="agents: no-fault rounds (default 2)")
    p.add_argument("--board", choices=["practice", "held-out"], default=None,
                   help="agents: the seed set (default held-out when CHAOS_BOARD_SECRET is set, else practice)")
    p.add_argument("--validation-window", type=float, default=None,
                   help="agents: seconds the steady state must hold (default: the game's, 60; 20 in CI)")
