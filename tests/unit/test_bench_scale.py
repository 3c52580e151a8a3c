"""`chaosctl bench scale`: its argument, its report, and the one-line error for bad input."""
from __future__ import annotations

import subprocess
import sys

import pytest

from chaoslib.bench.scale import SizeResult, parse_sizes, report
from chaoslib.errors import UsageError


def test_sizes_are_parsed_in_order_without_repeats():
    """'1,3,6' gives [1, 3, 6]; spaces are allowed and a repeated size is measured once."""
    assert parse_sizes("1,3,6", maximum=9) == [1, 3, 6]
    assert parse_sizes(" 6, 1 ,6", maximum=9) == [6, 1]


@pytest.mark.parametrize("text", ["", "1;3", "one", "1,,3", "-1", "0,3", "3,10"])
def test_bad_sizes_name_the_option(text):
    """Anything but a list of counts between 1 and the maximum is a UsageError naming --replicas."""
    with pytest.raises(UsageError, match="--replicas"):
        parse_sizes(text, maximum=9)


def test_report_gives_one_line_per_size_and_the_growth_per_replica():
    """The table has a row per size (median start-up, PSS, page times, detective) and the cost of a replica."""
    small = SizeResult(1, startup_s=[2.0, 3.0, 2.5], pss_mib=300.0, rss_mib=500.0, processes=20,
                       page_s={"lb-loss": 20.0, "disk-full": None}, detective_right=8, detective_games=9)
    big = SizeResult(6, startup_s=[5.0, 4.0, 4.5], pss_mib=600.0, rss_mib=1000.0, processes=40,
                     page_s={"lb-loss": 25.0, "disk-full": 22.0}, detective_right=9, detective_games=9)
    lines = report([small, big]).splitlines()
    assert lines[1].split()[:5] == ["1", "2.5s", "300", "500", "20"]
    assert "8/9" in lines[1] and "-" in lines[1].split()  # a scenario that never paged shows "-"
    assert lines[2].split()[:5] == ["6", "4.5s", "600", "1000", "40"]
    assert lines[3].startswith("each added replica: +60.0 MiB PSS, +0.40 s start-up")
    assert "PSS x2.00" in lines[3]


def test_cli_rejects_bad_sizes_in_one_line_before_touching_the_stack(tmp_path):
    """`chaosctl bench scale --replicas 0,3` exits non-zero with one line naming --replicas, no traceback."""
    # matplotlib's cache in tmp_path: a user whose home cannot be written (nobody's) gets no warning lines.
    env = {"CHAOSCTL_STATE_DIR": str(tmp_path / "state"), "PATH": "/usr/bin:/bin",
           "MPLCONFIGDIR": str(tmp_path / "matplotlib")}
    proc = subprocess.run([sys.executable, "-m", "chaoslib.cli", "bench", "scale", "--replicas", "0,3"],
                          capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode != 0
    err = proc.stderr.strip().splitlines()
    assert len(err) <= 2 and "--replicas" in err[0] and "Traceback" not in proc.stderr, proc.stderr
    assert not (tmp_path / "state").exists()
