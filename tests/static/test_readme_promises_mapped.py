"""Every README promise has a row in docs/testing.md's table, and every test a row names exists.

What a promise is (commands, bold claims, figures with a unit) and how a row covers one are in
tests/static/readme_promises.py. The controls show the check can fail: a README with a promise no
row covers, and a row naming a test that is not there.
"""
from __future__ import annotations

import subprocess

import pytest

from tests.static import readme_promises as rp

README = (rp.REPO / "README.md").read_text()
ROWS = rp.table((rp.REPO / "docs" / "testing.md").read_text())

def test_every_readme_promise_has_a_row():
    """Each command, bold claim and figure of README.md is covered by a row of the table."""
    left = rp.unmapped(README, ROWS)
    assert not left, ("README promises without a row in docs/testing.md's table (add one naming its test):\n  "
                      + "\n  ".join(left))


@pytest.mark.parametrize("row", ROWS, ids=[f"line{r.line}" for r in ROWS])
def test_every_test_named_exists(row):
    """Each file, class and function a row names is there (parsed with ast), each bench output too."""
    assert not rp.missing_tests(row), f"line {row.line}: {rp.missing_tests(row)}"


#: What each `make` target the README shows must run (its dry run's text), beyond existing.
MAKE_RUNS = {"up": "chaosctl up", "down": "chaosctl down", "test": "pytest tests", "deps": "pip install",
             "docker-down": "down", "docker-lab": "lab", "docker-up": "up -d", "bench": "chaosctl bench"}


def test_every_make_target_the_readme_shows_dry_runs():
    """Each `make TARGET` of the README is a Makefile target (`make -n` succeeds) that runs what it says."""
    targets = sorted({c.split()[1] for c in rp.commands(README) if c.startswith("make ") and "--" not in c})
    assert {"up", "test", "down", "docker-up", "bench"} <= set(targets)
    for target in targets:
        out = subprocess.run(["make", "-n", target, "STAMP=/dev/null"], capture_output=True, text=True,
                             cwd=rp.REPO, timeout=60)
        assert out.returncode == 0, (target, out.stderr)
        assert MAKE_RUNS.get(target, "") in out.stdout, (target, out.stdout[-500:])


def test_the_promises_are_found():
    """The finder sees the promises this suite relies on: the objectives, a flag, a bold claim."""
    found = rp.promises(README)
    assert {"figure: 1 %", "figure: 250 ms", "figure: 45 minutes", "command: chaosctl down --purge",
            "command: make up", "bold: Six replicas play well"} <= found


CONTROL = """# A game

    chaosctl frobnicate --now      undo the universe

Every request is **answered twice**, in under 7 ms.

## Numbers

| replicas | start-up |
| --- | --- |
| 3 | 2.6 s |
"""


def test_control_an_unmapped_promise_fails():
    """A README with a new command, flag, bold claim and figure and no row for them: each is reported."""
    assert rp.unmapped(CONTROL, []) == ["bold: answered twice", "command: chaosctl frobnicate",
                                        "command: chaosctl frobnicate --now", "figure: 2.6 s", "figure: 7 ms"]
    rows = [rp.Row("`chaosctl frobnicate --now`: every request is answered twice, in under 7 ms",
                   "`tests/unit/test_readme_promises.py`", 1),
            rp.Row("§ Numbers", "`docs/bench-scale.txt`", 2)]
    assert rp.unmapped(CONTROL, rows) == []
    assert rp.unmapped(CONTROL, rows[:1]) == ["figure: 2.6 s"]
    # A section row counts only when its test cell names the bench that measured it.
    assert rp.unmapped(CONTROL, [rows[0], rp.Row("§ Numbers", "`tests/unit/test_draw.py`", 2)]) == ["figure: 2.6 s"]


def test_control_a_missing_test_is_reported():
    """A file, a class and a method that do not exist, and a bench output that is not there, are named."""
    row = rp.Row("x", "`tests/unit/test_nope.py`, `tests/unit/test_scoring.py::TestNope`, "
                      "`tests/unit/test_scoring.py::TestScore::test_nope`, `TestSpeedBands::test_nope`, "
                      "`tests/unit/test_scoring.py::TestScore::test_times_come_from_the_journal`, "
                      "`docs/bench-nope.txt`", 1)
    assert rp.missing_tests(row) == ["tests/unit/test_nope.py", "tests/unit/test_scoring.py::TestNope",
                                     "tests/unit/test_scoring.py::TestScore::test_nope",
                                     "tests/unit/test_scoring.py::TestSpeedBands::test_nope", "docs/bench-nope.txt"]
    assert rp.missing_tests(rp.Row("x", "nothing in code, `Stack.endpoints()`", 7)) == ["line 7: no test named"]
