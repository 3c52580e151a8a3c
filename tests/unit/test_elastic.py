"""Logs from Elasticsearch, turned back into the lines the containers wrote.

Elasticsearch cannot run here (no package, no image): these tests use a stand-in HTTP
server that answers the two endpoints chaoslib calls (`_count`, `_search`) with documents
shaped as stack/filebeat/filebeat.yml makes them. The Docker stack itself runs the real one.
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from chaoslib.errors import ObserveError
from chaoslib.observe import elastic
from chaoslib.observe.logs import Logs

DOCS = [
    {"@timestamp": "2026-11-28T04:00:00.000Z", "container": {"name": "app1"}, "message": "database unreachable",
     "log": {"level": "error"}, "json": {"time": 1795838400.0, "logger": "pollapp", "replica": "app1",
                                         "path": "/api/polls/", "status": 500}},
    {"@timestamp": "2026-11-28T04:00:01.000Z", "container": {"name": "app1"},
     "message": "[2026-11-28 04:00:01] gunicorn booting worker"},
]


class StandIn(BaseHTTPRequestHandler):
    """Answers like Elasticsearch for filebeat-*: a count, and a search filtered by container."""

    searches: list = []

    def _send(self, body: dict, code: int = 200) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802
        self._send({"count": len(DOCS)} if self.path == "/filebeat-*/_count" else {}, 200)

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        StandIn.searches.append((self.path, body))
        name = body["query"]["bool"]["filter"][0]["term"]["container.name"]
        self._send({"hits": {"hits": [{"_source": d} for d in DOCS if d["container"]["name"] == name]}})

    def log_message(self, *args):
        pass


@pytest.fixture
def es_url():
    server = HTTPServer(("127.0.0.1", 0), StandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_app_documents_become_the_json_lines_the_app_wrote(es_url):
    """A decoded document gets its message and level back at the top, beside the app's own fields."""
    assert elastic.reachable(es_url)
    lines = elastic.container_lines(es_url, container="app1")
    first = json.loads(lines[0])
    assert first["message"] == "database unreachable" and first["level"] == "error"
    assert first["replica"] == "app1" and first["status"] == 500
    assert lines[1] == "[2026-11-28 04:00:01] gunicorn booting worker"


def test_search_asks_for_one_container_oldest_first(es_url):
    """The query filters by container name and a time range, sorted by @timestamp ascending."""
    StandIn.searches.clear()
    assert elastic.container_lines(es_url, container="app9") == []
    path, body = StandIn.searches[-1]
    assert path == "/filebeat-*/_search"
    assert body["sort"] == [{"@timestamp": {"order": "asc"}}]
    assert body["query"]["bool"]["filter"][1]["range"]["@timestamp"]["gte"] == "now-3600s"


def test_the_log_search_engine_reads_them(es_url, tmp_path):
    """Written to a file, the lines are searchable like the native captured logs."""
    path = tmp_path / "app1.log"
    path.write_text("".join(f"{line}\n" for line in elastic.container_lines(es_url, container="app1")))
    df = Logs({"app1": [path]}).search(text="database unreachable", minutes=None)
    assert list(df["replica"]) == ["app1"] and list(df["level"]) == ["error"]


def test_unreachable_elasticsearch():
    """No Elasticsearch: reachable() is False and a search is a clear ObserveError."""
    assert not elastic.reachable("http://127.0.0.1:9")
    with pytest.raises(ObserveError, match="Elasticsearch at http://127.0.0.1:9"):
        elastic.container_lines("http://127.0.0.1:9", container="app1")
