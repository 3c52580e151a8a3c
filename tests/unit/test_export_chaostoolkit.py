"""`chaosctl export chaostoolkit` writes an experiment from the catalogue and steady.SLO; `chaosctl inject --tag`
and `chaosctl heal --tag` (the experiment's method and rollback) undo its own fault and no other. Memory backend."""
from __future__ import annotations

import json

import pytest

from chaoslib.engine.injector import active_faults, inject
from chaoslib.game.steady import SLO


def one_line_error(result: tuple[int, str, str]) -> str:
    code, out, err = result
    assert code == 2 and not out, result
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("chaosctl: error: "), err
    return lines[0]


class TestExport:
    def test_the_experiment_injects_checks_our_slos_and_heals_through_chaosctl(self, cli):
        code, out, _ = cli("export", "chaostoolkit", "lb-loss", "--target", "app1", "--target", "app3",
                           "--param", "fraction=0.3", "--ttl", "90")
        assert code == 0
        doc = json.loads(out)
        assert "lb-loss" in doc["title"] and "lb-loss" in doc["description"]
        assert {"chaos-control", "network", "lb-loss"} <= set(doc["tags"])
        assert doc["configuration"]["prometheus_url"] == {"type": "env", "key": "CHAOSCTL_PROMETHEUS_URL",
                                                          "default": "http://127.0.2.3:9090"}
        assert doc["configuration"]["chaosctl"]["default"] == "chaosctl"
        queries = [p["provider"]["arguments"]["query"] for p in doc["steady-state-hypothesis"]["probes"]]
        assert any(f"lb:errors:ratio_rate20s or vector(0)) <= {SLO['error_ratio_max']:g}" in q for q in queries)
        assert any(f"lb:latency_seconds:p95_20s or vector(0)) <= {SLO['p95_max_s']:g}" in q for q in queries)
        assert "lb:servers_up:count == lb:servers:count" in queries
        for probe in doc["steady-state-hypothesis"]["probes"]:
            assert probe["provider"]["url"] == "${prometheus_url}/api/v1/query"
            assert probe["tolerance"] == {"type": "jsonpath", "path": "$.data.result[*]", "count": 1,
                                          "target": "body"}
        (action,) = doc["method"]
        tag = "chaostoolkit-lb-loss-app1-app3"
        assert action["provider"]["arguments"] == ["${chaosctl}", "inject", "lb-loss", "--target", "app1",
                                                   "--target", "app3", "--param", "fraction=0.3", "--ttl", "90",
                                                   "--tag", tag]
        assert action["provider"]["path"] == "env" and action["pauses"]["after"] >= 20
        (rollback,) = doc["rollbacks"]
        assert rollback["provider"]["arguments"] == ["${chaosctl}", "heal", "--tag", tag]
        assert doc["runtime"]["rollbacks"]["strategy"] == "always"

    def test_defaults_app2_and_every_parameter_and_writes_out(self, cli, tmp_path):
        out = tmp_path / "x.json"
        assert cli("export", "chaostoolkit", "cpu-starve", "--out", str(out))[:2] == (0, "")
        args = json.loads(out.read_text())["method"][0]["provider"]["arguments"]
        assert args[2:] == ["cpu-starve", "--target", "app2", "--param", "cpu=0.02", "--ttl", "180",
                            "--tag", "chaostoolkit-cpu-starve-app2"]

    @pytest.mark.parametrize("argv, says", [
        (["nosuch"], "unknown scenario 'nosuch'"),
        (["lb-cutoff", "--target", "db"], "unknown target 'db'"),
        (["lb-cutoff", "--target", "app10"], "unknown target 'app10'"),
        (["lb-cutoff", "--target", "app1", "--target", "app1"], "a target is named twice"),
        (["lb-loss", "--param", "fraction=2"], "parameter fraction must be between"),
        (["lb-loss", "--param", "speed=1"], "unknown parameter 'speed'"),
        (["lb-cutoff", "--ttl", "0"], "ttl must be between"),
        ([], "name a SCENARIO"),
        (["--all"], "--all takes --dir"),
        (["lb-cutoff", "--all", "--dir", "x"], "--all takes --dir"),
    ])
    def test_bad_requests_are_one_line(self, cli, argv, says):
        assert says in one_line_error(cli("export", "chaostoolkit", *argv))


class TestHealByTag:
    def test_the_method_and_rollback_heal_their_own_fault_only(self, cli, memory_stack):
        person = inject(memory_stack, "cpu-starve", targets=["app1"])
        hidden = inject(memory_stack, "lb-cutoff", targets=["app3"], hidden=True)
        code, out, _ = cli("inject", "lb-cutoff", "--target", "app2", "--ttl", "60", "--tag", "ctk-x")
        assert code == 0 and out.startswith("injected f-")
        (mine,) = [r for r in active_faults(memory_stack) if r.tag == "ctk-x"]
        code, out, _ = cli("heal", "--tag", "ctk-x")
        assert code == 0 and out.strip() == f"healed {mine.id} (lb-cutoff on app2)"
        assert {r.id for r in active_faults(memory_stack)} == {person.id, hidden.id}
        # Again (the TTL may have healed it first): nothing to do, still a success.
        code, out, _ = cli("heal", "--tag", "ctk-x")
        assert code == 0 and "nothing to heal" in out

    def test_a_fault_of_the_same_scenario_and_target_without_the_tag_is_left(self, cli, memory_stack):
        """The experiment's injection is refused on a busy target; its rollback then undoes nothing."""
        person = inject(memory_stack, "lb-cutoff", targets=["app2"])
        assert "already has an active fault" in one_line_error(
            cli("inject", "lb-cutoff", "--target", "app2", "--tag", "ctk-x"))
        assert "nothing to heal" in cli("heal", "--tag", "ctk-x")[1]
        assert [r.id for r in active_faults(memory_stack)] == [person.id]

    def test_heal_by_id_still_works(self, cli, memory_stack):
        record = inject(memory_stack, "lb-cutoff", targets=["app1"])
        assert cli("heal", record.id)[:2] == (0, f"healed {record.id} (lb-cutoff on app1)\n")

    @pytest.mark.parametrize("argv, says", [
        ([], "heal takes a fault ID or --tag TAG"),
        (["f-123456", "--tag", "ctk-x"], "heal takes a fault ID or --tag TAG"),
        (["--tag", ""], "a tag must not be empty"),
    ])
    def test_bad_requests_are_one_line(self, cli, argv, says):
        assert says in one_line_error(cli("heal", *argv))
