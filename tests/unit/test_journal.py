"""The game journal survives damage: a broken game.json is moved aside and a new game can start."""
from __future__ import annotations

import json

import pytest

from chaoslib.game.session import GameJournal, GameState


@pytest.mark.parametrize("content", ['{"seed": 1, "difficu', "[]", '{"seed": 1}', "", '{"seed": 1, "bogus": 2}'])
def test_a_damaged_journal_is_quarantined(tmp_path, content):
    """Truncated, empty, the wrong shape or missing fields: load gives no game and keeps the file aside."""
    path = tmp_path / "game.json"
    path.write_text(content)
    journal = GameJournal(path)
    assert journal.load() is None
    assert not path.exists()
    aside = list(tmp_path.glob("game.json.damaged-*"))
    kept = [p for p in aside if not p.name.endswith(".why")]
    assert len(kept) == 1 and kept[0].read_text() == content
    assert [p for p in aside if p.name.endswith(".why")][0].read_text().strip()


def test_a_saved_journal_reads_back_and_is_private(tmp_path):
    """What is saved loads back the same, and the file (it names the hidden faults) is 0600."""
    journal = GameJournal(tmp_path / "game.json")
    state = GameState(seed=7, difficulty="hard", started_at=1.0, fault_ids=["f-1"])
    state.add("incident-started", seed=7)
    journal.save(state)
    assert journal.load() == state
    assert (tmp_path / "game.json").stat().st_mode & 0o777 == 0o600
    assert json.loads((tmp_path / "game.json").read_text())["fault_ids"] == ["f-1"]
