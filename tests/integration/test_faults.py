"""Every fault variant on the live stack: the effect is real, panic undoes it, nothing is lost."""
from __future__ import annotations

import os
import random
import subprocess
import sys
import time

import pytest
import requests

import binomial
from chaoslib import config
from chaoslib.engine.injector import active_faults, all_faults, heal, inject, panic
from chaoslib.game import Game
from chaoslib.kernel.cgroups import Cgroups
from chaoslib.native.probes import OutsideProbe as LocalProbe

from .helpers import ledger, votes_in_db, wait_until

pytestmark = pytest.mark.integration


def replica_url(target: str, path: str) -> str:
    return f"http://{config.replica_address(config.replica_index(target))}:{config.APP_PORT}{path}"


def healthz(target: str) -> int:
    try:
        return requests.get(replica_url(target, "/healthz"), timeout=8).status_code
    except requests.RequestException:
        return 0


@pytest.fixture
def probe(live_stack):
    return LocalProbe(live_stack.backend)


def _assert_ledger_complete(stack):
    acked = [v["vote_id"] for v in ledger(stack)]
    assert acked, "the load generator acknowledged no vote"
    missing = set(acked) - votes_in_db(acked)
    assert not missing, f"{len(missing)} acknowledged votes are not in the database"


class TestNetworkFaults:
    @pytest.mark.parametrize("fraction", [0.2, 0.8])
    def test_lb_loss(self, clean, probe, fraction):
        """Packet loss: the load balancer's connections to the target fail at the drawn rate (not 1 - it, not 50 %)."""
        inject(clean, "lb-loss", targets=["app1"], params={"fraction": fraction})
        n = binomial.ATTEMPTS
        lo, hi = binomial.bounds(n, fraction)
        failed = probe.lb_connect_failures("app1", n)
        assert lo <= failed <= hi, (failed, lo, hi)
        assert binomial.outside(failed, n, 1 - fraction) and binomial.outside(failed, n, 0.5), failed
        assert probe.lb_connect_failures("app2", 10) == 0

    def test_lb_cutoff(self, clean, probe):
        """Cut-off: every connection fails and Traefik takes the replica out of rotation."""
        inject(clean, "lb-cutoff", targets=["app2"])
        assert probe.lb_connect_failures("app2", 5) == 5

        def server_down():
            text = requests.get(f"http://{config.TRAEFIK_METRICS.address}/metrics", timeout=5).text
            return 'url="http://127.0.1.2:8000"} 0' in text
        wait_until(server_down, timeout=20)

    def test_db_cutoff(self, clean, probe):
        """DB cut-off: the replica's health check fails, others and the exporter keep the database."""
        inject(clean, "db-cutoff", targets=["app3"])
        wait_until(lambda: healthz("app3") == 503 or healthz("app3") == 0, timeout=30)
        assert healthz("app1") == 200
        assert probe.db_reachable_from_exporter()
        _assert_ledger_complete(clean)


class TestDiskFaults:
    def test_disk_full(self, clean):
        """Disk full: votes on that replica fail with a 500 and its log says No space left on device."""
        inject(clean, "disk-full", targets=["app1"])
        # The journal's last page may hold a few more records: writes fail within a handful.
        codes = []
        for _ in range(60):
            codes.append(requests.post(replica_url("app1", "/api/polls/"), json={"question": "q?", "choices": ["a", "b"]},
                                       timeout=10).status_code)
            if codes[-1] == 500:
                break
        assert codes[-1] == 500, codes
        wait_until(lambda: "No space left on device" in clean.backend.tail_log(service="app1", lines=200), 10)
        files = clean.backend.list_files(target="app1")
        assert files[0].size_bytes > 30 * 1024 * 1024

    def test_disk_crashloop(self, clean):
        """Crash loop: restarted on a full disk, the replica cannot boot and the restarts are counted."""
        before = {s.name: s.restarts for s in clean.status()}["app2"]
        inject(clean, "disk-crashloop", targets=["app2"])
        wait_until(lambda: {s.name: s.restarts for s in clean.status()}["app2"] >= before + 2, timeout=40)
        assert healthz("app2") == 0
        _assert_ledger_complete(clean)


class TestResourceFaults:
    def test_cpu_starve(self, clean):
        """CPU starved: the kernel counts throttled periods and the replica, once back up, answers slowly."""
        def seconds(target: str) -> float:
            start = time.monotonic()
            requests.get(replica_url(target, "/livez"), timeout=90)
            return time.monotonic() - start
        healthy = sorted(seconds("app3") for _ in range(5))[2]
        before = Cgroups().stats("app3").cpu_throttled_periods
        inject(clean, "cpu-starve", targets=["app3"], params={"cpu": 0.02})
        wait_until(lambda: Cgroups().stats("app3").cpu_throttled_periods > before + 20, timeout=30)
        # The fault restarts the replica: at 2 % of a core its boot alone takes about a minute.
        wait_until(lambda: LocalProbe(clean.backend).lb_connect_failures("app3", 1) == 0, timeout=150, interval=2)
        slow = seconds("app3")
        assert slow > max(0.5, 20 * healthy), (healthy, slow)

    def test_memory_starve(self, clean):
        """Memory starved: the replica is OOM-killed, and the kills are counted."""
        inject(clean, "memory-starve", targets=["app1"], params={"memory_mb": 16})
        wait_until(lambda: Cgroups().stats("app1").oom_kills >= 1, timeout=40)
        assert healthz("app1") != 200
        _assert_ledger_complete(clean)


class TestSafety:
    def test_ttl_expiry_by_the_warden(self, clean, probe):
        """A fault whose time to live runs out is undone by the warden: its rule is gone and traffic flows again."""
        record = inject(clean, "lb-cutoff", targets=["app1"], ttl_s=2)
        assert probe.lb_connect_failures("app1", 3) == 3 and clean.backend.network_rules()
        wait_until(lambda: next(r for r in all_faults(clean) if r.id == record.id).healed_by == "ttl", timeout=20)
        assert clean.backend.network_rules() == []
        assert probe.lb_connect_failures("app1", 5) == 0

    def test_panic_from_another_process_twice(self, clean):
        """An injection by one process is undone by `chaosctl panic` in another, and panic twice is fine."""
        env = {**os.environ, "CHAOSCTL_STATE_DIR": str(clean.settings.state_dir)}
        run = lambda *a: subprocess.run([sys.executable, "-m", "chaoslib.cli", *a], capture_output=True,  # noqa: E731
                                        text=True, env=env, timeout=120)
        assert run("inject", "db-cutoff", "--target", "app1", "--target", "app2").returncode == 0
        assert run("panic").returncode == 0
        second = run("panic")
        assert second.returncode == 0 and "clean" in second.stdout

    def test_same_target_twice_refused(self, clean):
        """A second fault on a target that already has one is refused, and nothing changes."""
        inject(clean, "lb-loss", targets=["app2"], params={"fraction": 0.2})
        before = clean.backend.fault_footprint()
        with pytest.raises(Exception, match="already has an active fault"):
            inject(clean, "disk-full", targets=["app2"])
        assert clean.backend.fault_footprint() == before

    @pytest.mark.parametrize("argv, message", [
        (["inject", "nope", "--target", "app1"], "unknown scenario"),
        (["inject", "lb-loss", "--target", "app9"], "unknown target"),
        (["inject", "lb-loss", "--target", "app1", "--param", "fraction=2"], "between"),
        (["inject", "lb-loss", "--target", "app1", "--param", "speed=2"], "unknown parameter"),
        (["inject", "cpu-starve", "--target", "app1", "--param", "cpu=lots"], "must be a float"),
        (["heal", "f-000000"], "no fault"),
    ])
    def test_bad_input_one_line_nothing_changed(self, clean, argv, message):
        """Bad input is a one-line error with exit status 2, and the host is unchanged."""
        before = clean.backend.fault_footprint()
        out = subprocess.run([sys.executable, "-m", "chaoslib.cli", *argv], capture_output=True, text=True,
                             env={**os.environ, "CHAOSCTL_STATE_DIR": str(clean.settings.state_dir)}, timeout=60)
        assert out.returncode == 2
        assert message in out.stderr and out.stderr.strip().count("\n") == 0
        assert clean.backend.fault_footprint() == before

    def test_randomized_sequence_ends_clean(self, clean):
        """A seeded random sequence of inject / heal / panic: after every step the registry and the rules agree."""
        rng = random.Random(20261125)
        cheap = [("lb-loss", {"fraction": 0.3}), ("lb-cutoff", {}), ("db-cutoff", {}), ("disk-full", {})]
        before = clean.backend.fault_footprint()
        ops = []
        for _ in range(14):
            op = rng.choice(["inject", "inject", "heal", "panic"])
            active = active_faults(clean)
            if op == "inject":
                free = [t for t in clean.targets() if not any(t in r.targets for r in active)]
                if free:
                    name, params = rng.choice(cheap)
                    inject(clean, name, targets=[rng.choice(free)], params=params)
            elif op == "heal" and active:
                heal(clean, rng.choice(active).id)
            elif op == "panic":
                panic(clean)
            ops.append(op)
            active = active_faults(clean)
            # Every network rule belongs to an active network fault, and every active one has its rules.
            rule_owners = {r.key.split(".")[0] for r in clean.backend.network_rules()}
            assert rule_owners == {r.id for r in active if r.family == "network"}, (ops, rule_owners)
            # Junk only on the disks of active disk faults.
            junk = {t for t, files in clean.backend.fault_footprint()["junk"].items() if files}
            assert junk == {t for r in active if r.family == "disk" for t in r.targets}, (ops, junk)
            if not active:
                assert clean.backend.fault_footprint() == before, ops
        assert {"inject", "heal", "panic"} <= set(ops)
        # The sequence's last word, before the fixture's panic: heal what is left one by one.
        for r in active_faults(clean):
            heal(clean, r.id)
        assert not active_faults(clean)
        wait_until(lambda: clean.backend.fault_footprint() == before, timeout=30)


class TestPlay:
    def test_same_seed_same_fault(self, clean):
        """`play` with the same seed injects the same fault, hidden, and re-running it never double-injects."""
        g = Game(clean, autopilot=False)
        first = g.start(seed=42, difficulty="normal")
        ids = [r.id for r in active_faults(clean)]
        assert g.start(seed=42, difficulty="normal") == first
        assert [r.id for r in active_faults(clean)] == ids
        drawn = [(r.scenario, r.targets, r.params) for r in active_faults(clean)]
        assert all(r.hidden for r in active_faults(clean))
        g.panic()
        g.start(seed=42, difficulty="normal")
        assert [(r.scenario, r.targets, r.params) for r in active_faults(clean)] == drawn


class TestPlayerFixes:
    """The player's fixes act on what they can see; a wrong fix does not resolve the incident."""

    def test_disk_full_restart_is_wrong_delete_is_right(self, clean, probe):
        """Restarting keeps the disk full; deleting the biggest file frees it and votes work again."""
        from chaoslib.faults import fix
        from chaoslib.faults.disk import disk_files

        inject(clean, "disk-full", targets=["app1"])
        fix("restart")(clean, target="app1")
        assert probe.app_write_errno("app1") == 28
        top = disk_files(clean, target="app1")
        assert fix("delete_files")(clean, target="app1", paths=[top["path"].iloc[0]]) == 1
        assert probe.app_write_errno("app1") is None
        wait_until(lambda: healthz("app1") == 200, timeout=60)
        resp = requests.post(replica_url("app1", "/api/polls/"), json={"question": "fixed?", "choices": ["y", "n"]},
                             timeout=10)
        assert resp.status_code == 201

    def test_cutoff_restart_is_wrong_firewall_is_right(self, clean, probe):
        """Restarting a cut-off replica does not reconnect it; removing the rule does."""
        from chaoslib.faults import fix
        from chaoslib.faults.network import firewall_rules

        inject(clean, "lb-cutoff", targets=["app3"])
        fix("restart")(clean, target="app3")
        wait_until(lambda: healthz("app3") == 200, timeout=60)
        assert probe.lb_connect_failures("app3", 3) == 3
        assert not firewall_rules(clean).empty
        assert fix("remove_firewall_rules")(clean, target="app3") >= 1
        assert probe.lb_connect_failures("app3", 5) == 0

    def test_memory_restart_is_wrong_limits_are_right(self, clean):
        """Restarting with the tiny limit keeps OOM-killing; raising the limit brings it back."""
        from chaoslib.faults import fix

        inject(clean, "memory-starve", targets=["app2"], params={"memory_mb": 16})
        fix("restart")(clean, target="app2")
        kills = Cgroups().stats("app2").oom_kills
        wait_until(lambda: Cgroups().stats("app2").oom_kills > kills, timeout=40)
        fix("set_limits")(clean, target="app2", memory_mb=512)
        wait_until(lambda: healthz("app2") == 200, timeout=90)

    def test_bad_fix_input(self, clean):
        """A fix naming an unknown target or an absurd limit is a clear UsageError."""
        from chaoslib.errors import UsageError
        from chaoslib.faults import fix

        with pytest.raises(UsageError, match="unknown target"):
            fix("restart")(clean, target="app99")
        with pytest.raises(UsageError, match="memory_mb"):
            fix("set_limits")(clean, target="app1", memory_mb=1)
