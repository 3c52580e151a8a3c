"""The app's releases as data, their environment, the native roll's record and programs, and `status`'s column."""
from __future__ import annotations

import argparse
import json
from types import SimpleNamespace

import pytest

from chaoslib.backends.base import Backend, check_release
from chaoslib.backends.docker import DockerBackend
from chaoslib.cli import main as cli
from chaoslib.config import Settings
from chaoslib.errors import UsageError
from chaoslib.native import release_log
from chaoslib.native.programs import programs
from pollapp import releases


def test_the_table_has_two_good_releases_and_two_faulty_ones():
    """CURRENT and PREVIOUS are good and pay for no faulty path; each faulty release switches on its own."""
    assert set(releases.good()) == {releases.CURRENT, releases.PREVIOUS} and releases.PREVIOUS < releases.CURRENT
    for version in releases.good():
        r = releases.get(version)
        assert (r.vote_error_share, r.tally_queries, r.tally_delay_ms) == (0, 0, 0)
    votes, reads = releases.get(releases.FAULTY_VOTES), releases.get(releases.SLOW_READS)
    assert not votes.good and 0 < votes.vote_error_share < 1 and votes.tally_queries == 0
    assert not reads.good and reads.tally_queries >= 1 and reads.vote_error_share == 0
    assert len({r.revision for r in releases.RELEASES.values()}) == len(releases.RELEASES)


def test_an_unknown_release_names_the_known_ones():
    with pytest.raises(releases.UnknownRelease, match=releases.CURRENT):
        releases.get("9.9.9")
    with pytest.raises(UsageError) as e:
        check_release("9.9.9")
    line = e.value.one_line()
    assert "\n" not in line and "'9.9.9'" in line and all(v in line for v in releases.known())
    assert check_release(releases.PREVIOUS) == releases.PREVIOUS


def test_the_environment_picks_the_release_and_may_override_its_knobs():
    assert releases.from_environment({}) == releases.get(releases.CURRENT)
    assert releases.environment(releases.FAULTY_VOTES) == {"APP_RELEASE": releases.FAULTY_VOTES}
    tuned = releases.from_environment({"APP_RELEASE": releases.FAULTY_VOTES, "APP_VOTE_ERROR_SHARE": "0.5",
                                       "APP_TALLY_QUERIES": "3"})
    assert (tuned.version, tuned.vote_error_share, tuned.tally_queries) == (releases.FAULTY_VOTES, 0.5, 3)
    for bad in ({"APP_RELEASE": "nope"}, {"APP_VOTE_ERROR_SHARE": "lots"}, {"APP_VOTE_ERROR_SHARE": "1.5"}):
        with pytest.raises(releases.UnknownRelease):
            releases.from_environment(bad)


def test_each_replica_program_runs_its_release(tmp_path):
    """The supervisord environment of a replica names its release; the others stay on CURRENT."""
    progs = programs(Settings(state_dir=tmp_path), secret_key="k", running={"app2": releases.SLOW_READS})
    env = {p.name: p.env.get("APP_RELEASE") for p in progs if p.kind == "replica"}
    assert env == {"app1": releases.CURRENT, "app2": releases.SLOW_READS, "app3": releases.CURRENT}
    app2 = next(p for p in progs if p.name == "app2")
    section = app2.supervisor_section(Settings(state_dir=tmp_path))
    assert f'APP_RELEASE="{releases.SLOW_READS}"' in section["environment"]


def test_the_release_log_records_rolls_and_survives_a_torn_file(tmp_path):
    path = tmp_path / "releases.json"
    assert release_log.running(release_log.load(path), ["app1"]) == {"app1": releases.CURRENT}
    release_log.append(path, "app2", releases.FAULTY_VOTES, 100.0)
    release_log.append(path, "app2", releases.CURRENT, 200.0)
    rolls = release_log.load(path)
    assert release_log.history(rolls, "app2", since=50.0) == [(50.0, releases.CURRENT), (100.0, releases.FAULTY_VOTES),
                                                             (200.0, releases.CURRENT)]
    assert release_log.history(rolls, "app1", since=50.0) == [(50.0, releases.CURRENT)]
    path.write_text('{"app2": [[1')
    assert release_log.load(path) == {}


@pytest.mark.parametrize("primitive, kwargs", [("set_release", {"release": releases.CURRENT}), ("release", {}),
                                               ("release_history", {})])
def test_a_missing_release_primitive_names_itself(primitive, kwargs):
    with pytest.raises(NotImplementedError, match=rf"Backend must implement Backend\.{primitive}\(\)"):
        getattr(Backend(), primitive)(target="app1", **kwargs)


def test_status_shows_each_replicas_release(memory_stack, monkeypatch, capsys):
    """A RELEASE column, empty for the services that are not replicas; the same field in --json."""
    memory_stack.backend.set_release(target="app2", release=releases.FAULTY_VOTES)
    monkeypatch.setattr(cli, "stack_of", lambda args: memory_stack)
    cli.cmd_status(argparse.Namespace(json=False))
    lines = capsys.readouterr().out.splitlines()
    assert "RELEASE" in lines[0]
    rows = {line.split()[0]: line for line in lines[1:] if line.strip()}
    assert releases.FAULTY_VOTES in rows["app2"] and releases.CURRENT in rows["app1"]
    assert releases.CURRENT not in rows["postgres"]
    cli.cmd_status(argparse.Namespace(json=True))
    services = {s["name"]: s for s in json.loads(capsys.readouterr().out)["services"]}
    assert services["app2"]["release"] == releases.FAULTY_VOTES and services["traefik"]["release"] == ""
    frame = memory_stack.status_frame().set_index("name")["release"]
    assert frame["app2"] == releases.FAULTY_VOTES and frame["app1"] == releases.CURRENT and frame["postgres"] == ""


@pytest.mark.parametrize("env, shown", [(["APP_RELEASE=2026.12.1", "TZ=UTC"], "2026.12.1"), (["TZ=UTC"], "2026.12.0")])
def test_docker_status_names_the_release_a_replica_container_runs(monkeypatch, tmp_path, env, shown):
    """The Docker backend cannot roll (releases=False) but reports what each replica's environment names."""
    backend = DockerBackend(Settings(state_dir=tmp_path), client=object())
    monkeypatch.setattr(DockerBackend, "_add_saturation", lambda self, st, c: None)
    container = SimpleNamespace(attrs={"State": {"Status": "running", "Running": True}, "Config": {"Env": env}})
    assert backend._status_of("app2", container).release == shown
    assert backend._status_of("postgres", container).release == ""
