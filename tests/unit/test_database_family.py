"""The database family on the in-memory backend: a lock-holding transaction and a filled connection limit,
their holders' sessions in pg_stat_activity, the terminate fix and the db-activity view, undo/panic/TTL
ending exactly the holder's sessions, the draw (every replica, never by default), the rule and the tab."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from chaoslib.backends.base import Features, holder_key, holder_name
from chaoslib.engine.injector import heal, heal_expired, inject, panic
from chaoslib.errors import UsageError
from chaoslib.faults import FAMILIES, SCENARIOS, Finding, Signals, database, default_families
from chaoslib.game import Game, scoring
from chaoslib.game.detective import diagnose
from chaoslib.game.draw import draw, draw_game
from chaoslib.game.widgets import fix_panel

TARGETS = ["app1", "app2", "app3"]
SESSIONS = Features(database_sessions=True)


def _apps(stack) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in stack.backend.db_activity():
        out[r.application_name] = out.get(r.application_name, 0) + 1
    return out


class TestScenarios:
    def test_lock_hold_opens_one_idle_transaction_that_votes_wait_for(self, memory_stack):
        record = inject(memory_stack, "db-lock-hold", targets=TARGETS, params={"polls": 14})
        rows = memory_stack.backend.db_activity()
        (holder,) = [r for r in rows if holder_key(r.application_name) == record.id]
        assert holder.application_name == holder_name(record.id, "locks") == f"tally-batch-{record.id}"
        assert holder.state == "idle in transaction" and "FOR UPDATE" in holder.query
        assert [r.application_name for r in rows if holder.pid in r.blocked_by] == TARGETS
        assert record.undo == [{"op": "stop_db_holder", "key": record.id}] and record.params == {"polls": 14}

    def test_conn_exhaust_fills_every_slot_and_the_replicas_are_refused(self, memory_stack):
        record = inject(memory_stack, "db-conn-exhaust", targets=TARGETS)
        apps = _apps(memory_stack)
        assert apps[f"report-pool-{record.id}"] == memory_stack.backend.db_max_connections() - 1
        assert not any(t in apps for t in TARGETS) and apps["postgres_exporter"] == 1
        assert {s.detail for s in memory_stack.status() if s.kind == "replica"} == \
            {"database refuses connections: remaining connection slots are reserved for superusers"}

    def test_parameters_in_range(self, memory_stack):
        with pytest.raises(UsageError, match="polls must be between 1 and 50"):
            inject(memory_stack, "db-lock-hold", targets=TARGETS, params={"polls": 80})
        with pytest.raises(UsageError, match="free must be between"):
            inject(memory_stack, "db-conn-exhaust", targets=TARGETS, params={"free": 9})
        assert memory_stack.backend.db_holders() == []

    @pytest.mark.parametrize("scenario", ["db-lock-hold", "db-conn-exhaust"])
    def test_restarting_every_replica_changes_nothing(self, memory_stack, scenario):
        record = inject(memory_stack, scenario, targets=TARGETS)
        for t in TARGETS:
            memory_stack.backend.restart(target=t)
        gone, why = scoring.effect_gone(memory_stack.backend, record)
        assert not gone and why.startswith("the sessions of ") and "app1, app2, app3 still meet them" in why

    @pytest.mark.parametrize("undo", ["heal", "panic", "ttl"])
    @pytest.mark.parametrize("scenario", ["db-lock-hold", "db-conn-exhaust"])
    def test_undo_panic_and_the_ttl_end_exactly_the_holders_sessions(self, memory_stack, scenario, undo,
                                                                          monkeypatch):
        before, sessions = memory_stack.backend.fault_footprint(), _apps(memory_stack)
        record = inject(memory_stack, scenario, targets=TARGETS, ttl_s=1 if undo == "ttl" else None)
        assert memory_stack.backend.fault_footprint()["db_holders"] == [record.id]
        if undo == "heal":
            heal(memory_stack, record.id)
        elif undo == "panic":
            assert f"healed {record.id}" in panic(memory_stack)
        else:
            assert heal_expired(memory_stack) == ([], [])  # not yet
            later = time.time() + 2
            with monkeypatch.context() as m:  # two seconds on, without waiting for them
                m.setattr(time, "time", lambda: later)
                assert heal_expired(memory_stack) == ([record.id], [])
        assert memory_stack.backend.fault_footprint() == before and _apps(memory_stack) == sessions

    def test_panics_sweep_ends_a_holder_nobody_recorded(self, memory_stack):
        memory_stack.backend.start_db_holder(key="f-00beef", kind="locks", amount=3)
        assert "ended 1 connection(s) of tally-batch-f-00beef" in panic(memory_stack)
        assert memory_stack.backend.db_holders() == []

    def test_a_holder_key_must_be_a_fault_id(self, memory_stack):
        with pytest.raises(UsageError, match="key must look like f-1a2b3c"):
            memory_stack.backend.start_db_holder(key="app1", kind="idle", amount=0)
        assert holder_key("app1") is None and holder_key("report-pool-f-0a0b0c") == "f-0a0b0c"


class TestFix:
    def test_ending_the_blocker_by_pid_ends_the_effect(self, memory_stack):
        record = inject(memory_stack, "db-lock-hold", targets=TARGETS)
        view = database.db_activity(memory_stack)
        assert list(view.columns) == ["pid", "application_name", "usename", "state", "xact_age_s", "wait_event",
                                      "blocked_by", "query"]
        blocker = int(view.iloc[0]["pid"])  # the oldest transaction first
        assert database.terminate_backend(memory_stack, pid=blocker) == [blocker]
        assert scoring.effect_gone(memory_stack.backend, record)[0]

    def test_ending_a_client_by_name_and_the_one_line_errors(self, memory_stack):
        record = inject(memory_stack, "db-conn-exhaust", targets=TARGETS)
        with pytest.raises(UsageError, match="a pid or an application_name"):
            database.terminate_backend(memory_stack)
        with pytest.raises(UsageError, match="no database session with pid 12"):
            database.terminate_backend(memory_stack, pid=12)
        with pytest.raises(UsageError, match="pid must be a number, got 'twelve'"):
            database.terminate_backend(memory_stack, pid="twelve")  # type: ignore[arg-type]
        ended = database.terminate_backend(memory_stack, application_name=f"report-pool-{record.id}")
        assert len(ended) == 96 and scoring.effect_gone(memory_stack.backend, record)[0]
        assert all(s.healthy for s in memory_stack.status())

    def test_the_suspects_are_read_from_the_activity_alone(self, memory_stack):
        assert database.suspects(memory_stack) == []
        record = inject(memory_stack, "db-lock-hold", targets=TARGETS)
        ((app, why),) = database.suspects(memory_stack)
        assert app == f"tally-batch-{record.id}" and "3 session(s) waiting for its locks" in why


class TestDraw:
    def test_the_default_draw_never_touches_the_database(self):
        assert "database" not in default_families()
        seen = {d.family for s in range(300) for d in draw(seed=s, difficulty="hard", targets=TARGETS,
                                                            features=SESSIONS)}
        assert "database" not in seen

    def test_asked_for_it_draws_every_replica_with_its_strengths_and_no_second_fault(self):
        for difficulty in ("easy", "normal", "hard"):
            for seed in range(40):
                game = draw_game(seed=seed, difficulty=difficulty, targets=TARGETS, features=SESSIONS,
                                 families=["database"])
                (fault,) = game.faults
                assert fault.targets == TARGETS and game.herrings == []
                if fault.scenario == "db-lock-hold":
                    spec = SCENARIOS["db-lock-hold"].strength[difficulty]
                    assert spec.low <= fault.params["polls"] <= spec.high

    def test_with_all_the_second_fault_is_never_the_database(self):
        for seed in range(300):
            drawn = draw(seed=seed, difficulty="hard", targets=TARGETS, features=SESSIONS, families=["all"])
            assert all(d.family != "database" for d in drawn[1:])

    def test_a_backend_without_sessions_is_told_so(self):
        with pytest.raises(UsageError, match="no scenario of the database family"):
            draw(seed=1, difficulty="easy", targets=TARGETS, features=Features(), families=["database"])


def _signals(**values: dict[str, float]) -> Signals:
    names = [n for fam in FAMILIES.values() for n in (*fam.queries, *fam.gathered)]
    return Signals(120, **{n: values.get(n, {}) for n in names})


class TestRule:
    REPLICAS = {"app1": 0.0, "app2": 0.0, "app3": 0.0}

    def test_a_long_transaction_or_a_hog_names_every_replica(self):
        said = database.rule(_signals(db_long_tx={"tally-batch-f-1": 40.0}, db_replicas=self.REPLICAS), set())
        assert isinstance(said, Finding) and said.key() == ("database", tuple(TARGETS))
        assert "row locks" in said.cause
        said = database.rule(_signals(db_hogs={"report-pool-f-1": 95.0}, db_replicas=self.REPLICAS,
                                      database_conn_errors={"app2": 40.0}), set())
        assert isinstance(said, Finding) and "connection limit" in said.cause
        assert any("app2: 0 database errors, 40 refused connections" in e for e in said.evidence)

    def test_nothing_foreign_is_nothing(self):
        assert database.rule(_signals(db_replicas=self.REPLICAS, database_conn_errors={"app1": 9.0}), set()) is None

    def test_the_detective_names_the_database_before_a_network_cut(self):
        """Refused connections on every replica read like a cut from the database; the activity says who."""
        s = _signals(db_hogs={"report-pool-f-1": 95.0}, db_replicas=self.REPLICAS,
                     db_errors={t: 30.0 for t in TARGETS}, scrape_up={t: 1.0 for t in TARGETS})
        assert diagnose(s).said() == (("database", tuple(TARGETS)),)

    def test_its_gather_reads_the_activity(self, memory_stack):
        assert database.activity(memory_stack, 0.0)["db_long_tx"] == {}
        record = inject(memory_stack, "db-conn-exhaust", targets=TARGETS)
        got = database.activity(memory_stack, 0.0)
        assert got["db_hogs"] == {f"report-pool-{record.id}": 96.0}
        assert got["db_replicas"] == {t: 0.0 for t in TARGETS}


def test_a_database_game_hints_at_the_sessions(memory_stack):
    game = Game(memory_stack, autopilot=False)
    game.start(seed=3, difficulty="normal", families=["database"], steady_timeout=0)
    assert game.truth() == {"database": TARGETS}
    game.hint()
    assert "pg_stat_activity" in game.hint().text


def test_the_database_tab_lists_the_sessions_and_ends_the_chosen_one(memory_stack, capsys):
    game = Game(memory_stack, autopilot=False)
    game.start(seed=4, difficulty="easy", families=["database"], steady_timeout=0)
    panel = fix_panel(game)
    tabs = panel.children[0]
    tab = tabs.children[[tabs.get_title(i) for i in range(len(tabs.children))].index("Database")]
    panel.buttons["show_sessions"].click()
    assert "session(s), the oldest transaction first" in capsys.readouterr().out
    sessions = tab.children[1]
    sessions.value = sessions.options[0][1]  # the oldest transaction, or the first of the pool's sessions
    panel.buttons["terminate_application"].click()
    assert capsys.readouterr().out.startswith("ended [")
    assert game.validate(window_s=0, recover_s=0).passed
    assert game.finish(write_postmortem=False, plots=False).score.wrong_fixes == 0


def test_a_database_game_from_the_terminal(cli, memory_stack):
    """play --families database; the db-activity view shows the holder; restarts do not validate, ending its
    sessions does; the score counts no wrong fix and the postmortem names the family's cause."""
    code, out, err = cli("play", "--seed", "5", "--difficulty", "normal", "--families", "database", "--json")
    assert code == 0, err
    assert Game(memory_stack).truth() == {"database": TARGETS}
    code, out, _ = cli("fix", "--show", "db-activity", "--json")
    rows = json.loads(out)
    suspects = {r["application_name"] for r in rows if holder_key(r["application_name"])}
    assert code == 0 and len(suspects) == 1
    for t in TARGETS:
        cli("fix", "restart", "--target", t)
    assert cli("validate", "--window", "0", "--recover", "0")[0] == 1
    code, out, _ = cli("fix", "terminate_backend", "--arg", f"application_name={suspects.pop()}")
    assert code == 0 and out.startswith("applied terminate_backend(application_name=")
    code, out, err = cli("validate", "--window", "0", "--recover", "0")
    assert code == 0 and out.startswith("validated"), (out, err)
    outcome = json.loads(cli("score", "--no-plots", "--json")[1])
    assert outcome["score"]["wrong_fixes"] == 0
    text = Path(outcome["postmortem"]).read_text()
    assert "(database): " in text
