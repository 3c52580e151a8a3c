"""The replica's journal on its disk: it rotates, and every file it writes is one the fixes leave alone."""
from __future__ import annotations

from pathlib import Path

from chaoslib import config
from chaoslib.kernel import disks


class TestJournal:
    def test_rotates_once_and_keeps_to_its_own_files(self, data_dir, settings):
        """Past its size limit the journal rotates to one old file; both count as the app's own, never junk."""
        from pollapp import journal

        settings.JOURNAL_MAX_BYTES = 2048
        for i in range(200):
            journal.append("vote", choice_id=i)
        files = sorted(f.path for f in disks.list_files(Path(data_dir)))
        assert files == ["journal/writes.jsonl", "journal/writes.jsonl.1"]
        assert all(config.is_app_file(f) for f in files)
        assert Path(data_dir, "journal/writes.jsonl").stat().st_size < 2048 + 200
