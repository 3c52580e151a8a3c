"""`chaosctl bench faults|logs|all`: benchmarks that print figures (medians), not tests."""
from __future__ import annotations

import argparse


def cmd_bench(args: argparse.Namespace) -> int:
    from .bench import FaultBench, log_search_bench
    from .cli_faults import _stack

    if args.what in ("logs", "all"):
        print("log search: last 15 minutes of the captured JSON logs into a DataFrame")
        r = log_search_bench(lines=args.lines)
        print(f"  {r['lines_on_disk']} lines on disk; DuckDB {r['duckdb_median_s']:.3f} s, "
              f"Python loop {r['python_loop_median_s']:.3f} s (ratio {r['ratio_loop_over_duckdb']:.1f}x)")
    if args.what in ("faults", "all"):
        print(f"faults: inject -> effect, inject -> first page, panic -> all healthy ({args.runs} runs each)")
        bench = FaultBench(_stack(args), runs=args.runs)
        bench.all()
        print(bench.report())
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="run benchmarks on the live stack and print figures")
    p.add_argument("what", choices=["faults", "logs", "all"], nargs="?", default="all")
    p.add_argument("--runs", type=int, default=3, help="runs per scenario (default 3)")
    p.add_argument("--lines", type=int, default=120_000, help="log lines for the log benchmark")
    p.set_defaults(func=cmd_bench)
