"""The backend contract, as abstract test classes (the fsspec way).

Each class uses two fixtures a concrete module provides: `backend` (a Backend on a live
stack) and `probe` (how to act as the load balancer, a replica or an exporter from
outside, and read kernel counters). test_local.py mixes these in with the local
backend's fixtures; test_docker.py with the Docker backend's; tests/unit/test_memory_backend.py
mixes the `...Contract` classes with the in-memory backend's.

The `...RealEffects` classes prove effects only a real backend has (packets dropped on the
wire, the kernel throttling a cgroup): only backends whose Features say `real_network` /
`real_limits` mix them in, and mixing one into a backend without the flag fails, not skips.
"""
from __future__ import annotations

import errno

import pytest

import binomial
from chaoslib.backends.base import DATABASE, LOAD_BALANCER, Limits, holder_key, holder_name
from chaoslib.errors import ChaosError, NotSupported, UsageError
from integration.helpers import wait_until
from pollapp import releases


def require_feature(backend, flag: str) -> None:
    """Fail (never skip) a real-effects test mixed into a backend that lacks `flag`."""
    if not getattr(backend.features, flag):
        pytest.fail(f"{type(backend).__name__} lacks {flag}: do not mix this RealEffects class into its tests",
                    pytrace=False)


class ProcessContract:
    def test_targets_are_the_replicas(self, backend):
        """targets() names every app replica and nothing else."""
        assert backend.targets() and all(t.startswith("app") for t in backend.targets())

    def test_restart_gives_a_new_process(self, backend, probe):
        """restart() replaces the replica's process and it comes back healthy."""
        target = backend.targets()[-1]
        before = backend.pid_of(target=target)
        backend.restart(target=target)
        wait_until(lambda: backend.pid_of(target=target) not in (None, before))
        wait_until(lambda: probe.healthy(target), timeout=60)

    def test_unknown_target_is_a_usage_error(self, backend):
        """Primitives refuse an unknown target with a UsageError naming the known ones."""
        with pytest.raises(UsageError, match="app1"):
            backend.restart(target="nope")


class NetworkContract:
    def test_rules_are_listed_with_source_and_target(self, backend):
        """network_rules() reports each rule's key, source, target and fraction."""
        a = backend.targets()[0]
        backend.drop_packets(key="t-list", source=LOAD_BALANCER, target=a, fraction=0.25)
        try:
            rules = [r for r in backend.network_rules() if r.key == "t-list"]
            assert [(r.source, r.target, r.fraction) for r in rules] == [(LOAD_BALANCER, a, 0.25)]
        finally:
            backend.remove_network_rules(key="t-list")
        assert not [r for r in backend.network_rules() if r.key == "t-list"]

    def test_bad_fraction_changes_nothing(self, backend):
        """An out-of-range fraction is refused before any rule exists."""
        before = backend.fault_footprint()
        with pytest.raises(UsageError, match="fraction"):
            backend.drop_packets(key="t-bad", source=LOAD_BALANCER, target=backend.targets()[0], fraction=1.5)
        assert backend.fault_footprint()["ruleset"] == before["ruleset"]

    def test_latency_refused_without_netem(self, backend):
        """Latency needs netem: without it the backend says so instead of pretending, and nothing changes."""
        if backend.features.has_netem:
            pytest.skip("this kernel has netem: test_latency_delays_the_load_balancer runs instead")
        before = backend.fault_footprint()
        with pytest.raises(NotSupported, match="netem"):
            backend.delay_packets(key="t-lat", source=LOAD_BALANCER, target=backend.targets()[0], delay_ms=100)
        assert backend.fault_footprint() == before


class NetworkRealEffects:
    """Packets really dropped or delayed, seen from outside (backends with real_network)."""

    @pytest.fixture(autouse=True)
    def _real_network(self, backend):
        require_feature(backend, "real_network")

    def test_cutoff_blocks_only_that_replica(self, backend, probe):
        """A full drop from the load balancer to one replica blocks it and no other."""
        a, b = backend.targets()[:2]
        backend.drop_packets(key="t-cut", source=LOAD_BALANCER, target=a, fraction=1.0)
        try:
            assert probe.lb_connect_failures(a, 5) == 5
            assert probe.lb_connect_failures(b, 5) == 0
        finally:
            assert backend.remove_network_rules(key="t-cut") == 1
        assert probe.lb_connect_failures(a, 5) == 0

    @pytest.mark.parametrize("fraction", [0.2, 0.8])
    def test_loss_fraction_measured_from_outside(self, backend, probe, fraction):
        """Dropping a fraction of the packets fails that share of connection attempts (not 1 - it, not half)."""
        a = backend.targets()[0]
        backend.drop_packets(key="t-loss", source=LOAD_BALANCER, target=a, fraction=fraction)
        try:
            failed = probe.lb_connect_failures(a, binomial.ATTEMPTS)
        finally:
            backend.remove_network_rules(key="t-loss")
        lo, hi = binomial.bounds(binomial.ATTEMPTS, fraction)
        assert lo <= failed <= hi, (failed, lo, hi)
        assert binomial.outside(failed, binomial.ATTEMPTS, 0.5), f"{failed} would pass for half the packets too"

    def test_db_cutoff_spares_the_exporter(self, backend, probe):
        """Cutting a replica off from PostgreSQL leaves the other replicas and the exporter connected."""
        a, b = backend.targets()[:2]
        backend.drop_packets(key="t-db", source=a, target=DATABASE, fraction=1.0)
        try:
            assert not probe.db_reachable_from(a)
            assert probe.db_reachable_from(b)
            assert probe.db_reachable_from_exporter()
        finally:
            backend.remove_network_rules(key="t-db")
        assert probe.db_reachable_from(a)

    def test_latency_delays_the_load_balancer(self, backend, probe):
        """With netem, the load balancer's connects to the target take the added delay, others do not; undone fully."""
        if not backend.features.has_netem:
            pytest.skip("this kernel has no netem qdisc: the latency fault cannot run here")
        a, b = backend.targets()[:2]
        before = backend.fault_footprint()
        backend.delay_packets(key="t-lat", source=LOAD_BALANCER, target=a, delay_ms=300)
        try:
            assert backend.fault_footprint() != before  # the qdisc and its marking table are part of the footprint
            assert probe.lb_connect_seconds(a) >= 0.25
            assert 0 <= probe.lb_connect_seconds(b) < 0.1
        finally:
            backend.remove_network_rules(key="t-lat")
        assert 0 <= probe.lb_connect_seconds(a) < 0.1
        assert backend.fault_footprint() == before


class DiskContract:
    def test_fill_makes_app_writes_fail_with_enospc(self, backend, probe):
        """Junk fills a replica's disk until the app's own writes fail with ENOSPC; removing it frees them."""
        target = backend.targets()[0]
        before = backend.disk_usage(target=target)
        written = backend.write_file(target=target, path="tmp/junk.bin", size_bytes=before.size_bytes, tag="t-disk")
        try:
            assert written >= before.free_bytes - 64 * 1024
            assert probe.app_write_errno(target) == errno.ENOSPC
            assert backend.list_files(target=target)[0].path == "tmp/junk.bin"
        finally:
            assert backend.remove_file(target=target, path="tmp/junk.bin")
        assert probe.app_write_errno(target) is None
        assert backend.disk_usage(target=target).used_bytes <= before.used_bytes + 256 * 1024

    def test_paths_outside_the_disk_are_refused(self, backend):
        """A path escaping the disk is a usage error."""
        with pytest.raises(UsageError):
            backend.write_file(target=backend.targets()[0], path="../../etc/x", size_bytes=10)


class LimitsContract:
    def test_limits_round_trip_and_default(self, backend):
        """Limits read back as set and return to the defaults."""
        target = backend.targets()[0]
        default = backend.default_limits()
        assert backend.get_limits(target=target) == default
        backend.set_limits(target=target, limits=Limits(cpu=0.5, memory=default.memory))
        try:
            assert backend.get_limits(target=target).cpu == 0.5
        finally:
            backend.set_limits(target=target, limits=default)
        assert backend.get_limits(target=target) == default

    def test_out_of_range_limits_refused(self, backend):
        """A memory limit of a few bytes is refused and nothing changes."""
        target = backend.targets()[0]
        with pytest.raises(UsageError, match="memory"):
            backend.set_limits(target=target, limits=Limits(cpu=1.0, memory=1000))
        assert backend.get_limits(target=target) == backend.default_limits()


class LimitsRealEffects:
    """Limits the kernel enforces, counted by it (backends with real_limits)."""

    @pytest.fixture(autouse=True)
    def _real_limits(self, backend):
        require_feature(backend, "real_limits")

    def test_tiny_cpu_quota_is_throttled(self, backend, probe):
        """A tiny CPU quota plus a restart gets the replica throttled, counted by the kernel."""
        target = backend.targets()[-1]
        before = probe.throttled_periods(target)
        backend.set_limits(target=target, limits=Limits(cpu=0.02, memory=backend.default_limits().memory))
        try:
            backend.restart(target=target)
            wait_until(lambda: probe.throttled_periods(target) > before + 5, timeout=20)
        finally:
            backend.set_limits(target=target, limits=backend.default_limits())
            backend.ensure_running(target=target)
        wait_until(lambda: probe.healthy(target), timeout=60)


class ResetContract:
    def test_reset_removes_every_trace(self, backend, probe):
        """reset_faults() needs no record: rules, limits and tagged junk all go."""
        a, b = backend.targets()[:2]
        before = backend.fault_footprint()
        backend.drop_packets(key="t-reset", source=LOAD_BALANCER, target=a, fraction=0.4)
        backend.write_file(target=b, path="exports/x.csv", size_bytes=1 << 20, tag="t-reset")
        backend.set_limits(target=a, limits=Limits(cpu=0.3, memory=backend.default_limits().memory))
        done = backend.reset_faults()
        assert done
        after = backend.fault_footprint()
        assert after == before
        assert backend.reset_faults() == []  # idempotent
        wait_until(lambda: probe.healthy(a) and probe.healthy(b), timeout=60)


class ReleaseContract:
    """Rolling a replica to another release (backends with Features.releases)."""

    @pytest.fixture(autouse=True)
    def _releases(self, backend):
        require_feature(backend, "releases")

    def test_every_replica_starts_on_the_current_release(self, backend):
        """Before any roll, each replica runs releases.CURRENT and its history ends there; status says so."""
        for target in backend.targets():
            assert backend.release(target=target) == releases.CURRENT
            assert backend.release_history(target=target)[-1][1] == releases.CURRENT
        shown = {s.name: s.release for s in backend.status()}
        assert all(shown[t] == releases.CURRENT for t in backend.targets())
        assert all(v == "" for name, v in shown.items() if name not in backend.targets())

    def test_a_roll_outlives_a_restart_and_the_sweep_rolls_back(self, backend, probe):
        """set_release changes one replica's release (history, status, footprint); a restart keeps it;
        a second roll to the same release changes nothing; reset_faults puts it back on CURRENT."""
        a, b = backend.targets()[0], backend.targets()[-1]
        before = backend.fault_footprint()
        backend.set_release(target=b, release=releases.FAULTY_VOTES)
        try:
            assert backend.release(target=b) == releases.FAULTY_VOTES and backend.release(target=a) == releases.CURRENT
            history = backend.release_history(target=b)
            assert [v for _, v in history[-2:]] == [releases.CURRENT, releases.FAULTY_VOTES]
            assert history[-2][0] <= history[-1][0]
            assert backend.fault_footprint()["releases"][b] == releases.FAULTY_VOTES
            assert {s.name: s.release for s in backend.status()}[b] == releases.FAULTY_VOTES
            wait_until(lambda: probe.healthy(b), timeout=60)
            backend.restart(target=b)
            wait_until(lambda: probe.healthy(b), timeout=60)
            assert backend.release(target=b) == releases.FAULTY_VOTES
            backend.set_release(target=b, release=releases.FAULTY_VOTES)
            assert backend.release_history(target=b) == history
        finally:
            done = backend.reset_faults()
        assert f"rolled {b} back to release {releases.CURRENT}" in done
        assert backend.release(target=b) == releases.CURRENT
        # A roll is a restart: a footprint that names processes (Docker's `pids`) has new ones, by design.
        assert _without_pids(backend.fault_footprint()) == _without_pids(before)
        wait_until(lambda: probe.healthy(b), timeout=60)

    def test_unknown_release_or_target_is_a_usage_error(self, backend):
        """A roll to a release the table does not name, or of an unknown replica, changes nothing."""
        before = backend.fault_footprint()
        calls = [lambda: backend.set_release(target=backend.targets()[0], release="0.0.1"),
                 lambda: backend.set_release(target="nope", release=releases.PREVIOUS),
                 lambda: backend.release_history(target="nope")]
        for call, known in zip(calls, [releases.PREVIOUS, "app1", "app1"], strict=True):
            with pytest.raises(UsageError) as e:
                call()
            assert known in e.value.one_line() and "\n" not in e.value.one_line()
        assert backend.fault_footprint() == before


class DatabaseContract:
    """A fault's database holder (backends with Features.database_sessions): its session is in the player's view
    under the fault's client name, the player's fix (ending it by pid) ends it, and stopping it leaves nothing."""

    KEY = "f-c0ffee"

    @pytest.fixture(autouse=True)
    def _sessions(self, backend):
        require_feature(backend, "database_sessions")

    def test_each_sessions_query_reads_as_one_line(self, backend):
        """A query's newlines and tabs (postgres-exporter's are indented) read as single spaces, trimmed: a row each."""
        sessions = backend.db_activity()
        assert sessions, "no client session"
        assert [r.query for r in sessions if any(c in r.query for c in "\n\t\r") or r.query != r.query.strip()
                or "  " in r.query] == []

    def test_a_lock_holder_is_seen_ended_by_pid_and_stopped_without_a_trace(self, backend):
        """The cheap kind (one session): start, read pg_stat_activity, terminate by pid, stop; idempotent."""
        before = backend.db_holders()
        backend.start_db_holder(key=self.KEY, kind="locks", amount=3)
        try:
            mine = [r for r in backend.db_activity() if r.application_name == holder_name(self.KEY, "locks")]
            assert len(mine) == 1 and mine[0].state.startswith("idle in transaction"), mine
            assert self.KEY in backend.db_holders() and backend.db_max_connections() >= 10
            assert backend.terminate_db_backend(pid=mine[0].pid) == [mine[0].pid]
            assert not [r for r in backend.db_activity() if holder_key(r.application_name) == self.KEY]
        finally:
            backend.stop_db_holder(key=self.KEY)
        assert backend.db_holders() == before
        assert backend.stop_db_holder(key=self.KEY) == []
        with pytest.raises(UsageError, match=f"no database session with pid {mine[0].pid}"):
            backend.terminate_db_backend(pid=mine[0].pid)

    def test_a_holder_the_contract_does_not_know_is_refused(self, backend):
        """A bad key, kind or amount is a one-line UsageError, and nothing is started."""
        before = backend.db_holders()
        for kwargs in ({"key": "x", "kind": "locks", "amount": 1}, {"key": self.KEY, "kind": "nope", "amount": 1},
                       {"key": self.KEY, "kind": "idle", "amount": 5000}):
            with pytest.raises(UsageError):
                backend.start_db_holder(**kwargs)
        assert backend.db_holders() == before


def _without_pids(footprint: dict) -> dict:
    return {k: v for k, v in footprint.items() if k != "pids"}


def assert_not_chaos_error(e: BaseException) -> None:
    assert not isinstance(e, ChaosError)
