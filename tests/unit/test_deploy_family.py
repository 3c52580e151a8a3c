"""The deploy family on the in-memory backend: a roll to a faulty release with its strength, a restart that
keeps it, the rollback fix and the release-history view, undo/panic/TTL, the draw, and the detective's rule."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from chaoslib.backends.base import Features, check_settings
from chaoslib.config import Settings
from chaoslib.engine.injector import heal, heal_expired, inject, panic
from chaoslib.errors import UsageError
from chaoslib.faults import FAMILIES, SCENARIOS, Finding, Pending, Signals, default_families, deploy
from chaoslib.game import Game, scoring
from chaoslib.game.detective import diagnose
from chaoslib.game.draw import draw, draw_game
from chaoslib.game.widgets import fix_panel
from chaoslib.native import release_log
from chaoslib.native.programs import programs
from pollapp import releases

TARGETS = ["app1", "app2", "app3"]
ROLLING = Features(releases=True)


def _knobs(stack, target: str) -> dict[str, str]:
    return stack.backend.services[target].knobs


class TestScenarios:
    def test_bad_votes_rolls_the_target_with_its_strength(self, memory_stack):
        """The target runs the faulty-votes release with the drawn share; its peers are untouched."""
        record = inject(memory_stack, "deploy-bad-votes", targets=["app2"], params={"share": 0.65})
        backend = memory_stack.backend
        assert backend.release(target="app2") == releases.FAULTY_VOTES
        assert _knobs(memory_stack, "app2") == {"APP_VOTE_ERROR_SHARE": "0.65"}
        assert [v for _, v in backend.release_history(target="app2")] == [releases.CURRENT, releases.FAULTY_VOTES]
        assert {backend.release(target=t) for t in ("app1", "app3")} == {releases.CURRENT}
        assert record.undo == [{"op": "set_release", "target": "app2", "release": releases.CURRENT}]

    def test_slow_reads_rolls_with_an_n_plus_one_of_the_drawn_delay(self, memory_stack):
        inject(memory_stack, "deploy-slow-reads", targets=["app1", "app3"], params={"delay_ms": 4})
        for t in ("app1", "app3"):
            assert memory_stack.backend.release(target=t) == releases.SLOW_READS
            assert _knobs(memory_stack, t) == {"APP_TALLY_QUERIES": "1", "APP_TALLY_DELAY_MS": "4"}
        assert memory_stack.backend.release(target="app2") == releases.CURRENT

    def test_at_most_two_replicas_and_a_share_in_range(self, memory_stack):
        with pytest.raises(UsageError, match="takes 1 to 2 targets"):
            inject(memory_stack, "deploy-bad-votes", targets=TARGETS)
        with pytest.raises(UsageError, match="share must be between"):
            inject(memory_stack, "deploy-bad-votes", targets=["app1"], params={"share": 1.5})
        assert {memory_stack.backend.release(target=t) for t in TARGETS} == {releases.CURRENT}

    def test_a_restart_keeps_the_faulty_release(self, memory_stack):
        record = inject(memory_stack, "deploy-bad-votes", targets=["app2"])
        memory_stack.backend.restart(target="app2")
        assert memory_stack.backend.release(target="app2") == releases.FAULTY_VOTES
        assert _knobs(memory_stack, "app2") == {"APP_VOTE_ERROR_SHARE": "0.7"}
        gone, why = scoring.effect_gone(memory_stack.backend, record)
        assert not gone and why == f"app2 ({releases.FAULTY_VOTES}) still on a faulty release"

    @pytest.mark.parametrize("undo", ["heal", "panic", "ttl"])
    def test_undo_panic_and_the_ttl_roll_back(self, memory_stack, undo):
        """Every way out puts the replica back on the release it ran, without knobs, footprint as before."""
        before = memory_stack.backend.fault_footprint()
        record = inject(memory_stack, "deploy-slow-reads", targets=["app3"], ttl_s=1 if undo == "ttl" else None)
        assert memory_stack.backend.fault_footprint() != before
        if undo == "heal":
            heal(memory_stack, record.id)
        elif undo == "panic":
            assert any(line == f"healed {record.id}" for line in panic(memory_stack))
        else:
            time.sleep(1.1)
            assert heal_expired(memory_stack) == ([record.id], [])
        assert memory_stack.backend.fault_footprint() == before
        assert _knobs(memory_stack, "app3") == {}

    def test_panics_sweep_rolls_back_a_roll_nobody_recorded(self, memory_stack):
        memory_stack.backend.set_release(target="app1", release=releases.SLOW_READS,
                                         settings={"APP_TALLY_DELAY_MS": "9"})
        assert f"rolled app1 back to release {releases.CURRENT}" in panic(memory_stack)
        assert memory_stack.backend.release(target="app1") == releases.CURRENT and _knobs(memory_stack, "app1") == {}


class TestSettings:
    def test_only_the_release_knobs_with_sane_values(self):
        assert check_settings(None) == {} and check_settings({"APP_TALLY_QUERIES": 2}) == {"APP_TALLY_QUERIES": "2"}
        for bad, said in (({"APP_RELEASE": "2026.12.1"}, "unknown release setting 'APP_RELEASE'"),
                          ({"APP_VOTE_ERROR_SHARE": "2"}, "between 0 and 1"),
                          ({"APP_TALLY_DELAY_MS": "slow"}, "must be a number")):
            with pytest.raises(UsageError) as e:
                check_settings(bad)
            assert said in e.value.one_line() and "\n" not in e.value.one_line()

    def test_a_roll_with_the_same_release_but_other_knobs_is_a_roll(self, memory_stack):
        backend = memory_stack.backend
        backend.set_release(target="app1", release=releases.FAULTY_VOTES)
        backend.set_release(target="app1", release=releases.FAULTY_VOTES)
        backend.set_release(target="app1", release=releases.FAULTY_VOTES, settings={"APP_VOTE_ERROR_SHARE": "0.9"})
        assert len(backend.release_history(target="app1")) == 3

    def test_the_native_record_keeps_each_rolls_knobs_and_the_programs_run_them(self, tmp_path):
        path = tmp_path / "releases.json"
        release_log.append(path, "app2", releases.FAULTY_VOTES, 100.0, {"APP_VOTE_ERROR_SHARE": "0.8"})
        release_log.append(path, "app3", releases.SLOW_READS, 110.0, {"APP_TALLY_DELAY_MS": "3"})
        release_log.append(path, "app3", releases.CURRENT, 120.0)
        assert release_log.knobs(path) == {"app2": {"APP_VOTE_ERROR_SHARE": "0.8"}, "app3": {}}
        assert release_log.load(path)["app2"] == [(100.0, releases.FAULTY_VOTES)]
        progs = {p.name: p.env for p in programs(Settings(state_dir=tmp_path), secret_key="k",
                                                 running={"app2": releases.FAULTY_VOTES},
                                                 knobs=release_log.knobs(path)) if p.kind == "replica"}
        assert progs["app2"]["APP_VOTE_ERROR_SHARE"] == "0.8" and progs["app2"]["APP_RELEASE"] == releases.FAULTY_VOTES
        assert not any(k.startswith(("APP_VOTE", "APP_TALLY")) for t in ("app1", "app3") for k in progs[t])


class TestFix:
    def test_rollback_returns_to_the_release_before_and_ends_the_effect(self, memory_stack):
        record = inject(memory_stack, "deploy-bad-votes", targets=["app2"])
        assert deploy.rollback(memory_stack, target="app2") == releases.CURRENT
        assert scoring.effect_gone(memory_stack.backend, record) == (True, " still on a faulty release")
        assert _knobs(memory_stack, "app2") == {}

    def test_rollback_of_a_replica_never_rolled_is_a_one_line_error(self, memory_stack):
        with pytest.raises(UsageError) as e:
            deploy.rollback(memory_stack, target="app1")
        line = e.value.one_line()
        assert "app1 has run only 2026.12.0" in line and "release-history" in line and "\n" not in line
        assert memory_stack.backend.release(target="app1") == releases.CURRENT
        assert deploy.rollback(memory_stack, target="app1", release=releases.PREVIOUS) == releases.PREVIOUS
        with pytest.raises(UsageError, match="unknown target"):
            deploy.rollback(memory_stack, target="app9")

    def test_the_release_history_view_and_the_game_offer_them(self, memory_stack):
        inject(memory_stack, "deploy-slow-reads", targets=["app2"])
        game = Game(memory_stack, autopilot=False)
        frame = game.view("release-history")
        assert list(frame.columns) == ["replica", "since", "version", "revision", "notes", "running"]
        app2 = frame[frame.replica == "app2"]
        assert list(app2.version) == [releases.CURRENT, releases.SLOW_READS] and list(app2.running) == [False, True]
        assert app2.notes.iloc[-1] == releases.get(releases.SLOW_READS).summary
        assert list(game.view("release-history", target="app1").version) == [releases.CURRENT]
        assert "rollback" in {f.name for f in game.fixes()}
        assert "release-history" in {v.name for v in game.views()}


class TestDraw:
    def test_the_default_draw_never_rolls_a_release(self):
        assert "deploy" not in default_families() and "deploy" in FAMILIES
        for seed in range(300):
            for difficulty in ("easy", "normal", "hard"):
                game = draw_game(seed=seed, difficulty=difficulty, targets=TARGETS, features=ROLLING)
                assert all(d.family != "deploy" for d in game.faults)

    def test_asked_for_it_draws_it_with_its_strengths(self):
        seen = set()
        for seed in range(60):
            for difficulty in ("easy", "normal", "hard"):
                first = draw(seed=seed, difficulty=difficulty, targets=TARGETS, features=ROLLING,
                             families=["deploy"])[0]
                sc = SCENARIOS[first.scenario]
                spec = sc.strength[difficulty]
                assert first.family == "deploy" and 1 <= len(first.targets) <= (1 if difficulty == "easy" else 2)
                assert spec.low <= first.params[spec.param] <= spec.high
                seen.add(first.scenario)
        assert seen == {"deploy-bad-votes", "deploy-slow-reads"}
        assert any(d.family == "deploy" for s in range(100)
                   for d in draw(seed=s, difficulty="normal", targets=TARGETS, features=ROLLING, families=["all"]))

    def test_a_backend_that_cannot_roll_is_told_so_and_all_skips_it(self):
        with pytest.raises(UsageError, match="no scenario of the deploy family can run"):
            draw(seed=1, difficulty="normal", targets=TARGETS, features=Features(), families=["deploy"])
        assert all(d.family != "deploy" for s in range(100) for d in
                   draw(seed=s, difficulty="hard", targets=TARGETS, features=Features(), families=["all"]))


def _signals(window_s: float = 120, **values: dict[str, float]) -> Signals:
    names = [n for fam in FAMILIES.values() for n in (*fam.queries, *fam.gathered)]
    return Signals(window_s, **{n: values.get(n, {}) for n in names})


class TestRule:
    def test_a_roll_lined_up_with_errors_or_slowness_is_named(self):
        said = deploy.rule(_signals(deploy_rolls={"app2": 1}, deploy_errors={"app2": 0.2, "app1": 0.0}), set())
        assert isinstance(said, Finding) and said.key() == ("deploy", ("app2",)) and "votes fail" in said.cause
        said = deploy.rule(_signals(deploy_versions={"app1": 2, "app3": 2, "app2": 1},
                                    deploy_p95={"app1": 0.6, "app3": 0.2, "app2": 0.05}), set())
        assert isinstance(said, Finding) and said.key() == ("deploy", ("app1", "app3")) and "slow" in said.cause

    def test_without_a_symptom_it_waits_then_names_weakly(self):
        assert isinstance(deploy.rule(_signals(30, deploy_rolls={"app2": 1}), set()), Pending)
        weak = deploy.rule(_signals(120, deploy_rolls={"app2": 1}), set())
        assert isinstance(weak, Finding) and weak.confidence < 0.6

    def test_nothing_changed_or_already_explained_is_nothing(self):
        assert deploy.rule(_signals(deploy_errors={"app2": 0.5}, deploy_versions={"app2": 1}), set()) is None
        assert deploy.rule(_signals(deploy_rolls={"app2": 1}, deploy_errors={"app2": 0.5}), {"app2"}) is None
        said = deploy.rule(_signals(deploy_off_peers={"app3": 1.0}, deploy_errors={"app3": 0.3}), set())
        assert isinstance(said, Finding) and said.targets == ["app3"]

    def test_the_detective_names_deploy_before_the_network_on_a_slow_rolled_replica(self):
        s = _signals(deploy_rolls={"app2": 1}, deploy_p95={"app2": 0.9}, lb_slow={"app2": 0.6, "app1": 0.0},
                     scrape_up={"app1": 1.0, "app2": 1.0, "app3": 1.0}, lb_up={"app1": 1.0, "app2": 1.0, "app3": 1.0})
        assert diagnose(s).said() == (("deploy", ("app2",)),)

    def test_its_gather_reads_the_rolls_of_the_game(self, memory_stack):
        since = time.time() - 1
        inject(memory_stack, "deploy-bad-votes", targets=["app3"])
        got = deploy.rolls(memory_stack, since)
        assert got == {"deploy_rolls": {"app3": 1.0}, "deploy_off_peers": {"app3": 1.0}}
        assert deploy.rolls(memory_stack, time.time() + 1)["deploy_rolls"] == {}

    def test_a_backend_that_cannot_roll_gives_no_roll_and_no_error(self, memory_stack, monkeypatch):
        monkeypatch.setattr(memory_stack.backend, "features", Features())
        monkeypatch.setattr(memory_stack.backend, "release", lambda **kw: (_ for _ in ()).throw(NotImplementedError))
        assert deploy.rolls(memory_stack, 0.0) == {"deploy_rolls": {}, "deploy_off_peers": {}}


def test_a_deploy_game_hints_at_releases(memory_stack):
    game = Game(memory_stack, autopilot=False)
    game.start(seed=3, difficulty="normal", families=["deploy"], steady_timeout=0)
    assert set(game.truth()) == {"deploy"}
    game.hint()
    assert "release" in game.hint().text


def test_the_releases_tab_shows_the_history_and_rolls_back(memory_stack, capsys):
    """The fix panel's Releases tab: its history line names the faulty release, its button rolls back."""
    game = Game(memory_stack, autopilot=False)
    game.start(seed=3, difficulty="easy", families=["deploy"], steady_timeout=0)
    target = game.truth()["deploy"][0]
    panel = fix_panel(game)
    tabs = panel.children[0]
    releases_tab = tabs.children[[tabs.get_title(i) for i in range(len(tabs.children))].index("Releases")]
    releases_tab.children[0].value = target
    panel.buttons["show_history"].click()
    said = capsys.readouterr().out
    assert f"{target}: {releases.CURRENT} since" in said and f"-> {releases.SLOW_READS} since" in said
    panel.buttons["rollback"].click()
    assert f"rolled {target} back to release {releases.CURRENT}" in capsys.readouterr().out
    assert memory_stack.backend.release(target=target) == releases.CURRENT
    assert game.validate(window_s=0, recover_s=0).passed


def test_a_deploy_game_from_the_terminal(cli, memory_stack):
    """play --families deploy; the history view names the roll; a restart does not validate, a rollback does;
    the postmortem's root cause names the release the replica was rolled to."""
    code, out, err = cli("play", "--seed", "5", "--difficulty", "normal", "--families", "deploy", "--json")
    assert code == 0, err
    ((family, targets),) = Game(memory_stack).truth().items()
    assert family == "deploy"
    code, out, _ = cli("fix", "--show", "release-history", "--json")
    rows = json.loads(out)
    rolled = {r["replica"] for r in rows if r["running"] and not releases.get(r["version"]).good}
    assert code == 0 and rolled == set(targets)
    for t in targets:
        cli("fix", "restart", "--target", t)
    assert cli("validate", "--window", "0", "--recover", "0")[0] == 1
    for t in targets:
        code, out, _ = cli("fix", "rollback", "--target", t)
        assert code == 0 and out.strip() == f"applied rollback(target={t}): {releases.CURRENT}"
    code, out, err = cli("validate", "--window", "0", "--recover", "0")
    assert code == 0 and out.startswith("validated"), (out, err)
    outcome = json.loads(cli("score", "--no-plots", "--json")[1])
    text = Path(outcome["postmortem"]).read_text()
    version = releases.SLOW_READS if "deploy-slow-reads" in text else releases.FAULTY_VOTES
    assert f"(deploy): release {version} rolled to replicas" in text
