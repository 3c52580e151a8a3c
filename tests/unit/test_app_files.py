"""What counts as pollapp's own file on a replica's disk, and what a fault's junk looks like."""
from __future__ import annotations

from chaoslib import config
from chaoslib.faults.disk import JUNK_PLACES, junk_path


class TestAppFiles:
    def test_junk_is_never_an_app_file(self):
        """Every junk place, for many fault keys, is junk to the fixes, even the one under journal/."""
        paths = {junk_path(f"fault-{i}.app{i % 3 + 1}") for i in range(2000)}
        assert {p.split("/")[0] for p in paths} == {place.split("/")[0] for place in JUNK_PLACES}
        assert [p for p in paths if config.is_app_file(p)] == []

    def test_the_apps_files_are_its_own(self):
        """The journal, its rotated copy and boot records are the app's; look-alikes beside them are not."""
        own = ["journal/writes.jsonl", "journal/writes.jsonl.1", "boot/boot-1795920396348247457-4916.json"]
        assert all(config.is_app_file(p) for p in own)
        for other in ("journal/writes.jsonl.2", "journal/archive/writes.jsonl", "boot/boot-1.json.bak",
                      "cache/journal/writes.jsonl", "boot/core.1234"):
            assert not config.is_app_file(other), other
