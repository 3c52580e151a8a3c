"""The supervisor event listener counts only the restarts the supervisor made on its own."""
from __future__ import annotations

from chaoslib.native.restarts import parse, record


class TestRestartCounter:
    def test_counts_automatic_restarts_only(self):
        """STARTING from EXITED or BACKOFF counts; a start from STOPPED (an operator) does not."""
        counts: dict = {}
        for from_state in ("STOPPED", "EXITED", "BACKOFF", "EXITED"):
            record(counts, "PROCESS_STATE_STARTING", {"processname": "app1", "from_state": from_state}, 1.0)
        record(counts, "PROCESS_STATE_RUNNING", {"processname": "app1", "from_state": "STARTING"}, 2.0)
        assert counts == {"app1": {"restarts": 3, "last": 1.0}}

    def test_parse_event_line(self):
        """Header and payload tokens parse into a dict."""
        assert parse("processname:app2 groupname:app2 from_state:EXITED tries:0") == {
            "processname": "app2", "groupname": "app2", "from_state": "EXITED", "tries": "0"}
