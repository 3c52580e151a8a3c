"""Notebooks are committed thin and clean: no outputs, no execution counts, chaoslib does the work."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_outputs_stripped(path):
    """No code cell carries outputs or an execution count."""
    nb = nbformat.read(path, as_version=4)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"cells {dirty} of {path.name} have outputs: strip them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_thin(path):
    """Code cells stay short: logic belongs in chaoslib, not in the notebook."""
    nb = nbformat.read(path, as_version=4)
    long = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and len(c.source.splitlines()) > 12]
    assert not long, f"cells {long} of {path.name} are long: move the logic into chaoslib"


#: What a player's notebook never shows: test code (asserts, autopilot branches, the environment) or test markers.
TEST_CODE = ("assert ", "autopilot", "NBVAL_", "import os", "environ")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_cells_a_player_writes(path):
    """One import (the game's), and no test code: the checks live in the tests and the autopilot in the widgets."""
    cells = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    imports = [line for src in cells for line in src.splitlines() if line.startswith(("import ", "from "))]
    assert len(imports) == 1 and imports[0].startswith("from chaoslib.game import Game"), imports
    found = [(i, word) for i, src in enumerate(cells) for word in TEST_CODE if word in src]
    assert not found, f"code cells of {path.name} hold test code: {found}"


def test_sequence_is_complete():
    """00 to 05 are all there, in order."""
    assert [p.name[:2] for p in NOTEBOOKS] == ["00", "01", "02", "03", "04", "05"]
