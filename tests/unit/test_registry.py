"""The fault registry never loses or corrupts a record, even under concurrent writers."""
from __future__ import annotations

import json
import multiprocessing
import time

from chaoslib.engine.registry import FaultRecord, Registry


def _append(path, n, tag):
    reg = Registry(path)
    for i in range(n):
        with reg.transaction() as records:
            records.append(FaultRecord(id=f"{tag}-{i}", scenario="x", family="network", targets=["app1"],
                                       params={}, injected_at=time.time(), expires_at=time.time() + 60))


class TestRegistry:
    def test_concurrent_writers_keep_every_record(self, tmp_path):
        """Four processes appending at once leave every record and valid JSON."""
        path = tmp_path / "faults.json"
        procs = [multiprocessing.Process(target=_append, args=(path, 25, f"p{k}")) for k in range(4)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(30)
        ids = {r.id for r in Registry(path).records()}
        assert len(ids) == 100
        json.loads(path.read_text())

    def test_close_all_marks_active_healed(self, tmp_path):
        """Tearing the stack down closes every active record with the reason."""
        reg = Registry(tmp_path / "faults.json")
        _append(reg.path, 3, "a")
        assert reg.close_all(reason="stack down") == 3
        assert not reg.active()
        assert {r.healed_by for r in reg.records()} == {"stack down"}

    def test_expiry(self):
        """A record is expired once its time to live has passed, and only while active."""
        r = FaultRecord(id="f", scenario="x", family="disk", targets=[], params={}, injected_at=0, expires_at=10)
        assert r.expired(now=11) and not r.expired(now=9)
        r.status = "healed"
        assert not r.expired(now=11)


class TestDamagedRegistry:
    DAMAGES = {
        "truncated": b'{"version": 1, "faults": [{"id": "f-1", "scen',
        "empty": b"",
        "a list": b"[]",
        "missing key": b'{"version": 1, "faults": [{"id": "f-1"}]}',
        "not utf-8": b"\xff\xfe{",
        "undo not a list": b'{"faults": [{"id": "f", "scenario": "x", "family": "disk", "targets": [], '
                           b'"params": {}, "injected_at": 0, "expires_at": 1, "undo": 3}]}',
    }

    def test_each_damage_is_a_one_line_error_naming_panic(self, tmp_path):
        """Every shape of damage gives RegistryDamaged with a hint that names `chaosctl panic`, no traceback type."""
        from chaoslib.engine.registry import RegistryDamaged

        for name, raw in self.DAMAGES.items():
            path = tmp_path / f"{name.replace(' ', '-')}.json"
            path.write_bytes(raw)
            try:
                Registry(path).records()
            except RegistryDamaged as e:
                assert "chaosctl panic" in e.one_line() and "--force" not in e.one_line(), name
                assert "\n" not in e.one_line()
            else:
                raise AssertionError(f"{name}: no error")

    def test_salvage_quarantines_and_keeps_readable_records(self, tmp_path):
        """Salvage renames the damaged file beside itself and keeps every well-formed record."""
        path = tmp_path / "faults.json"
        good = FaultRecord(id="f-good", scenario="x", family="disk", targets=["app1"], params={},
                           injected_at=1, expires_at=2).to_dict()
        path.write_text(json.dumps({"version": 1, "faults": [good, {"id": "f-bad"}, 7]}))
        records, moved = Registry(path).salvage()
        assert [r.id for r in records] == ["f-good"]
        assert moved is not None and moved.parent == tmp_path and moved.name.startswith("faults.json.damaged-")
        assert json.loads(moved.read_text())["faults"][1] == {"id": "f-bad"}
        assert [r.id for r in Registry(path).records()] == ["f-good"]

    def test_salvage_of_truncated_file_starts_empty(self, tmp_path):
        """A file that is not JSON at all is kept aside and the registry starts empty and readable."""
        path = tmp_path / "faults.json"
        path.write_bytes(self.DAMAGES["truncated"])
        records, moved = Registry(path).salvage()
        assert records == [] and moved.read_bytes() == self.DAMAGES["truncated"]
        assert Registry(path).records() == []

    def test_registry_file_is_private(self, tmp_path):
        """The registry (the hidden answer of a game) is written 0600."""
        _append(tmp_path / "faults.json", 1, "p")
        assert (tmp_path / "faults.json").stat().st_mode & 0o777 == 0o600

    def test_being_injected_follows_the_injector_pid(self, tmp_path):
        """A record is being injected only while its injector process lives."""
        import os
        import subprocess

        r = FaultRecord(id="f", scenario="x", family="disk", targets=[], params={}, injected_at=0,
                        expires_at=1, injecting=True, injector_pid=os.getpid())
        assert r.being_injected()
        proc = subprocess.Popen(["true"])
        proc.wait()
        r.injector_pid = proc.pid
        assert not r.being_injected()
        r.injector_pid, r.injecting = os.getpid(), False
        assert not r.being_injected()
