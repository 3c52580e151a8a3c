"""The fault registry never loses or corrupts a record, even under concurrent writers."""
from __future__ import annotations

import json
import multiprocessing
import time

from chaoslib.registry import FaultRecord, Registry


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
