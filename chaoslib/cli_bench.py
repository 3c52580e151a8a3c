"""`chaosctl bench faults|logs|soak|detective|game|all`: benchmarks that print figures (medians), not tests."""
from __future__ import annotations

import argparse


def cmd_bench(args: argparse.Namespace) -> int:
    from .bench import FaultBench, log_search_bench
    from .cli_args import stack_of

    if args.what in ("logs", "all"):
        print("log search: last 15 minutes of the captured JSON logs into a DataFrame")
        r = log_search_bench(lines=args.lines)
        print(f"  {r['lines_on_disk']} lines on disk; DuckDB {r['duckdb_median_s']:.3f} s, "
              f"Python loop {r['python_loop_median_s']:.3f} s (ratio {r['ratio_loop_over_duckdb']:.1f}x)")
    if args.what in ("faults", "all"):
        print(f"faults: inject -> effect, inject -> first page, panic -> all healthy ({args.runs} runs each)")
        bench = FaultBench(stack_of(args), runs=args.runs)
        bench.all()
        print(bench.report())
    if args.what == "detective":
        from .trials import run_trials

        print(f"detective: {args.seeds} seeded {args.difficulty} games per family; is its settled verdict the truth?")
        run_trials(stack_of(args), seeds=args.seeds, difficulty=args.difficulty)
    if args.what == "game":
        from .bench_game import game_bench

        print(f"game: notebooks 02 to 05 unattended, real waits, {args.runs} games per family")
        game_bench(stack_of(args), runs=args.runs)
    if args.what == "soak":
        from .bench import soak

        print(f"soak: {args.minutes:g} minutes of a healthy stack under default load (target: no page)")
        r = soak(minutes=args.minutes)
        print(f"  pages {r['pages']}; alerts pending or firing: {r['alerts_pending_or_firing'] or 'none'}; "
              f"p95 median {r['p95_median_ms']:.0f} ms (max {r['p95_max_ms']:.0f} ms); "
              f"worst error ratio {r['error_ratio_max']:.2%}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="run benchmarks on the live stack and print figures")
    p.add_argument("what", choices=["faults", "logs", "soak", "detective", "game", "all"], nargs="?", default="all")
    p.add_argument("--runs", type=int, default=3, help="runs per scenario (default 3)")
    p.add_argument("--seeds", type=int, default=10, help="games per family for the detective benchmark")
    p.add_argument("--difficulty", choices=["easy", "normal", "hard"], default="normal",
                   help="difficulty of the detective benchmark's games (default normal)")
    p.add_argument("--minutes", type=float, default=60, help="soak duration (default 60)")
    p.add_argument("--lines", type=int, default=120_000, help="log lines for the log benchmark")
    p.set_defaults(func=cmd_bench)
