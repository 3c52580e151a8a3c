"""observe.windows, evaluated by Prometheus's own engine (`promtool test rules`): a window cut at a game's start
counts nothing of the game before, and past the window the query is the original one."""
from __future__ import annotations

from pathlib import Path

import yaml

from chaoslib.observe import windows

from .tooling import run, tool

RULES = Path(__file__).resolve().parents[2] / "stack" / "prometheus" / "rules" / "recording.yml"
CUT = 600  # the new game's view begins 10 min into the test's time
OOM = "replica:oom_kills:increase5m"
RATE = 'rate(requests_total{replica="app1"}[1m])'


def _case(expr: str, at: int, samples: list[dict]) -> dict:
    return {"expr": expr, "eval_time": f"{at}s", "exp_samples": samples}


def test_a_cut_window_sees_only_what_followed_the_cut(tmp_path):
    promtool = tool("promtool")
    oom = windows.since(OOM, CUT)
    rate = windows.since(RATE, CUT)
    assert windows.lookback(OOM) == 300 and windows.lookback(RATE) == 60 and windows.since("up", CUT) == "up"
    tests = {"rule_files": [str(RULES)], "evaluation_interval": "10s", "tests": [{
        "interval": "10s",
        "input_series": [
            # an OOM kill 90 s before the cut (the previous game's), another 110 s after it (this game's)
            {"series": 'container_oom_events_total{replica="app1"}', "values": "0x50 1x19 2x60"},
            # 10 requests/s until the cut, then 0.1/s
            {"series": 'requests_total{replica="app1"}', "values": "0+100x60 6001+1x60"},
        ],
        "promql_expr_test": [
            # 20 s after the cut: the recorded count still holds the previous game's kill; the cut one does not
            _case(OOM, CUT + 20, [{"labels": 'replica:oom_kills:increase5m{replica="app1"}', "value": 1}]),
            _case(f"round({oom})", CUT + 20, [{"labels": '{replica="app1"}', "value": 0}]),
            # this game's own kill is counted
            _case(f"round({oom})", CUT + 120, [{"labels": '{replica="app1"}', "value": 1}]),
            # a window wholly after the cut: the recorded series itself (its name kept)
            _case(oom, CUT + 310, [{"labels": 'replica:oom_kills:increase5m{replica="app1"}', "value": 1}]),
            # 30 s after the cut: the plain rate mixes in the 10/s before it, the cut one reads 0.1/s
            _case(f"{RATE} > 1", CUT + 30, [{"labels": '{replica="app1"}', "value": 5.05}]),
            _case(f"round(100 * {rate})", CUT + 30, [{"labels": '{replica="app1"}', "value": 10}]),
            # past the window: the very rate Prometheus computes without a cut
            _case(f"({rate}) - {RATE}", CUT + 90, [{"labels": '{replica="app1"}', "value": 0}]),
        ],
    }]}
    path = tmp_path / "windows_test.yml"
    path.write_text(yaml.safe_dump(tests, sort_keys=False))
    run(promtool, "test", "rules", str(path), cwd=tmp_path)
