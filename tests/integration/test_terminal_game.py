"""A whole game played with `chaosctl` alone, on the live native stack, and won.

Every step is a `python -m chaoslib.cli` process, as a person at a terminal runs it: play, wait for
the page, read the status, record a hypothesis, look at the fixes, apply one, validate, score. The
hypothesis comes from what those commands print (the page's replica, the limits `status` shows),
never from the fault registry or the detective.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from chaoslib import config

pytestmark = pytest.mark.integration

#: A seeded easy game of the resources family: loud, and readable from `chaosctl status` alone.
SEED, DIFFICULTY, FAMILIES = 5, "easy", "resources"


def chaosctl(stack, *args: str, timeout: float = 420) -> subprocess.CompletedProcess:
    """Run `chaosctl` on the test stack's state directory, with the short windows of CHAOSCTL_FAST."""
    env = {k: v for k, v in os.environ.items() if k not in ("CHAOSCTL_FAMILY", "CHAOSCTL_AUTOPILOT")}
    env["CHAOSCTL_FAST"] = "1"
    return subprocess.run([sys.executable, "-m", "chaoslib.cli", "--state-dir", str(stack.settings.state_dir),
                           *args], capture_output=True, text=True, env=env, timeout=timeout, cwd=config.REPO_ROOT)


def answer(proc: subprocess.CompletedProcess, code: int = 0):
    """The JSON a command printed, once it exited with `code`."""
    assert proc.returncode == code, (proc.args[4:], proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:])
    return json.loads(proc.stdout)


def starved(services: list[dict]) -> list[str]:
    """The replicas whose CPU or memory limit is a small fraction of their peers' (what a person spots in status)."""
    replicas = [s for s in services if s["kind"] == "replica"]
    most_cpu = max(s["cpu_limit_cores"] or 0 for s in replicas)
    most_memory = max(s["memory_limit_bytes"] or 0 for s in replicas)
    return sorted(s["name"] for s in replicas
                  if (s["cpu_limit_cores"] or most_cpu) < most_cpu / 4
                  or (s["memory_limit_bytes"] or most_memory) < most_memory / 4)


def test_a_whole_game_in_the_terminal_is_won(live_stack, figures, capsys):
    assert chaosctl(live_stack, "panic").returncode == 0  # no game or fault left by an earlier test
    began = time.monotonic()
    try:
        info = answer(chaosctl(live_stack, "play", "--seed", str(SEED), "--difficulty", DIFFICULTY,
                               "--families", FAMILIES, "--json"))
        assert (info["seed"], info["difficulty"], info["status"]) == (SEED, DIFFICULTY, "playing")
        played = time.monotonic()

        page = answer(chaosctl(live_stack, "page", "--wait", "300", "--json"))
        assert page["alertname"] and page["after_s"] > 0
        paged = time.monotonic()

        # What a person on call reads next: the status of every service. One replica's limits stand out.
        proc = chaosctl(live_stack, "status", "--json")
        assert proc.returncode in (0, 1), proc.stderr  # 1: a service unhealthy (a starved replica may still pass)
        status = json.loads(proc.stdout)
        suspects = starved(status["services"])
        assert suspects, json.dumps(status["services"], indent=1)
        assert not page["replica"] or page["replica"] in suspects, (page, suspects)
        finding = f"resources:{','.join(suspects)}"
        hyp = answer(chaosctl(live_stack, "hypothesis", "--finding", finding, "--evidence",
                              f"{page['alertname']}; limits of {', '.join(suspects)} far below their peers'",
                              "--json"))
        assert hyp["version"] == 1 and hyp["findings"] == [{"family": "resources", "targets": suspects}]
        assert [h["version"] for h in answer(chaosctl(live_stack, "hypothesis", "--json"))] == [1]

        offers = {f["name"]: f for f in answer(chaosctl(live_stack, "fix", "--json"))["fixes"]}
        assert {"target", "cpu", "memory_mb"} <= set(offers["set_limits"]["arguments"])
        for target in suspects:
            done = answer(chaosctl(live_stack, "fix", "set_limits", "--target", target, "--arg", "cpu=1",
                                   "--arg", "memory_mb=512", "--json"))
            assert done["result"] == {"cpu": 1, "memory": 512 * 2**20}, done
        fixed = time.monotonic()

        proc = chaosctl(live_stack, "validate", "--json")
        validation = answer(proc)
        assert validation["passed"] and validation["problems"] == [], validation
        assert "steady state holding" in proc.stderr  # the progress went to stderr, the answer to stdout
        validated = time.monotonic()

        outcome = answer(chaosctl(live_stack, "score", "--json"))
        score = outcome["score"]
        assert score["diagnosis_correct"] and score["findings_right"] == score["findings_out_of"] == 1, score
        assert score["time_to_recover_s"] is not None and score["time_to_detect_s"] is not None, score
        assert score["wrong_fixes"] == 0 and score["hints_used"] == 0 and score["points"] >= 90, score
        assert [(f["family"], f["targets"]) for f in outcome["faults"]] == [("resources", suspects)]
        assert os.path.exists(outcome["postmortem"])
        wall = time.monotonic() - began

        text = chaosctl(live_stack, "score")  # asked again: the same reveal, in words
        assert text.returncode == 0 and "The incident was:" in text.stdout and "The postmortem: " in text.stdout
        assert outcome["faults"][0]["strength"] in text.stdout
    finally:
        chaosctl(live_stack, "panic")
    line = (f"terminal game won in {wall:.0f} s: play {played - began:.0f} s, page after {paged - played:.0f} s, "
            f"diagnosis and fix {fixed - paged:.0f} s, validation {validated - fixed:.0f} s, score "
            f"{wall - (validated - began):.0f} s; {score['points']} points")
    figures.append(line)
    with capsys.disabled():
        print(f"\n[terminal game] {line}")
