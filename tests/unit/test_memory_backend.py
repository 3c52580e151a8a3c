"""The backend contract and the simulated effects, on the in-memory backend (no root, no stack)."""
from __future__ import annotations

import ast
import errno
from pathlib import Path

import pytest

from backends import contract
from backends.contract import (
    DatabaseContract,
    DiskContract,
    LimitsContract,
    NetworkContract,
    ProcessContract,
    ReleaseContract,
    ResetContract,
)
from chaoslib.backends.base import DATABASE, LOAD_BALANCER, Limits
from chaoslib.backends.memory import MemoryBackend
from chaoslib.backends.memory.lifecycle import BOOT_BYTES, WORKING_SET_BYTES
from chaoslib.config import Settings
from chaoslib.engine.registry import FaultRecord, Registry
from chaoslib.errors import FaultError, NotSupported, UsageError

TESTS = Path(__file__).resolve().parents[1]
#: Contract classes a real backend's suite does not mix in, because its Features lack their flag.
UNMIXED: dict[str, dict[str, str]] = {}
MiB = 2**20


class MemoryProbe:
    """The contract's outside view, read from the memory backend's own state (there is no outside)."""

    def __init__(self, backend: MemoryBackend) -> None:
        self.backend = backend

    def healthy(self, target: str) -> bool:
        return any(s.name == target and s.healthy for s in self.backend.status())

    def app_write_errno(self, target: str) -> int | None:
        return errno.ENOSPC if self.backend.disk_usage(target=target).free_bytes < BOOT_BYTES else None


@pytest.fixture
def backend(memory_stack):
    return memory_stack.backend


@pytest.fixture
def probe(backend):
    return MemoryProbe(backend)


class TestMemoryProcesses(ProcessContract):
    pass


class TestMemoryNetwork(NetworkContract):
    pass


class TestMemoryDisk(DiskContract):
    pass


class TestMemoryLimits(LimitsContract):
    pass


class TestMemoryReleases(ReleaseContract):
    pass


class TestMemoryDatabase(DatabaseContract):
    pass


class TestMemoryReset(ResetContract):
    pass


def _mixed_in(path: Path) -> set[str]:
    """The contract classes a test module's classes derive from."""
    tree = ast.parse(path.read_text())
    return {b.id for c in tree.body if isinstance(c, ast.ClassDef) for b in c.bases if isinstance(b, ast.Name)}


class TestContractCoverage:
    def test_memory_mixes_every_contract_and_no_real_effects(self):
        """This module runs every `...Contract` class and none of the `...RealEffects` ones."""
        names = {n for n in vars(contract) if n.endswith(("Contract", "RealEffects"))}
        mixed = _mixed_in(Path(__file__))
        assert {n for n in names if n.endswith("Contract")} <= mixed
        assert not {n for n in names if n.endswith("RealEffects")} & mixed

    @pytest.mark.parametrize("module", ["backends/test_local.py", "docker/test_docker.py"])
    def test_real_backends_mix_every_class(self, module):
        """The local and docker suites run every contract class, real effects included, but for the
        feature-gated classes their backend lacks the feature of (each named, with why, in UNMIXED)."""
        names = {n for n in vars(contract) if n.endswith(("Contract", "RealEffects"))}
        unmixed = set(UNMIXED.get(module, {}))
        mixed = _mixed_in(TESTS / module)
        assert names - unmixed <= mixed
        assert not unmixed & mixed, "a class mixed in now: remove it from UNMIXED"

    def test_real_effects_fail_on_a_backend_without_the_flag(self, backend):
        """A RealEffects class mixed into the memory backend fails loudly instead of skipping."""
        assert not backend.features.real_network and not backend.features.real_limits
        for flag in ("real_network", "real_limits"):
            with pytest.raises(pytest.fail.Exception, match=flag):
                contract.require_feature(backend, flag)


class TestLifecycle:
    def test_up_starts_n_healthy_replicas(self, tmp_path):
        """up(replicas=N) gives app1..appN running and healthy, with distinct pids; down empties it."""
        backend = MemoryBackend(Settings(state_dir=tmp_path))
        assert not backend.is_up() and backend.status() == []
        backend.up(replicas=4)
        replicas = [s for s in backend.status() if s.kind == "replica"]
        assert [s.name for s in replicas] == backend.targets() == ["app1", "app2", "app3", "app4"]
        assert all(s.state == "RUNNING" and s.healthy for s in backend.status())
        assert len({s.pid for s in backend.status()}) == len(backend.status())
        backend.down()
        assert not backend.is_up() and backend.targets() == []

    def test_replica_count_is_checked(self, tmp_path):
        """A replica count out of range, or another count on a running stack, is a usage error."""
        backend = MemoryBackend(Settings(state_dir=tmp_path))
        with pytest.raises(UsageError, match="replicas"):
            backend.up(replicas=0)
        backend.up(replicas=2)
        with pytest.raises(UsageError, match="already up with 2"):
            backend.up(replicas=3)

    def test_down_closes_the_registry(self, memory_stack):
        """down() leaves no active fault record behind, as the real backends do; purge removes the state."""
        registry = Registry(memory_stack.settings.faults_file)
        with registry.transaction() as records:
            records.append(FaultRecord(id="f-x", scenario="disk-full", family="disk", targets=["app1"], params={},
                                       injected_at=0, expires_at=1e12))
        memory_stack.down()
        assert registry.active() == []
        memory_stack.down(purge=True)
        assert not memory_stack.settings.state_dir.exists()

    def test_stop_ensure_running_restart_change_state_and_pid(self, backend):
        """stop() keeps a replica stopped without a pid; ensure_running() and restart() give new pids."""
        first = backend.pid_of(target="app2")
        backend.stop(target="app2")
        assert backend.pid_of(target="app2") is None
        assert {s.name: s.state for s in backend.status()}["app2"] == "STOPPED"
        backend.ensure_running(target="app2")
        second = backend.pid_of(target="app2")
        assert second not in (None, first)
        backend.ensure_running(target="app2")
        assert backend.pid_of(target="app2") == second
        backend.restart(target="postgres")
        assert backend.pid_of(target="postgres") is not None

    def test_logs_tell_what_happened(self, backend):
        """tail_log shows a replica's starts; there are no log files nor vote ledger to read."""
        backend.restart(target="app1")
        assert backend.tail_log(service="app1", lines=1).endswith(f"started (pid {backend.pid_of(target='app1')})")
        assert backend.log_files() == {} and backend.vote_ledger() is None

    def test_features_and_name(self, backend):
        """The memory backend says it has no netem, no real network or limits, no monitoring, no root."""
        f = backend.features
        assert backend.name == "memory"
        assert not (f.has_netem or f.real_network or f.real_limits or f.needs_root or f.has_monitoring)
        assert f.disk_survives_restart


def _health(backend: MemoryBackend, target: str) -> tuple[bool, str]:
    st = next(s for s in backend.status() if s.name == target)
    return st.healthy, st.detail


class TestSimulatedEffects:
    def test_cutoff_makes_only_that_replica_unhealthy(self, backend):
        """A full drop from the load balancer makes that replica unhealthy; a partial loss does not."""
        backend.drop_packets(key="k1", source=LOAD_BALANCER, target="app1", fraction=1.0)
        backend.drop_packets(key="k2", source=LOAD_BALANCER, target="app2", fraction=0.5)
        assert _health(backend, "app1") == (False, "cut off from the load balancer")
        assert _health(backend, "app2")[0] and _health(backend, "app3")[0]
        assert backend.remove_network_rules(key="k1") == 1
        assert _health(backend, "app1")[0]

    def test_db_cutoff_fails_the_health_check(self, backend):
        """A replica cut off from PostgreSQL fails its health check, as /healthz does."""
        backend.drop_packets(key="k", source="app3", target=DATABASE, fraction=1.0)
        assert _health(backend, "app3") == (False, "database unreachable")

    def test_network_refusals(self, backend):
        """Unknown endpoints are usage errors; latency is not supported; nothing is recorded."""
        with pytest.raises(UsageError, match="unknown target 'nope'") as e:
            backend.drop_packets(key="k", source=LOAD_BALANCER, target="nope", fraction=0.5)
        assert "app1" in e.value.hint
        with pytest.raises(UsageError, match="unknown target 'nope'"):
            backend.drop_packets(key="k", source="nope", target=DATABASE, fraction=0.5)
        with pytest.raises(NotSupported, match="netem"):
            backend.delay_packets(key="k", source=LOAD_BALANCER, target="app1", delay_ms=100)
        assert backend.network_rules() == []

    def test_write_fills_the_disk_and_no_more(self, backend):
        """write_file stops at the disk's size; the disk is then full and the replica cannot boot."""
        size = backend.disk_usage(target="app1").size_bytes
        assert backend.write_file(target="app1", path="a/b.bin", size_bytes=size // 4) == size // 4
        assert backend.write_file(target="app1", path="c.bin", size_bytes=size) == size - size // 4
        assert backend.write_file(target="app1", path="d.bin", size_bytes=10) == 0
        usage = backend.disk_usage(target="app1")
        assert usage.free_bytes == 0 and usage.used_ratio == 1.0
        assert [f.path for f in backend.list_files(target="app1")][:2] == ["c.bin", "a/b.bin"]
        assert not _health(backend, "app1")[0]
        backend.restart(target="app1")
        assert backend.pid_of(target="app1") is None
        assert backend.remove_file(target="app1", path="c.bin") and not backend.remove_file(target="app1", path="c.bin")

    def test_disk_errors(self, backend, tmp_path):
        """A folder is not a file; a stopped stack's disk is not mounted; an unknown replica is a usage error."""
        backend.write_file(target="app1", path="dir/x", size_bytes=1)
        with pytest.raises(UsageError, match="folder"):
            backend.remove_file(target="app1", path="dir")
        with pytest.raises(UsageError, match="unknown target 'nope'"):
            backend.disk_usage(target="nope")
        with pytest.raises(FaultError, match="not mounted"):
            MemoryBackend(Settings(state_dir=tmp_path)).disk_usage(target="app1")

    def test_memory_below_working_set_crash_loops_after_restart(self, backend):
        """A limit under the working set applies at the next start: no pid, BACKOFF, restarts counted."""
        backend.set_limits(target="app2", limits=Limits(cpu=1.0, memory=WORKING_SET_BYTES - MiB))
        assert _health(backend, "app2")[0]  # a new limit acts on the next start
        backend.restart(target="app2")
        backend.ensure_running(target="app2")
        st = next(s for s in backend.status() if s.name == "app2")
        assert (st.state, st.pid, st.healthy, st.restarts) == ("BACKOFF", None, False, 2)
        assert "OOM" in st.detail and "OOM" in backend.tail_log(service="app2")
        backend.set_limits(target="app2", limits=backend.default_limits())
        backend.ensure_running(target="app2")
        assert _health(backend, "app2") == (True, "running")

    def test_tiny_cpu_quota_is_reported(self, backend):
        """Under 0.05 cores the replica runs but fails its health checks, and says why."""
        backend.set_limits(target="app1", limits=Limits(cpu=0.02, memory=backend.default_limits().memory))
        healthy, detail = _health(backend, "app1")
        assert not healthy and "CPU" in detail
        assert next(s for s in backend.status() if s.name == "app1").cpu_limit_cores == 0.02
        backend.set_limits(target="app1", limits=Limits(cpu=0.05, memory=backend.default_limits().memory))
        assert _health(backend, "app1")[0]

    def test_reset_says_what_it_did_and_restarts_crash_loops(self, backend):
        """reset_faults names each thing undone, brings a crash-looping replica back and leaves untagged files."""
        before = backend.fault_footprint()
        backend.write_file(target="app1", path="mine.txt", size_bytes=100)
        backend.write_file(target="app1", path="junk.bin", size_bytes=10 * MiB, tag="f-1")
        backend.set_limits(target="app3", limits=Limits(cpu=1.0, memory=16 * MiB))
        backend.restart(target="app3")
        backend.drop_packets(key="f-2", source=LOAD_BALANCER, target="app2", fraction=1.0)
        changed = backend.fault_footprint()
        assert changed != before and changed["not_running"] == ["app3"]
        done = backend.reset_faults()
        assert done == ["removed 1 network rule(s)", "removed app1:junk.bin", "reset app3's limits", "started app3"]
        after = backend.fault_footprint()
        assert after["disk_files"]["app1"] == ["mine.txt"]
        assert {k: v for k, v in after.items() if k != "disk_files"} == \
               {k: v for k, v in before.items() if k != "disk_files"}
