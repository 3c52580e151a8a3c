"""The dashboards' Elasticsearch panels drawn from the native log search (observe.logpanels), over recorded lines.

A test double of the live logs: files in the native stack's format (the app's JSON lines, Traefik's
access lines) written with recent times, read by the real log engine (`Logs`, DuckDB).
Elasticsearch itself cannot run on this machine (no package, no image); the live stack's own logs
are drawn in tests/integration/test_observe.py::TestLogs::test_elasticsearch_panels_draw_from_the_native_logs.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from chaoslib.errors import UsageError
from chaoslib.observe import dashboards, logpanels
from chaoslib.observe.logs import Logs


def iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


@pytest.fixture
def logs(tmp_path: Path) -> Logs:
    """Two minutes of four services: app1 logs errors, app2 answers one 500, app3 only warns, Traefik a 502."""
    now = time.time()
    files: dict[str, list[Path]] = {}
    for service in ("app1", "app2", "app3", "traefik"):
        out = []
        for i in range(120):
            t = now - 120 + i
            if service == "traefik":
                out.append(json.dumps({"StartUTC": iso(t), "DownstreamStatus": 502 if i == 60 else 200}))
                continue
            out.append(json.dumps({"time": iso(t), "level": "INFO", "message": "GET /", "status": 200,
                                   "replica": service}))
            if service == "app1" and i % 10 == 0:
                out.append(json.dumps({"time": iso(t), "level": "ERROR", "message": "journal write failed",
                                       "replica": service}))
            if service == "app2" and i == 30:
                out.append(json.dumps({"time": iso(t), "level": "INFO", "message": "POST /1/vote/", "status": 500,
                                       "replica": service}))
            if service == "app3" and i % 10 == 0:
                out.append(json.dumps({"time": iso(t), "level": "WARNING", "message": "Not Found", "replica": service}))
        path = tmp_path / f"{service}.log"
        path.write_text("\n".join(out) + "\n")
        files[service] = [path]
    return Logs(files)


def test_the_logs_dashboard_has_its_two_elasticsearch_panels():
    """logs.json's Elasticsearch panels are found (and are not among the PromQL panels)."""
    ps = logpanels.panels("logs")
    assert [p.kind for p in ps] == ["timeseries", "logs"]
    assert not {p.title for p in ps} & {p.title for p in dashboards.panels("logs")}


def test_the_query_matches_the_error_lines_of_the_app_replicas(logs):
    """app replicas' ERROR lines and 5xx answers match; warnings, 200s and Traefik's 502 do not."""
    panel = logpanels.panels("logs")[0]
    rows = logpanels.lines(panel, logs, minutes=5)
    assert rows.groupby("service").size().to_dict() == {"app1": 12, "app2": 1}
    assert set(rows["message"]) == {"journal write failed", "POST /1/vote/"}


def test_both_panels_draw(logs):
    """The timeseries draws a line per replica with errors, named in its legend; the logs panel lists lines."""
    fig = logpanels.plot("logs", logs=logs, fig=Figure(), minutes=5)
    series, listing = fig.axes
    lines = [line for line in series.get_lines() if dashboards.drawn(line)]
    assert sorted(line.get_label() for line in lines) == ["app1", "app2"]
    assert [t.get_text() for t in series.get_legend().get_texts()] == ["app1", "app2"]
    listed = [t.get_text() for t in listing.texts if t.get_gid() == logpanels.LOG_LINE_GID]
    assert len(listed) == 12 and all(("app1" in t or "app2" in t) for t in listed)


def test_control_a_query_matching_nothing_is_no_data(logs, tmp_path):
    """Control: the same panels on a query no line matches draw nothing and say "no data"."""
    board = dashboards.load("logs")
    for p in board["panels"]:
        for t in p.get("targets", []):
            if "query" in t:
                t["query"] = "container.name:app* AND log.level:(NO_SUCH_LEVEL)"
    path = tmp_path / "control.json"
    path.write_text(json.dumps(board))
    fig = logpanels.plot(path, logs=logs, fig=Figure(), minutes=5)
    for ax in fig.axes:
        assert not [line for line in ax.get_lines() if dashboards.drawn(line)]
        assert [t.get_text() for t in ax.texts] == ["no data"]


@pytest.mark.parametrize("query", ["container.name:app* AND NOT log.level:INFO", "kubernetes.pod:x",
                                   "container.name:app* AND (log.level:ERROR", "container.name:app* OR"])
def test_a_query_outside_the_subset_is_a_usage_error(query):
    """What the subset does not cover is refused, never read as something else."""
    with pytest.raises(UsageError):
        logpanels.parse(query)
