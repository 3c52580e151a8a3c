"""The walking skeleton on a live native stack: up, serve, survive a crash, report, go down clean."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from chaoslib import config
from chaoslib.kernel import disks, nft
from chaoslib.kernel.cgroups import Cgroups

from .helpers import all_healthy, api, wait_until

pytestmark = pytest.mark.integration

#: Traefik's health check interval (2 s) plus its timeout (1 s) and a margin for a busy machine.
HEALTH_WINDOW_S = 5.0
#: How long a stack an earlier test healed may take to be all healthy again (a replica restarting, say).
HEALTHY_WITHIN_S = 120.0


class TestUp:
    def test_every_service_healthy(self, live_stack):
        """After `up`, every service is running and healthy (waited for: an earlier module may have just healed)."""
        names = {s.name for s in live_stack.status()}
        assert {"postgres", "app1", "app2", "app3", "traefik", "prometheus", "alertmanager",
                "postgres-exporter", "saturation-exporter", "pager", "locust", "warden"} <= names
        wait_until(lambda: [s.name for s in live_stack.status() if not s.healthy] == [], timeout=HEALTHY_WITHIN_S,
                   what="every service healthy after `up`")

    def test_up_twice_is_harmless(self, live_stack):
        """A second `up` changes no pid."""
        pids = {s.name: s.pid for s in live_stack.status()}
        live_stack.up()
        assert {s.name: s.pid for s in live_stack.status()} == pids

    def test_replicas_are_isolated(self, live_stack):
        """Each replica runs as its own user, in its own cgroup, on its own tmpfs disk."""
        cg = Cgroups()
        for i, name in enumerate(live_stack.targets(), start=1):
            pid = live_stack.backend.pid_of(target=name)
            uid = os.stat(f"/proc/{pid}").st_uid
            assert uid == __import__("pwd").getpwnam(config.replica_user(i)).pw_uid
            assert pid in cg.pids(name)
            assert disks.is_mounted(live_stack.settings.disk_path(name))


class TestTraffic:
    def test_poll_round_trip_through_traefik(self, live_stack):
        """Create a poll and vote through Traefik, then read the count back."""
        created = api("POST", "/api/polls/", json={"question": "Best colour?", "choices": ["red", "blue"]})
        assert created.status_code == 201, created.text
        poll = created.json()
        choice = poll["choices"][1]["id"]
        vote = api("POST", f"/api/polls/{poll['id']}/vote/", json={"choice": choice})
        assert vote.status_code == 201 and vote.json()["vote_id"]
        detail = api("GET", f"/api/polls/{poll['id']}/").json()
        assert [c["votes"] for c in detail["choices"]] == [0, 1]

    def test_load_generator_is_voting(self, live_stack):
        """Locust keeps a ledger of acknowledged votes, and it grows."""
        from .helpers import ledger

        n = len(ledger(live_stack))
        wait_until(lambda: len(ledger(live_stack)) > n + 5, timeout=30)

    def test_killed_replica_is_restarted_and_routed_around(self, live_stack):
        """Killing a replica's process: requests fail only until Traefik's health check drops it; it restarts."""
        target = "app2"
        before = {s.name: s for s in live_stack.status()}[target]
        os.kill(before.pid, signal.SIGKILL)
        t0, samples = time.monotonic(), []
        while time.monotonic() - t0 < 10:
            samples.append((round(time.monotonic() - t0, 2), api("GET", "/api/polls/").status_code))
            time.sleep(0.05)
        failed = [t for t, code in samples if code != 200]
        # The health check runs every 2 s with a 1 s timeout: failures fit in one short window.
        assert not failed or failed[-1] - failed[0] <= HEALTH_WINDOW_S, samples
        assert len(failed) <= len(samples) // 4, samples
        after = wait_until(lambda: next((s for s in live_stack.status() if s.name == target and s.healthy
                                         and s.pid != before.pid), None), timeout=60)
        # Its orphaned workers may hold the port a moment: one or two restarts, never none.
        assert before.restarts + 1 <= after.restarts <= before.restarts + 3


class TestStartLog:
    def test_a_replica_start_logs_nothing_at_warning_or_above(self, live_stack):
        """Restarted as the stack runs it (its own user, no home), a healthy replica logs nothing at WARNING or above."""
        log = live_stack.settings.log_dir / "app2.log"
        offset = log.stat().st_size
        live_stack.backend.restart(target="app2")
        wait_until(lambda: all_healthy(live_stack), timeout=60)
        time.sleep(3)  # the workers' boot lines
        lines = [line for line in log.read_bytes()[offset:].decode(errors="replace").splitlines() if line.strip()]
        records = [json.loads(line) for line in lines if line.startswith("{")]
        assert any("Starting gunicorn" in r.get("message", "") for r in records), lines[:5]
        loud = [r for r in records if r.get("level", "").upper() in ("WARNING", "ERROR", "CRITICAL")]
        assert loud == [] and len(records) == len(lines), (loud, [x for x in lines if not x.startswith("{")])


class TestStatus:
    def test_status_json(self, live_stack):
        """`chaosctl status --json` lists services with name, healthy and restarts, replicas with saturation."""
        out = subprocess.run([sys.executable, "-m", "chaoslib.cli", "status", "--json"], capture_output=True,
                             text=True, env={**os.environ, "CHAOSCTL_STATE_DIR": str(live_stack.settings.state_dir)},
                             timeout=60)
        data = json.loads(out.stdout)
        for s in data["services"]:
            assert isinstance(s["name"], str) and isinstance(s["healthy"], bool) and isinstance(s["restarts"], int)
        app1 = next(s for s in data["services"] if s["name"] == "app1")
        assert app1["memory_bytes"] > 10 * 1024 * 1024 and app1["disk_size_bytes"] > 0
        # The README promises state, health, pid, uptime and restarts, and CPU, memory, disk per replica.
        assert app1["state"] == "RUNNING" and app1["pid"] and os.path.exists(f"/proc/{app1['pid']}")
        btime = next(int(x.split()[1]) for x in open("/proc/stat") if x.startswith("btime"))
        ticks = int(open(f"/proc/{app1['pid']}/stat").read().rsplit(")", 1)[1].split()[19])
        started = btime + ticks / os.sysconf("SC_CLK_TCK")
        assert abs(app1["uptime_s"] - (time.time() - started)) < 10, (app1["uptime_s"], time.time() - started)
        assert app1["cpu_seconds"] is not None and app1["cpu_seconds"] > 0
        assert app1["cpu_limit_cores"] and app1["memory_limit_bytes"] and app1["disk_used_bytes"] is not None


class TestErrors:
    def test_replicas_out_of_range(self, live_stack):
        """`up --replicas 0` is a one-line error and nothing changes."""
        out = subprocess.run([sys.executable, "-m", "chaoslib.cli", "up", "--replicas", "0"], capture_output=True,
                             text=True, env={**os.environ, "CHAOSCTL_STATE_DIR": str(live_stack.settings.state_dir)})
        assert out.returncode == 2
        assert out.stderr.strip().count("\n") == 0 and "replicas" in out.stderr

    def test_not_root(self, live_stack):
        """`up` as an unprivileged user says it needs root, in one line."""
        out = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-m",
                              "chaoslib.cli", "--state-dir", "/tmp/chaos-nonroot", "up"], capture_output=True,
                             text=True, cwd="/", env={**os.environ, "PYTHONPATH": str(config.REPO_ROOT)})
        assert out.returncode == 2, out.stderr
        assert "root" in out.stderr and out.stderr.strip().count("\n") == 0


@pytest.mark.last
class TestDown:
    def test_down_leaves_nothing(self, live_stack):
        """After `down`: no process, mount, cgroup or nftables table of ours is left."""
        # Down from a healthy stack, whatever the module before left recovering; waited for, never assumed.
        wait_until(lambda: all_healthy(live_stack), timeout=HEALTHY_WITHIN_S, what="every service healthy before down")
        live_stack.down()
        assert not live_stack.backend.is_up()
        assert not nft.table_exists()
        assert Cgroups().leftovers() == []
        assert disks.mounted_under(live_stack.settings.state_dir) == []
        ps = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
        ours = [line for line in ps.splitlines() if str(live_stack.settings.state_dir) in line
                or "chaoslib.native" in line or "pollapp.wsgi" in line]
        assert ours == []
        # An alert left firing must page again after the next `up`: no notification log survives.
        assert not (live_stack.settings.data_dir / "alertmanager" / "nflog").exists()
