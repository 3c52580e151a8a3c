"""The leaderboard: play an agent's games on the board's seeds, score each, and merge one row per player into
docs/leaderboard.json and docs/leaderboard.md (people's finished games join the same board).

Each game is scored by the game itself (chaoslib.game.scoring); the board only counts: detection,
localization, diagnosis (right, wrong and declined apart), mitigation validated by the SLOs, the median
times to detect and to recover, and the points (COLUMNS says exactly how).
"""
from __future__ import annotations

import hashlib
import json
import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaoslib import config, faults
from chaoslib.agents import AgentSession
from chaoslib.bench.board import HELD_OUT, NO_FAULT, Agent, for_game, seeds
from chaoslib.errors import ChaosError, GameError
from chaoslib.game import Game, Outcome, session
from chaoslib.progress import Progress, no_progress
from chaoslib.stack import Stack

DOCS = config.REPO_ROOT / "docs"
JSON_NAME, MD_NAME = "leaderboard.json", "leaderboard.md"

#: Each column of the board, as the .md header and the JSON's "columns" define it.
COLUMNS = {
    "agent": "who played: a built-in agent, a package.module:callable, or human:NAME (a person's finished game)",
    "set": "the seeds: practice (published, sha256 of a public label), held-out (HMAC-SHA256 of a secret not "
           "in the repository), or own (a person's game: its seed is in the row's games)",
    "games": "games played: N per family (the family forced) plus the no-fault rounds",
    "detection": "share of games where the answer said rightly whether anything was wrong: a fault game "
                 "answered with a finding, a no-fault round answered \"no fault\" (a declined answer detects nothing)",
    "localization": "share of fault games whose last hypothesis named exactly the replicas the faults touched, "
                    "whatever the family",
    "diagnosis": "share of games answered right (every fault's family and replicas, or \"no fault\" in a "
                 "no-fault round); wrong: answers that were wrong; declined: given up or no answer (counted apart)",
    "mitigation": "share of fault games whose fix passed validation: the SLOs held over the validation window "
                  "and the cause was undone (not \"pods ready\")",
    "median TTD": "median seconds from the injection to the first hypothesis naming a fault, over the fault "
                  "games where one was named",
    "median TTR": "median seconds from the injection to the first passed validation, over the fault games "
                  "that recovered",
    "points": "mean points per game, as the game scores them (100 less hints, wrong fixes, a wrong or declined "
              "answer, no recovery, slowness)",
}


@dataclass
class Played:
    """One game on the board, as counted: its seed, family, answer, and what the score says."""

    family: str
    seed: int
    answer: str
    detected: bool
    localized: bool | None
    mitigated: bool | None
    ttd_s: float | None
    ttr_s: float | None
    points: int
    started_at: float
    ended_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def count(game: Game, outcome: Outcome, *, family: str, seed: int) -> Played:
    """One finished game as the board counts it (the truth from the reveal, the answer from the journal)."""
    info = game.info()
    assert info is not None
    hyps = game.hypotheses()
    score = outcome.score
    fault_round = not score.no_fault_round
    last = hyps[-1] if hyps else None
    said = {t for f in last.findings for t in f.targets} if last else set()
    truth = {t for f in outcome.faults for t in f.targets}
    named = next((h for h in hyps if h.findings), None)
    declined = score.answer == "declined"
    detected = not declined and last is not None and (bool(last.findings) if fault_round else last.no_fault)
    state = session.current(game.stack)
    ended = state.first("finished") if state else None
    return Played(family=family, seed=seed, answer=score.answer, detected=detected,
                  localized=(not declined and said == truth) if fault_round else None,
                  mitigated=score.time_to_recover_s is not None if fault_round else None,
                  ttd_s=round(named.at - info.started_at, 1) if named and fault_round else None,
                  ttr_s=score.time_to_recover_s if fault_round else None, points=score.points,
                  started_at=info.started_at, ended_at=ended["t"] if ended else None)


def _share(values: list[bool | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return round(sum(kept) / len(kept), 3) if kept else None


def _median(values: Iterable[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return round(statistics.median(kept), 1) if kept else None


def figures(games: list[Played]) -> dict[str, Any]:
    """The board's columns over `games` (see COLUMNS)."""
    return {"games": len(games), "detection": _share([g.detected for g in games]),
            "localization": _share([g.localized for g in games]),
            "diagnosis": _share([g.answer == "right" for g in games]),
            "wrong": sum(g.answer == "wrong" for g in games), "declined": sum(g.answer == "declined" for g in games),
            "mitigation": _share([g.mitigated for g in games]), "median_ttd_s": _median(g.ttd_s for g in games),
            "median_ttr_s": _median(g.ttr_s for g in games),
            "points": round(statistics.mean(g.points for g in games), 1) if games else None}


def published(game: Played, board: str) -> dict[str, Any]:
    """A game as the board file shows it: a held-out seed is never written (the next run replays the same
    seeds, so a published one could be tuned to), only its SHA-256 to check it against later."""
    out = game.to_dict()
    if board == HELD_OUT:
        out["seed_sha256"] = hashlib.sha256(str(out.pop("seed")).encode()).hexdigest()
    return out


def row(agent: str, board: str, games: list[Played], **extra: Any) -> dict[str, Any]:
    """One row of the board: the totals, the same per family, and every game (held-out seeds hashed)."""
    families = sorted({g.family for g in games})
    return {"agent": agent, "set": board, **figures(games),
            "per_family": {f: figures([g for g in games if g.family == f]) for f in families},
            **extra, "played": [published(g, board) for g in games]}


@dataclass
class Run:
    """A board run: every game, and the pace (games per hour, gaps from one game's end to the next injection)."""

    games: list[Played] = field(default_factory=list)
    wall_s: float = 0.0
    gaps_s: list[float] = field(default_factory=list)

    @property
    def per_hour(self) -> float:
        return round(len(self.games) * 3600 / self.wall_s, 1) if self.wall_s > 0 else 0.0

    @property
    def median_gap_s(self) -> float | None:
        return _median(self.gaps_s)


def play(stack: Stack, agent: Agent, *, board: str, secret: str | None, games: int, families: list[str] | None,
         no_fault: int, difficulty: str = "normal", validation_window_s: float | None = None,
         steady_timeout: float = session.STEADY_TIMEOUT_S, progress: Progress = no_progress) -> Run:
    """`games` games per family (forced) and `no_fault` no-fault rounds on the board's seeds, one after the other.

    The agent plays each through an AgentSession; a game it leaves open is given up (declined);
    every fault is undone after each game (panic), so the next starts from a quiet stack.
    """
    plan = [(f, s) for f in (families or faults.default_families()) for s in seeds(board, f, games, secret=secret)]
    plan += [(NO_FAULT, s) for s in seeds(board, NO_FAULT, no_fault, secret=secret)]
    run, began, last_end = Run(), time.monotonic(), None
    for family, seed in plan:
        game = Game(stack, autopilot=False)
        info = game.start(seed=seed, difficulty=difficulty, families=None if family == NO_FAULT else [family],
                          no_fault=family == NO_FAULT, steady_timeout=steady_timeout)
        if last_end is not None:
            run.gaps_s.append(round(info.started_at - last_end, 1))
        try:
            for_game(agent, game)(AgentSession(game, validation_window_s=validation_window_s, postmortem=False))
        except ChaosError as e:  # the agent's own failure ends its game, declined
            progress(f"  the agent stopped: {e.one_line()}")
        finally:
            outcome = _close(game)
            game.panic()
        played = count(game, outcome, family=family, seed=seed)
        last_end = played.ended_at
        run.games.append(played)
        progress(f"  {family:9} seed {seed:>6}: {played.answer:8} {played.points:>3} points")
    run.wall_s = time.monotonic() - began
    return run


def _close(game: Game) -> Outcome:
    """The game's outcome; one the agent left open is given up first (its answer declined), no postmortem."""
    if game.in_progress():
        with session.edit_game(game.stack) as state:
            if state.first("gave-up") is None:
                state.add("gave-up")
    return game.finish(write_postmortem=False, plots=False)


# -- the files --------------------------------------------------------------------------------------
def load(directory: Path) -> list[dict[str, Any]]:
    """The board's rows (none when the file is not there yet)."""
    path = directory / JSON_NAME
    if not path.exists():
        return []
    rows: list[dict[str, Any]] = json.loads(path.read_text())["rows"]
    return rows


def _cell(value: Any, kind: str = "") -> str:
    if value is None:
        return "—"
    if kind == "share":
        return f"{value:.0%}"
    if kind == "s":
        return f"{value:.0f} s"
    return str(value)


def markdown(rows: list[dict[str, Any]]) -> str:
    """The board as Markdown: each column defined, then one line per row, the most points first."""
    lines = ["# Leaderboard", "", "Written by `chaosctl bench agents` and `chaosctl board submit`; "
             "per-family figures and every game are in leaderboard.json.", "", "What each column counts:", ""]
    lines += [f"- **{name}**: {text}" for name, text in COLUMNS.items()]
    lines += ["", "| agent | set | games | detection | localization | diagnosis | wrong | declined | mitigation "
              "| median TTD | median TTR | points |", "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
              "| ---: | ---: | ---: |"]
    for r in sorted(rows, key=lambda r: -(r["points"] or 0)):
        lines.append(" | ".join(["", r["agent"], r["set"], str(r["games"]), _cell(r["detection"], "share"),
                                 _cell(r["localization"], "share"), _cell(r["diagnosis"], "share"), str(r["wrong"]),
                                 str(r["declined"]), _cell(r["mitigation"], "share"),
                                 _cell(r["median_ttd_s"], "s"), _cell(r["median_ttr_s"], "s"),
                                 _cell(r["points"]), ""]).strip())
    return "\n".join(lines) + "\n"


def write(directory: Path, rows: list[dict[str, Any]]) -> list[Path]:
    """Write both files; their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    out = [directory / JSON_NAME, directory / MD_NAME]
    out[0].write_text(json.dumps({"columns": COLUMNS, "rows": rows}, indent=1) + "\n")
    out[1].write_text(markdown(rows))
    return out


def merge(directory: Path, new: dict[str, Any]) -> list[Path]:
    """Replace the row of the same agent and set (or add it), and write both files."""
    rows = [r for r in load(directory) if (r["agent"], r["set"]) != (new["agent"], new["set"])]
    return write(directory, [*rows, new])


def submit(game: Game, name: str, directory: Path) -> dict[str, Any]:
    """Add a person's finished game to the board, in the row human:NAME; a one-line error when it is not finished
    or is on the board already. The row it is now in."""
    info = game.info()
    if info is None or info.status != "finished":
        raise GameError("the game is not finished", hint="finish it (or give up), then submit it")
    game.score()  # an abandoned game (panic) has no score: GameError
    rows = load(directory)
    if any(g.get("seed") == info.seed and g["started_at"] == info.started_at
           for r in rows for g in r.get("played", ())):
        raise GameError(f"this game (seed {info.seed}) is already on the board")
    outcome = game.finish(write_postmortem=False, plots=False)
    family = "+".join(sorted({f.family for f in outcome.faults})) or NO_FAULT
    played = count(game, outcome, family=family, seed=info.seed)
    agent = f"human:{name}"
    before = next((r for r in rows if r["agent"] == agent), None)
    earlier = [Played(**g) for g in before["played"]] if before else []
    new = row(agent, "own", [*earlier, played])
    merge(directory, new)
    return new
