"""The experiments bench's reading of a Chaos Toolkit journal, and its one-line refusals."""
from __future__ import annotations

import pytest

from chaoslib.bench import experiments
from chaoslib.errors import UsageError


def journal(*, after_met: bool, rollback: str = "succeeded") -> dict:
    """A journal shaped as chaostoolkit-lib 1.44 writes it (the parts the bench reads)."""
    def probe(name: str, met: bool) -> dict:
        return {"activity": {"type": "probe", "name": name}, "status": "succeeded", "tolerance_met": met}
    return {
        "status": "completed", "deviated": not after_met, "duration": 41.2,
        "steady_states": {
            "before": {"steady_state_met": True, "probes": [probe("error-ratio-within-slo", True)]},
            "after": {"steady_state_met": after_met,
                      "probes": [probe("error-ratio-within-slo", after_met), probe("p95-latency-within-slo", True),
                                 probe("every-replica-in-rotation", after_met)]},
            "during": []},
        "run": [{"activity": {"name": "inject-x"}, "status": "succeeded"}],
        "rollbacks": [{"activity": {"name": "heal-x"}, "status": rollback}],
    }


def test_a_deviated_run_names_the_probes_that_broke():
    s = experiments.summary(journal(after_met=False))
    assert s == {"status": "completed", "deviated": True, "before_met": True, "method": ["succeeded"],
                 "after_met": False, "broken": ["error-ratio-within-slo", "every-replica-in-rotation"],
                 "rollbacks": ["succeeded"], "duration_s": 41.2}


def test_a_run_that_held_breaks_nothing_and_its_line_says_so():
    s = experiments.summary(journal(after_met=True, rollback="failed"))
    assert s["broken"] == [] and not s["deviated"] and s["rollbacks"] == ["failed"]
    text = experiments.line({**s, "scenario": "lb-loss", "exit_code": 0, "wall_s": 44.0, "faults_left": []})
    assert "after met" in text and "rollback failed" in text and "journal completed," in text


def test_an_unknown_scenario_is_refused_naming_the_experiments(tmp_path):
    (tmp_path / "lb-cutoff.json").write_text("{}")
    with pytest.raises(UsageError, match=r"no experiment for 'lb-cut' in .*: there are lb-cutoff$"):
        experiments.experiment_path("lb-cut", tmp_path)
    assert experiments.experiment_path("lb-cutoff", tmp_path) == tmp_path / "lb-cutoff.json"
