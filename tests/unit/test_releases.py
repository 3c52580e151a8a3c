"""The app's releases as data, their environment, the native roll's record and programs, and `status`'s column."""
from __future__ import annotations

import argparse
import io
import json
import tarfile
from types import SimpleNamespace

import docker
import pytest

from chaoslib.backends.base import Backend, check_release
from chaoslib.backends.docker import DockerBackend
from chaoslib.cli import main as cli
from chaoslib.config import Settings
from chaoslib.errors import ServiceError, UsageError
from chaoslib.native import release_log
from chaoslib.native.programs import programs
from pollapp import launch, releases


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


def test_a_release_file_replaces_the_environments_release(tmp_path):
    """The file's variables replace every release variable of the environment (a file without knobs runs its
    release's own); pollapp.launch applies it when APP_RELEASE_FILE names a file, and none changes nothing."""
    text = releases.render_file(releases.FAULTY_VOTES, {"APP_VOTE_ERROR_SHARE": "1"})
    assert releases.parse_file(text) == {"APP_RELEASE": releases.FAULTY_VOTES, "APP_VOTE_ERROR_SHARE": "1"}
    env = {"APP_RELEASE": releases.PREVIOUS, "APP_TALLY_QUERIES": "3", "TZ": "UTC"}
    rolled = releases.with_file(env, releases.render_file(releases.SLOW_READS))
    assert rolled == {"APP_RELEASE": releases.SLOW_READS, "TZ": "UTC"}
    assert releases.with_file(env, None) == env
    for bad in ("PATH=/tmp\n", "APP_RELEASE=0.0.1\n", "APP_VOTE_ERROR_SHARE=2\n", "no equals sign\n"):
        with pytest.raises(releases.UnknownRelease):
            releases.with_file(env, bad)
    path = tmp_path / "release.env"
    assert launch.environment({"APP_RELEASE_FILE": str(path), "TZ": "UTC"}) == {"APP_RELEASE_FILE": str(path),
                                                                                 "TZ": "UTC"}
    path.write_text(text)
    assert launch.environment({"APP_RELEASE_FILE": str(path)})["APP_VOTE_ERROR_SHARE"] == "1"


class FakeContainer:
    """A replica container as the docker backend reads and writes it: env, release file, restarts."""

    def __init__(self, name: str, env: list[str]) -> None:
        self.name, self.id, self.files, self.restarts = name, f"{name}0123456789abcdef", {}, 0
        self.labels = {"com.docker.compose.service": name}
        self.attrs = {"State": {"Status": "running", "Running": True}, "Config": {"Env": env},
                      "Created": "2026-12-07T03:00:00.123Z"}

    def get_archive(self, path):
        if path not in self.files:
            raise docker.errors.NotFound(f"no {path}")
        data = self.files[path]
        out = io.BytesIO()
        with tarfile.open(fileobj=out, mode="w") as tar:
            info = tarfile.TarInfo(path.rsplit("/", 1)[1])
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        return iter([out.getvalue()]), {"mtime": "2026-12-07T03:30:00Z"}

    def put_archive(self, folder, data):
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            for member in tar.getmembers():
                assert member.mode == 0o644 and member.uid == 0
                self.files[f"{folder}/{member.name}"] = tar.extractfile(member).read()
        return True

    def restart(self, timeout):
        self.restarts += 1


@pytest.fixture
def docker_replicas(monkeypatch, tmp_path):
    """A DockerBackend on two fake replica containers (app1 with a release file's name, app2 also) and postgres."""
    env = ["TZ=UTC", "APP_RELEASE_FILE=/etc/chaos/release.env"]
    found = {"app1": FakeContainer("app1", env), "app2": FakeContainer("app2", env),
             "postgres": FakeContainer("postgres", ["TZ=UTC"])}
    monkeypatch.setattr(DockerBackend, "_containers", lambda self, running_only=False: found)
    monkeypatch.setattr(DockerBackend, "_add_saturation", lambda self, st, c: None)
    return DockerBackend(Settings(state_dir=tmp_path / "state"), client=object()), found


def test_docker_rolls_a_replica_by_its_release_file_and_a_restart(docker_replicas):
    """set_release writes the file (root's, world-readable), records the roll on the host and restarts the
    container; the same roll again does nothing; status, release and history read what the container runs."""
    backend, found = docker_replicas
    assert backend.release(target="app2") == releases.CURRENT
    assert [v for _, v in backend.release_history(target="app2")] == [releases.CURRENT]
    backend.set_release(target="app2", release=releases.FAULTY_VOTES, settings={"APP_VOTE_ERROR_SHARE": "1"})
    app2 = found["app2"]
    assert app2.files["/etc/chaos/release.env"].decode() == releases.render_file(
        releases.FAULTY_VOTES, {"APP_VOTE_ERROR_SHARE": "1"}) and app2.restarts == 1
    backend.set_release(target="app2", release=releases.FAULTY_VOTES, settings={"APP_VOTE_ERROR_SHARE": "1"})
    assert app2.restarts == 1 and found["app1"].restarts == 0
    history = backend.release_history(target="app2")
    assert [v for _, v in history] == [releases.CURRENT, releases.FAULTY_VOTES] and history[0][0] < history[1][0]
    assert backend._status_of("app2", app2).release == releases.FAULTY_VOTES
    assert backend._status_of("app1", found["app1"]).release == releases.CURRENT
    assert backend._status_of("postgres", found["postgres"]).release == ""
    backend.set_release(target="app2", release=releases.FAULTY_VOTES)  # the same release, its own knobs: a roll
    assert app2.restarts == 2 and backend.release(target="app2") == releases.FAULTY_VOTES
    with pytest.raises(UsageError) as e:
        backend.set_release(target="nope", release=releases.PREVIOUS)
    assert "app1, app2" in e.value.one_line()


def test_docker_history_follows_the_container_not_the_host_log(docker_replicas):
    """A recreated container (a new id) starts over on CURRENT; a file the log does not know ends the history."""
    backend, found = docker_replicas
    backend.set_release(target="app1", release=releases.SLOW_READS)
    found["app1"].id = "recreated0123456789"
    found["app1"].files.clear()
    assert [v for _, v in backend.release_history(target="app1")] == [releases.CURRENT]
    found["app1"].files["/etc/chaos/release.env"] = releases.render_file(releases.PREVIOUS).encode()
    assert [v for _, v in backend.release_history(target="app1")] == [releases.CURRENT, releases.PREVIOUS]
    assert backend.release_history(target="app1")[-1][0] > backend.release_history(target="app1")[0][0]


def test_docker_cannot_roll_a_container_without_a_release_file_name(docker_replicas):
    """A replica created by an older compose file (no APP_RELEASE_FILE) is refused in one line; its env says."""
    backend, found = docker_replicas
    found["app1"].attrs["Config"]["Env"] = [f"APP_RELEASE={releases.PREVIOUS}"]
    assert backend.release(target="app1") == releases.PREVIOUS
    with pytest.raises(ServiceError, match="APP_RELEASE_FILE"):
        backend.set_release(target="app1", release=releases.CURRENT)


def test_docker_sweep_replaces_a_release_file_the_app_cannot_run(docker_replicas, monkeypatch):
    """A garbled file: `release` says so in one line, status shows "?", and the sweep rolls the replica back."""
    backend, found = docker_replicas
    found["app2"].files["/etc/chaos/release.env"] = b"APP_RELEASE=0.0.1\n"
    with pytest.raises(ServiceError) as e:
        backend.release(target="app2")
    assert "0.0.1" in e.value.one_line() and "\n" not in e.value.one_line()
    assert backend._status_of("app2", found["app2"]).release == "?"
    for step in ("_helpers", "_holders", "db_holders"):
        monkeypatch.setattr(DockerBackend, step, lambda self: [])
    monkeypatch.setattr(DockerBackend, "features", SimpleNamespace(has_netem=False))
    monkeypatch.setattr(DockerBackend, "_defaults_of", lambda self, c: None)
    monkeypatch.setattr(DockerBackend, "_limits_of", lambda self, c: None)
    monkeypatch.setattr(DockerBackend, "_disk_volume", lambda self, c: None)
    monkeypatch.setattr(DockerBackend, "_disk", lambda self, name, op, *args: [])
    monkeypatch.setattr(DockerBackend, "ensure_running", lambda self, target: None)
    assert backend.reset_faults() == [f"rolled app2 back to release {releases.CURRENT}"]
    assert backend.release(target="app2") == releases.CURRENT and found["app2"].restarts == 1
    assert backend.reset_faults() == []
