"""`chaosctl bench faults|logs|footprint|startup|soak|detective|game|scale|promclient|agents|experiments|all`:
benchmarks that print figures (medians), not tests."""
from __future__ import annotations

import argparse
from pathlib import Path

from chaoslib import config, faults
from chaoslib.backends.docker import DockerBackend
from chaoslib.bench import footprint_docker as fd
from chaoslib.bench.experiments import run_experiments
from chaoslib.bench.faults import FaultBench
from chaoslib.bench.footprint import measure, table
from chaoslib.bench.footprint_docs import DOCS, readme_paragraph, write_docs
from chaoslib.bench.game import game_bench
from chaoslib.bench.logs import log_search_bench
from chaoslib.bench.promclient import client_bench
from chaoslib.bench.scale import parse_sizes, report, scale
from chaoslib.bench.stack import PSS_BEFORE_MIB, RSS_BEFORE_MIB, soak, startup_bench
from chaoslib.bench.trials import run_trials
from chaoslib.cli.args import stack_of
from chaoslib.cli.board import add_bench_arguments, bench_agents
from chaoslib.errors import UsageError
from chaoslib.game.draw import families_of
from chaoslib.stack import Stack


def cmd_bench(args: argparse.Namespace) -> int:
    if args.what == "agents":
        return bench_agents(args)
    if args.what in ("logs", "all"):
        print("log search: last 15 minutes of the captured JSON logs into a DataFrame")
        r = log_search_bench(lines=args.lines)
        print(f"  {r['lines_on_disk']} lines on disk; DuckDB median of 5 {r['duckdb_median_s']:.3f} s "
              f"({r['ratio_before_over_duckdb']:.1f}x faster than {r['before_s']:.2f} s before), "
              f"Python loop {r['python_loop_median_s']:.3f} s (ratio {r['ratio_loop_over_duckdb']:.1f}x)")
    if args.what in ("footprint", "all"):
        stack = stack_of(args)
        if isinstance(stack.backend, DockerBackend):
            docker_footprint(stack.backend, samples=args.samples, interval=args.interval, docs=args.docs_dir)
        else:
            footprint(stack, samples=args.samples, interval=args.interval)
    if args.what in ("startup", "all"):
        print(f"start-up: `chaosctl down` then `up` to all healthy, {args.runs_startup} warm starts")
        r = startup_bench(stack_of(args), runs=args.runs_startup)
        print(f"  median {r['median_s']:.1f} s (max {r['max_s']:.1f} s); {r['ratio_before_over_now']:.1f}x faster "
              f"than {r['before_s']:.1f} s before")
    if args.what in ("faults", "all"):
        print(f"faults: inject -> effect, inject -> first page, panic -> all healthy ({args.runs} runs each)")
        bench = FaultBench(stack_of(args), runs=args.runs, families=_families(args))
        bench.all()
        print(bench.report())
    if args.what == "detective":
        args.seeds = args.seeds or 10
        print(f"detective: {args.seeds} seeded {args.difficulty} games per family; is its settled verdict the truth?")
        run_trials(stack_of(args), seeds=args.seeds, difficulty=args.difficulty, families=_families(args))
    if args.what == "game":
        print(f"game: notebooks 02 to 05 unattended, real waits, {args.runs} games per family")
        game_bench(stack_of(args), runs=args.runs, families=_families(args))
    if args.what == "scale":
        sizes = parse_sizes(args.replicas, maximum=config.MAX_REPLICAS)
        args.seeds = 3 if args.seeds is None else args.seeds
        print(f"scale: start-up (median of {args.starts} warm starts), PSS, time to page (one scenario per family)"
              f" and the detective ({args.seeds} seeds per family) at {', '.join(map(str, sizes))} replicas")
        print(report(scale(stack_of(args), sizes, starts=args.starts, seeds=args.seeds)))
    if args.what == "promclient":
        print("promclient: the game's golden-signal and saturation range queries through prometheus-api-client "
              "and through a plain HTTP GET (the peer)")
        r = client_bench(stack_of(args).endpoint("prometheus"), rounds=args.runs)
        print(f"  {r['queries']} queries x {r['rounds']} rounds: client median {r['client_median_s'] * 1000:.1f} ms, "
              f"plain {r['plain_median_s'] * 1000:.1f} ms, ratio {r['ratio_client_over_plain']:.2f} "
              f"({'within' if r['kept'] else 'over'} the {r['limit']:.2f} limit)")
    if args.what == "experiments":
        stack = stack_of(args)
        names, lacking = _scenarios(args, stack)
        for name, needs in lacking.items():
            print(f"  {name}: not run (the {stack.backend.name} backend lacks {', '.join(needs)} here)")
        print(f"experiments: the real `chaos run` of {len(names)} experiments/*.json against the live stack, "
              "from a steady stack each")
        runs = run_experiments(stack, names)
        print(f"  {sum(r['status'] == 'completed' and r['deviated'] for r in runs)} of {len(runs)} completed and "
              "deviated while the fault was in place; "
              f"{sum(r['rollbacks'] == ['succeeded'] and not r['faults_left'] for r in runs)} rolled back clean")
    if args.what == "soak":
        print(f"soak: {args.minutes:g} minutes of a healthy stack under default load (target: no page)")
        r = soak(stack_of(args), minutes=args.minutes)
        print(f"  pages {r['pages']}; alerts pending or firing: {r['alerts_pending_or_firing'] or 'none'}; "
              f"p95 median {r['p95_median_ms']:.0f} ms (max {r['p95_max_ms']:.0f} ms); "
              f"worst error ratio {r['error_ratio_max']:.2%}")
    return 0


def footprint(stack: Stack, *, samples: int, interval: float) -> None:
    """Print the running stack's memory per service and in total (median PSS, RSS beside it)."""
    print(f"footprint: PSS and RSS per service of the running stack, median of {samples} samples {interval:g} s apart")
    try:
        fp = measure(stack.backend, samples=samples, interval=interval, progress=print)
    except NotImplementedError as e:
        raise UsageError(f"the {stack.backend.name} backend cannot list its processes ({e})") from e
    if not fp.services:
        raise UsageError("no service is running", hint="start the stack with `chaosctl up`")
    print(table(fp))
    pss, rss = fp.total.pss_bytes / (1 << 20), fp.total.rss_bytes / (1 << 20)
    print(f"total against before #15 (3 replicas): PSS {pss:.0f} / {PSS_BEFORE_MIB:.0f} MiB"
          f" = {pss / PSS_BEFORE_MIB:.2f}, "
          f"RSS {rss:.0f} / {RSS_BEFORE_MIB:.0f} MiB = {rss / RSS_BEFORE_MIB:.2f}")


def docker_footprint(backend: DockerBackend, *, samples: int, interval: float, docs: Path) -> None:
    """Print the compose stack's memory per service and per profile; write it to docs/footprint-docker.*."""
    print(f"footprint: `docker stats` memory per compose service, median of {samples} samples {interval:g} s apart;"
          " services not running count at their compose memory limits")
    measured = fd.measure(backend, samples=samples, interval=interval, progress=print)
    if not measured:
        raise UsageError("no service of the compose project is running", hint="start the stack with `chaosctl up`")
    doc = fd.report(measured, fd.compose_services(), engine=fd.engine_of(backend), samples=samples,
                    interval=interval)
    print(fd.table(doc))
    for path in write_docs(doc, docs):
        print(f"wrote {path}")
    print("the README's paragraph (Docker section):\n" + readme_paragraph(doc))


def _families(args: argparse.Namespace) -> tuple[str, ...] | None:
    """--families checked against the catalogue (none: the benches' default, the draw's default families)."""
    names = [f.strip() for f in (args.families or "").split(",") if f.strip()]
    return tuple(families_of(names)) if names else None


def _scenarios(args: argparse.Namespace, stack: Stack) -> tuple[list[str], dict[str, list[str]]]:
    """The scenarios of --families (default: every family) the backend can run, in the catalogue's order,
    and those it cannot with what it lacks."""
    names = [f.strip() for f in (args.families or "all").split(",") if f.strip()]
    runnable, lacking = [], {}
    for fam in families_of(names):
        for sc in faults.family(fam).scenarios:
            needs = stack.backend.features.lacks(sc.requires)
            if needs:
                lacking[sc.name] = needs
            else:
                runnable.append(sc.name)
    return runnable, lacking


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="run benchmarks on the live stack and print figures")
    p.add_argument("what", nargs="?", default="all",
                   choices=["faults", "logs", "footprint", "startup", "soak", "detective", "game", "scale",
                            "promclient", "agents", "experiments", "all"])
    p.add_argument("--runs", type=int, default=3, help="runs per scenario (default 3)")
    p.add_argument("--seeds", type=int, default=None,
                   help="games per family: detective (default 10), scale (default 3)")
    p.add_argument("--difficulty", choices=["easy", "normal", "hard"], default="normal",
                   help="difficulty of the detective and agents benchmarks' games (default normal)")
    p.add_argument("--minutes", type=float, default=60, help="soak duration (default 60)")
    p.add_argument("--samples", type=int, default=3, help="footprint samples (default 3)")
    p.add_argument("--interval", type=float, default=3.0, help="seconds between footprint samples (default 3)")
    p.add_argument("--docs-dir", type=Path, default=DOCS,
                   help="where footprint-docker.* (footprint under docker) and leaderboard.* (agents) go "
                        "(default docs/)")
    p.add_argument("--runs-startup", type=int, default=5, help="startup: warm starts (default 5)")
    p.add_argument("--replicas", default="1,3,6", help="scale: replica counts to measure (default 1,3,6)")
    p.add_argument("--starts", type=int, default=3, help="scale: warm starts per size (default 3)")
    p.add_argument("--lines", type=int, default=120_000, help="log lines for the log benchmark")
    add_bench_arguments(p)
    p.set_defaults(func=cmd_bench)
