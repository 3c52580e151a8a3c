"""The leaderboard (issue #24, items 3 and 4): a tiny board played through AgentSession on the memory backend, the
agent loader, the practice and held-out seeds, and a person's finished game on the same board."""
from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from chaoslib.agents import AgentSession
from chaoslib.bench import leaderboard
from chaoslib.bench.board import (
    HELD_OUT,
    PRACTICE,
    Detective,
    OneRule,
    board_of,
    load_agent,
    seed,
    seeds,
)
from chaoslib.cli import args as cli_args
from chaoslib.cli.main import main
from chaoslib.errors import UsageError
from chaoslib.game import Game
from tests.unit.test_agents import Everything, diagnose, repair

FAMILIES = ("network", "disk", "resources")


# -- test agents, loaded by their dotted path -------------------------------------------------------
def perfect(session: AgentSession) -> None:
    """Reads the status and the firewall rules as a person does, names it, fixes it, validates, finishes."""
    seen = Everything()
    found = diagnose(session, seen)
    if not found:
        session.declare_no_fault(evidence="all healthy")
    else:
        session.hypothesis([{"family": f, "targets": t} for f, t in found.items()], evidence="status")
        for family, targets in found.items():
            for target in targets:
                repair(session, family, target, seen)
        session.validate(recover_s=0)
    session.finish()


def contrarian(session: AgentSession) -> None:
    """Sees what `perfect` sees and names the next family instead (in a no-fault round: a disk on app1)."""
    found = diagnose(session, Everything()) or {"network": ["app1"]}
    session.hypothesis([{"family": FAMILIES[(FAMILIES.index(f) + 1) % 3], "targets": t} for f, t in found.items()])
    session.finish()


def walk_away(session: AgentSession) -> None:
    """Looks at the clock and leaves the game open: the board gives it up (declined)."""
    session.clock()


class Quitter:
    """A class on the dotted path: made once, then called per game; gives up at once."""

    def __call__(self, session: AgentSession) -> None:
        session.give_up()


def _bench(memory_stack, monkeypatch, tmp_path, agent: str, *extra: str) -> int:
    monkeypatch.setattr(cli_args, "Stack", lambda *a, **kw: memory_stack)
    monkeypatch.delenv("CHAOS_BOARD_SECRET", raising=False)
    return main(["bench", "agents", "--agent", agent, "--games", "1", "--no-fault", "1", "--validation-window", "0",
                 "--docs-dir", str(tmp_path), *extra])


def _rows(tmp_path) -> dict[str, dict]:
    return {r["agent"]: r for r in json.loads((tmp_path / "leaderboard.json").read_text())["rows"]}


class TestATinyBoard:
    def test_right_wrong_and_declined_are_counted_apart(self, memory_stack, monkeypatch, tmp_path, capsys):
        """One game per family and one no-fault round for three agents: both files, one row each, the columns
        right; a wrong answer counted as wrong, a declined one apart."""
        for agent in ("perfect", "contrarian", "walk_away"):
            assert _bench(memory_stack, monkeypatch, tmp_path, f"{__name__}:{agent}", "--board", "practice") == 0
        out = capsys.readouterr().out
        assert "games per hour" in out and "from one game's end to the next game's injection" in out
        rows = _rows(tmp_path)
        best, wrong, gone = (rows[f"{__name__}:{a}"] for a in ("perfect", "contrarian", "walk_away"))
        assert {r["set"] for r in rows.values()} == {PRACTICE} and all(r["games"] == 4 for r in rows.values())
        assert (best["diagnosis"], best["wrong"], best["declined"], best["detection"], best["localization"],
                best["mitigation"], best["points"]) == (1.0, 0, 0, 1.0, 1.0, 1.0, 100)
        assert best["median_ttd_s"] is not None and best["median_ttr_s"] is not None
        assert (wrong["diagnosis"], wrong["wrong"], wrong["declined"], wrong["detection"], wrong["mitigation"]) \
            == (0.0, 4, 0, 0.75, 0.0)
        assert (gone["diagnosis"], gone["wrong"], gone["declined"], gone["detection"]) == (0.0, 0, 4, 0.0)
        # The game's score: a wrong answer and no recovery cost 70; a declined one 30 (and 40 with a fault in place).
        assert gone["median_ttd_s"] is None and (wrong["points"], gone["points"]) == (30, 40)
        assert set(best["per_family"]) == {*FAMILIES, "no-fault"}
        assert best["per_family"]["no-fault"]["localization"] is None  # no fault to localize
        assert wrong["per_family"]["no-fault"]["wrong"] == 1 and len(best["played"]) == 4
        assert best["games_per_hour"] > 0 and best["median_gap_s"] >= 0
        md = (tmp_path / "leaderboard.md").read_text()
        for column in leaderboard.COLUMNS:
            assert f"- **{column}**: " in md
        header = next(line for line in md.splitlines() if line.startswith("| agent |"))
        assert [c.strip() for c in header.strip("|").split("|")] == [
            "agent", "set", "games", "detection", "localization", "diagnosis", "wrong", "declined", "mitigation",
            "median TTD", "median TTR", "points"]
        lines = [line for line in md.splitlines() if line.startswith(f"| {__name__}")]
        assert lines[0].startswith(f"| {__name__}:perfect | practice | 4 | 100% | 100% | 100% | 0 | 0 | 100% |")
        assert len(lines) == 3 and "| 0% | 4 | 0 |" in md and "| 0% | 0 | 4 |" in md

    def test_a_rerun_replaces_its_row_and_keeps_the_others(self, memory_stack, monkeypatch, tmp_path):
        for agent in ("perfect", "walk_away", "perfect"):
            assert _bench(memory_stack, monkeypatch, tmp_path, f"{__name__}:{agent}", "--families", "disk") == 0
        rows = _rows(tmp_path)
        assert len(rows) == 2 and rows[f"{__name__}:perfect"]["games"] == 2

    def test_the_baselines_play_a_game_to_its_end(self, memory_stack):
        """one-rule reads the status (no monitoring here) and wins a disk game; the detective always answers."""
        for agent in (OneRule(recover_s=0), Detective(timeout_s=0, recover_s=0)):
            run = leaderboard.play(memory_stack, agent, board=PRACTICE, secret=None, games=1, families=["disk"],
                                   no_fault=0, validation_window_s=0)
            assert run.games[0].answer in ("right", "wrong") and not Game(memory_stack).in_progress()
        first = leaderboard.play(memory_stack, OneRule(recover_s=0), board=PRACTICE, secret=None, games=1,
                                 families=["disk"], no_fault=0, validation_window_s=0)
        assert first.games[0].answer == "right" and first.games[0].localized


class TestTheLoader:
    def test_built_in_names_and_dotted_paths(self):
        assert isinstance(load_agent("detective"), Detective) and isinstance(load_agent("one-rule"), OneRule)
        assert load_agent(f"{__name__}:perfect") is perfect
        assert isinstance(load_agent(f"{__name__}:Quitter"), Quitter)

    @pytest.mark.parametrize("name, says", [("nobody", "unknown agent 'nobody'"),
                                            ("no.such.module:agent", "cannot load agent"),
                                            (f"{__name__}:missing", "cannot load agent"),
                                            (f"{__name__}:FAMILIES", "is not callable")])
    def test_an_unknown_agent_is_one_line(self, name, says):
        with pytest.raises(UsageError, match=says) as e:
            load_agent(name)
        assert "\n" not in e.value.one_line()

    def test_the_command_says_it_in_one_line(self, memory_stack, monkeypatch, tmp_path, capsys):
        assert _bench(memory_stack, monkeypatch, tmp_path, "nobody") == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "unknown agent 'nobody'" in err and "one-rule" in err
        assert not (tmp_path / "leaderboard.json").exists()


class TestSeeds:
    def test_practice_seeds_are_published(self):
        """Anyone derives them from the public label: sha256("practice:FAMILY:i")."""
        expected = int.from_bytes(hashlib.sha256(b"practice:disk:0").digest()[:8], "big") % 1_000_000
        assert seed(PRACTICE, "disk", 0) == expected and seeds(PRACTICE, "disk", 3) == seeds(PRACTICE, "disk", 3)
        assert len(set(seeds(PRACTICE, "disk", 20))) == 20
        assert seeds(PRACTICE, "disk", 5) != seeds(PRACTICE, "network", 5)

    def test_held_out_seeds_need_the_secret(self):
        """HMAC-SHA256 of the label under the secret: not the practice seeds, and another secret gives others."""
        held = seeds(HELD_OUT, "disk", 20, secret="s3cret")
        assert held == seeds(HELD_OUT, "disk", 20, secret="s3cret")
        assert not set(held) & set(seeds(PRACTICE, "disk", 20))
        assert not set(held) & set(seeds(HELD_OUT, "disk", 20, secret="guess"))
        mac = hmac.new(b"s3cret", b"held-out:disk:0", hashlib.sha256).digest()
        assert held[0] == int.from_bytes(mac[:8], "big") % 1_000_000
        with pytest.raises(UsageError, match="needs its secret"):
            seed(HELD_OUT, "disk", 0)

    def test_the_board_plays_held_out_only_with_the_secret(self, monkeypatch):
        monkeypatch.delenv("CHAOS_BOARD_SECRET", raising=False)
        assert board_of(None) == (PRACTICE, None) and board_of(PRACTICE) == (PRACTICE, None)
        with pytest.raises(UsageError, match="CHAOS_BOARD_SECRET"):
            board_of(HELD_OUT)
        monkeypatch.setenv("CHAOS_BOARD_SECRET", "s3cret")
        assert board_of(None) == (HELD_OUT, "s3cret") and board_of(PRACTICE) == (PRACTICE, None)

    def test_the_held_out_board_plays_other_games(self, memory_stack, monkeypatch, tmp_path):
        monkeypatch.setattr(cli_args, "Stack", lambda *a, **kw: memory_stack)
        monkeypatch.setenv("CHAOS_BOARD_SECRET", "s3cret")
        assert main(["bench", "agents", "--agent", f"{__name__}:perfect", "--games", "1", "--no-fault", "0",
                     "--families", "disk", "--board", "held-out", "--difficulty", "easy", "--validation-window", "0",
                     "--docs-dir", str(tmp_path)]) == 0
        row = _rows(tmp_path)[f"{__name__}:perfect"]
        held = seed(HELD_OUT, "disk", 0, secret="s3cret")
        assert row["set"] == HELD_OUT and "seed" not in row["played"][0]  # never published: the next run replays it
        assert row["played"][0]["seed_sha256"] == hashlib.sha256(str(held).encode()).hexdigest()
        assert str(held) not in (tmp_path / "leaderboard.json").read_text() + (tmp_path / "leaderboard.md").read_text()
        assert row["difficulty"] == "easy" and row["diagnosis"] == 1.0
        monkeypatch.delenv("CHAOS_BOARD_SECRET")
        assert main(["bench", "agents", "--agent", "one-rule", "--board", "held-out", "--docs-dir", str(tmp_path)]) == 2


class TestAPersonOnTheBoard:
    def _won(self, stack) -> Game:
        game = Game(stack, autopilot=False)
        game.start(seed=4, difficulty="easy", families=["disk"], steady_timeout=0)
        agent = AgentSession(game, validation_window_s=0, postmortem=False)
        perfect(agent)
        return game

    def test_a_finished_game_joins_the_board_once(self, memory_stack, monkeypatch, tmp_path, capsys):
        monkeypatch.setattr(cli_args, "Stack", lambda *a, **kw: memory_stack)
        assert _bench(memory_stack, monkeypatch, tmp_path, f"{__name__}:walk_away", "--families", "disk") == 0
        self._won(memory_stack)
        assert main(["board", "submit", "--name", "ada", "--docs-dir", str(tmp_path)]) == 0
        assert "submitted seed 4 (right, 100 points) as human:ada" in capsys.readouterr().out
        rows = _rows(tmp_path)
        ada = rows["human:ada"]
        assert (ada["set"], ada["games"], ada["diagnosis"], ada["points"]) == ("own", 1, 1.0, 100)
        assert ada["played"][0]["seed"] == 4 and ada["per_family"]["disk"]["games"] == 1 and len(rows) == 2
        assert "| human:ada | own | 1 | 100% |" in (tmp_path / "leaderboard.md").read_text()
        assert main(["board", "submit", "--name", "ada", "--docs-dir", str(tmp_path)]) == 2
        err = capsys.readouterr().err
        assert "already on the board" in err and err.count("\n") == 1

    def test_an_unfinished_or_abandoned_game_is_refused(self, memory_stack, monkeypatch, tmp_path, capsys):
        monkeypatch.setattr(cli_args, "Stack", lambda *a, **kw: memory_stack)
        assert main(["board", "submit", "--docs-dir", str(tmp_path)]) == 2  # no game at all
        game = Game(memory_stack, autopilot=False)
        game.start(seed=4, difficulty="easy", families=["disk"], steady_timeout=0)
        capsys.readouterr()
        assert main(["board", "submit", "--docs-dir", str(tmp_path)]) == 2
        assert "the game is not finished" in capsys.readouterr().err
        game.panic()
        assert main(["board", "submit", "--docs-dir", str(tmp_path)]) == 2
        assert "not finished" in capsys.readouterr().err and not (tmp_path / "leaderboard.json").exists()


class _OnCall:
    """A scripted session (the memory backend has no Prometheus, so nothing pages there): the page comes at the
    third look, the cause alert at the second look after it; it records what the agent answered."""

    def __init__(self, *, pages: bool) -> None:
        self.looks, self.alert_looks, self.pages, self.said = 0, 0, pages, None

    def page(self):
        self.looks += 1
        return {"alertname": "PollsHighErrorRatio"} if self.pages and self.looks >= 3 else None

    def alerts(self):
        if self.looks >= 3:
            self.alert_looks += 1
        firing = self.alert_looks >= 2
        return {"rows": [{"alertname": "DiskWriteErrors", "state": "firing"}] if firing else []}

    def status(self):
        return {"services": {"rows": [{"name": "app2", "kind": "replica", "healthy": True}]}}

    def query(self, _promql):
        return {"series": [{"labels": {"replica": "app2"}, "value": 3.0}] if self.alert_looks >= 2 else []}

    def declare_no_fault(self, *, evidence):
        self.said = "no fault"

    def hypothesis(self, findings, *, evidence):
        self.said = findings

    def apply_fix(self, name, arguments):
        return {}

    def view(self, name, arguments=None):
        return {"rows": []}

    def validate(self, *, recover_s):
        return {}

    def finish(self):
        return {}


class TestOneRuleWaitsLikeAPersonOnCall:
    def test_it_answers_after_the_page_and_the_cause_alert(self):
        """Not before the page (an answer at once would blame nothing): it waits, then names disk on app2."""
        session = _OnCall(pages=True)
        OneRule(recover_s=0, timeout_s=5, settle_s=5, interval_s=0.01)(session)  # type: ignore[arg-type]
        assert session.looks == 3 and session.alert_looks >= 2
        assert session.said == [{"family": "disk", "targets": ["app2"]}]

    def test_no_page_within_its_patience_is_no_fault(self):
        session = _OnCall(pages=False)
        OneRule(recover_s=0, timeout_s=0.05, settle_s=5, interval_s=0.01)(session)  # type: ignore[arg-type]
        assert session.looks > 1 and session.said == "no fault"
