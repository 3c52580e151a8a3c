"""Health endpoints, metrics, structured logs."""
from __future__ import annotations

import json
import logging

import pytest
from prometheus_client import REGISTRY


class TestLivez:
    def test_ok_without_database(self, client):
        """/livez answers without touching the database (pytest-django refuses any database access here)."""
        assert client.get("/livez").json() == {"status": "ok"}


class TestHealthz:
    @pytest.mark.django_db
    def test_ok_with_database(self, client):
        """/healthz is 200 when the database answers."""
        assert client.get("/healthz").json()["database"] == "ok"

    @pytest.mark.django_db(transaction=True)
    def test_503_when_database_unreachable(self, client):
        """/healthz is 503 when PostgreSQL's port is closed, says the database is unreachable, and recovers."""
        from django.db import connection

        from .gunicorn_proc import free_port

        saved = dict(connection.settings_dict)
        connection.close()
        connection.settings_dict["PORT"] = free_port()  # nothing listens there: a real refused connection
        try:
            resp = client.get("/healthz")
        finally:
            connection.close()
            connection.settings_dict.clear()
            connection.settings_dict.update(saved)
        assert resp.status_code == 503 and resp.json()["database"] == "unreachable"
        assert client.get("/healthz").status_code == 200


@pytest.mark.django_db
class TestMetrics:
    def test_business_counters(self, client, poll, data_dir):
        """Creating a poll and voting move polls_created_total and votes_cast_total."""
        before_p = REGISTRY.get_sample_value("polls_created_total") or 0
        before_v = REGISTRY.get_sample_value("votes_cast_total") or 0
        client.post("/api/polls/", data=json.dumps({"question": "q", "choices": ["a", "b"]}),
                    content_type="application/json")
        client.post(f"/api/polls/{poll.pk}/vote/", data=json.dumps({"choice": poll.choice_set.first().pk}),
                    content_type="application/json")
        assert REGISTRY.get_sample_value("polls_created_total") == before_p + 1
        assert REGISTRY.get_sample_value("votes_cast_total") == before_v + 1

    def test_metrics_endpoint(self, client, poll):
        """/metrics serves django-prometheus' request metrics and the app's counters."""
        client.get("/api/polls/")
        text = client.get("/metrics").content.decode()
        assert "django_http_requests_total_by_view_transport_method" in text
        assert "polls_created_total" in text and "pollapp_log_messages_total" in text


@pytest.mark.django_db
class TestStructuredLogs:
    def test_access_log_is_json_with_request_fields(self, client, poll, monkeypatch):
        """Each request logs one JSON line with replica, request id, method, path, status and duration (the replica's
        name from its environment, as gunicorn's processes have it: set for this test only)."""
        import io

        monkeypatch.setenv("REPLICA_NAME", "apptest")

        from pollapp.jsonlog import JsonFormatter

        buf = io.StringIO()
        handler = logging.StreamHandler(buf)
        handler.setFormatter(JsonFormatter())
        logging.getLogger("pollapp.access").addHandler(handler)
        try:
            resp = client.get("/api/polls/", HTTP_X_REQUEST_ID="req-123")
        finally:
            logging.getLogger("pollapp.access").removeHandler(handler)
        assert resp["X-Request-Id"] == "req-123"
        lines = [json.loads(line) for line in buf.getvalue().splitlines()]
        access = [r for r in lines if r.get("event") == "access" and r.get("request_id") == "req-123"]
        assert access, lines
        rec = access[0]
        assert rec["status"] == 200 and rec["method"] == "GET" and rec["path"] == "/api/polls/"
        assert rec["replica"] == "apptest" and rec["level"] == "INFO" and rec["duration_ms"] >= 0
        assert {"time", "logger", "message"} <= rec.keys()

    def test_error_carries_exception(self):
        """An error logged with an exception carries its traceback in the JSON line."""
        from pollapp.jsonlog import JsonFormatter

        try:
            raise OSError(28, "No space left on device")
        except OSError:
            rec = logging.getLogger("x").makeRecord("x", logging.ERROR, __file__, 1, "boom", (),
                                                    __import__("sys").exc_info())
        out = json.loads(JsonFormatter().format(rec))
        assert out["level"] == "ERROR" and out["exc_type"] == "OSError"
        assert "No space left on device" in out["exception"]
