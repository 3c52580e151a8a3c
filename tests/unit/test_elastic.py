"""Logs from Elasticsearch through the official client, turned back into the lines the containers wrote.

Elasticsearch cannot run on this machine (no package, no image), so these tests talk to a
test DOUBLE (tests/unit/esdouble.py): a real HTTP server on 127.0.0.1 that speaks enough of
Elasticsearch 8's REST API for the real `elasticsearch` 8.x client (the info document and the
product header, `_count`, `_search` with filters, sort, size and search_after, and the
10,000-hit result window). Its documents are shaped as stack/filebeat/filebeat.yml makes them.
The Docker stack itself runs the real Elasticsearch.
"""
from __future__ import annotations

import json

import pytest

from chaoslib.errors import ObserveError
from chaoslib.observe import elastic
from chaoslib.observe.logs import Logs

from .esdouble import ElasticDouble, app_line, iso, now

#: 12,000 lines of app1 over the last 20 minutes, three per millisecond (ties a page may split),
#: and app2's lines interleaved (the container filter must leave them out).
LINES, SPAN_S = 12_000, 1200.0


def busy_hour(t_now: float) -> list[dict]:
    start = t_now - SPAN_S
    app1 = [app_line(i, start + (i // 3) * 0.3) for i in range(LINES)]
    app2 = [app_line(i, start + i * 0.5, replica="app2") for i in range(200)]
    return app1 + app2


@pytest.fixture(scope="module")
def busy():
    t_now = now()
    with ElasticDouble(busy_hour(t_now), now=t_now) as server:
        yield server


def seqs(lines: list[str]) -> list[int]:
    return [json.loads(line)["seq"] for line in lines]


def test_the_newest_lines_come_back_in_time_order_and_the_oldest_are_dropped(busy):
    """More lines in the window than the cap: the last 10,000 come back, oldest first; the first 2,000 do not."""
    busy.searches.clear()
    lines = elastic.container_lines(busy.url, container="app1")
    assert seqs(lines) == list(range(LINES - 10_000, LINES))
    assert all(json.loads(line)["replica"] == "app1" for line in lines)
    times = [json.loads(line)["time"] for line in lines]
    assert times == sorted(times) and times[-1] == busy.docs[LINES - 1]["@timestamp"]
    first = busy.searches[0]
    assert first["sort"][0] == {"@timestamp": {"order": "desc"}}
    assert first["query"]["bool"]["filter"][0] == {"term": {"container.name": "app1"}}
    assert first["query"]["bool"]["filter"][1]["range"]["@timestamp"] == {"gte": "now-3600s"}
    assert len(busy.searches) == 2 and "search_after" not in first
    assert busy.searches[1]["search_after"], "the second page starts after the first page's last hit"


def test_the_window_keeps_only_the_last_minutes(busy):
    """Fifteen minutes of a twenty-minute log: every line of those minutes, none older, in order."""
    lines = elastic.container_lines(busy.url, container="app1", minutes=15, size=50_000)
    cutoff = iso(busy.now - 900)
    expected = [d["json"]["seq"] for d in busy.docs[:LINES] if d["@timestamp"] >= cutoff]
    assert seqs(lines) == expected
    assert 8_900 < len(expected) < 9_100


def test_more_than_one_search_window(busy):
    """A cap above Elasticsearch's 10,000-hit window is reached by paging, not refused."""
    busy.searches.clear()
    lines = elastic.container_lines(busy.url, container="app1", size=11_000)
    assert seqs(lines) == list(range(LINES - 11_000, LINES))
    assert max(b["size"] for b in busy.searches) <= elastic.PAGE


def test_app_documents_become_the_json_lines_the_app_wrote():
    """A decoded document gets its message and level back at the top, beside the app's own fields."""
    t = now()
    docs = [{"@timestamp": iso(t - 2), "container": {"name": "app1"}, "message": "database unreachable",
             "log": {"level": "error", "offset": 0}, "json": {"logger": "pollapp", "replica": "app1",
                                                              "path": "/api/polls/", "status": 500}},
            {"@timestamp": iso(t - 1), "container": {"name": "app1"}, "log": {"offset": 90},
             "message": "[2026-11-28 04:00:01] gunicorn booting worker"}]
    with ElasticDouble(docs, now=t) as server:
        assert elastic.reachable(server.url)
        lines = elastic.container_lines(server.url, container="app1")
        path = server.searches[-1]
    first = json.loads(lines[0])
    assert first["message"] == "database unreachable" and first["level"] == "error"
    assert first["replica"] == "app1" and first["status"] == 500
    assert lines[1] == "[2026-11-28 04:00:01] gunicorn booting worker"
    assert path["_source"] == elastic.SOURCE


def test_the_log_search_engine_reads_them(busy, tmp_path):
    """Written to a file, the lines are searchable like the native captured logs."""
    path = tmp_path / "app1.log"
    path.write_text("".join(f"{line}\n" for line in elastic.container_lines(busy.url, container="app1",
                                                                              size=50)))
    df = Logs({"app1": [path]}).search(text=f"#{LINES - 1}", minutes=None)
    assert list(df["replica"]) == ["app1"] and list(df["status"]) == [200]


def test_unreachable_elasticsearch():
    """No Elasticsearch: reachable() is False and a search is a clear ObserveError."""
    assert not elastic.reachable("http://127.0.0.1:9")
    with pytest.raises(ObserveError, match="Elasticsearch at http://127.0.0.1:9") as info:
        elastic.container_lines("http://127.0.0.1:9", container="app1")
    assert info.value.__cause__ is not None


def test_a_server_that_is_not_elasticsearch():
    """An answer without Elasticsearch's product header is refused by the client: not reachable, an ObserveError."""
    t = now()
    with ElasticDouble(busy_hour(t)[:10], now=t, product_header=False) as server:
        assert not elastic.reachable(server.url)
        with pytest.raises(ObserveError):
            elastic.container_lines(server.url, container="app1")


def test_an_error_answer_is_an_observe_error(busy, monkeypatch):
    """Elasticsearch refusing a search (one page over its 10,000-hit window) is an ObserveError."""
    monkeypatch.setattr(elastic, "PAGE", 20_000)
    with pytest.raises(ObserveError, match="Result window is too large") as info:
        elastic.container_lines(busy.url, container="app1", size=12_000)
    assert info.value.query == "container.name:app1"
