"""Links to Grafana and Kibana over the incident's time range, and to Prometheus's and Alertmanager's alerts,
shown only where the backend has them (where the player's browser opens them: tests/unit/test_public_links.py)."""
from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from chaoslib.backends.base.logs import LogSource
from chaoslib.game import Game
from chaoslib.game import session as game
from chaoslib.observe import links

#: 2026-11-28T04:00:00Z and twelve minutes later, plus some milliseconds.
START, END = 1795838400.25, 1795839120.5
DOCKER = {"app": "http://127.0.0.1:8000", "grafana": "http://127.0.0.1:3000", "kibana": "http://127.0.0.1:5601/"}


def test_grafana_url_has_the_exact_range_in_epoch_ms():
    url = links.grafana_url("http://127.0.0.1:3000/", uid="golden-signals", title="Golden signals",
                            start=START, end=END)
    parts = urlsplit(url)
    assert parts.path == "/d/golden-signals/golden-signals"
    assert parse_qs(parts.query) == {"from": ["1795838400250"], "to": ["1795839120500"]}


def test_kibana_url_opens_the_saved_search_on_the_exact_range():
    url = links.kibana_url("http://127.0.0.1:5601/", search_id="chaos-app-errors", start=START, end=END)
    assert url == ("http://127.0.0.1:5601/app/discover#/view/chaos-app-errors"
                   "?_g=(time:(from:'2026-11-28T04:00:00.250Z',to:'2026-11-28T04:12:00.500Z'))")


def test_url_parts_are_encoded():
    """A uid, title or search id with spaces, slashes or accents cannot break out of its path segment."""
    url = links.grafana_url("http://g", uid="a b/c", title="Erreurs: app é", start=START, end=END)
    assert urlsplit(url).path == "/d/a%20b%2Fc/erreurs-app"
    kibana = links.kibana_url("http://k", search_id="x y#z", start=START, end=END)
    assert "/view/x%20y%23z?_g=" in kibana
    assert unquote(kibana).endswith("(time:(from:'2026-11-28T04:00:00.250Z',to:'2026-11-28T04:12:00.500Z'))")


def test_links_follow_the_endpoints_not_the_backend():
    """Grafana's dashboard and Kibana's search when the endpoints name them; nothing when they do not.
    Prometheus's and Alertmanager's alert pages wherever they run (the native stack too)."""
    found = links.incident_links(DOCKER, start=START, end=END, dashboard="logs")
    assert [urlsplit(link.url).path for link in found] == ["/d/logs/logs", "/app/discover"]
    assert links.incident_links({"app": "http://x"}, start=START, end=END) == []
    native = links.incident_links({"app": "http://x", "prometheus": "http://y/", "alertmanager": "http://z"},
                                  start=START, end=END)
    assert [link.url for link in native] == ["http://y/alerts", "http://z/#/alerts"]
    assert links.as_html(native).endswith(f"<p>{links.NOTE}</p>")  # where Grafana is, said once
    (only,) = links.incident_links({"grafana": "http://g"}, start=START, end=END, search=True)
    assert only.url.startswith("http://g/d/golden-signals/")
    assert len(links.incident_links(DOCKER, start=START, end=END, search=False)) == 1


def test_incident_range():
    """From LEAD_S before the injection (or an earlier page) to now; the last half hour without a game."""
    assert links.incident_range(START, START + 90, now=END) == (START - links.LEAD_S, END)
    assert links.incident_range(START, START - 30, now=END) == (START - 30 - links.LEAD_S, END)
    assert links.incident_range(None, now=END) == (END - 30 * 60, END)


def test_html_escapes_and_notes():
    found = links.incident_links(DOCKER, start=START, end=END)
    text = links.as_html(found)
    assert text.count("<a href=") == 2 and "&#x27;" in text and "'2026" not in text
    assert links.as_html([]) == f"<p>{links.NOTE}</p>"


@pytest.fixture
def shown(monkeypatch):
    out = []
    monkeypatch.setattr("IPython.display.display", lambda obj: out.append(obj.data))
    return out


def test_show_uses_the_game_journal(memory_stack, monkeypatch, shown):
    """The links cover this game's incident: from before its injection to now."""
    monkeypatch.setattr(memory_stack.backend, "endpoints", lambda: DOCKER)
    # Kibana's link only while the log stack runs (Elasticsearch is where the logs come from).
    monkeypatch.setattr(memory_stack.backend, "log_source", lambda: LogSource("elasticsearch", "logs from ES"))
    state = game.GameState(seed=1, difficulty="normal", started_at=START, fault_ids=[])
    state.add("paged", received_at=START + 60, alertname="HighErrorRate")
    journal = game.journal(memory_stack)
    journal.path.parent.mkdir(parents=True, exist_ok=True)
    journal.save(state)
    found = Game(memory_stack).observe.show_links(dashboard="logs", now=END)
    assert parse_qs(urlsplit(found[0].url).query) == {"from": [str(int((START - links.LEAD_S) * 1000))],
                                                      "to": ["1795839120500"]}
    assert "2026-11-28T03:58:00.250Z" in found[1].url
    assert shown and "Grafana: Logs dashboard" in shown[0]


def test_show_without_grafana_or_kibana_is_one_note(memory_stack, shown):
    """The memory backend (like the native one) offers neither: no link, the one-line note."""
    assert "grafana" not in memory_stack.backend.endpoints()
    assert Game(memory_stack).observe.show_links() == []
    assert shown == [f"<p>{links.NOTE}</p>"]
