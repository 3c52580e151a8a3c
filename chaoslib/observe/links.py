"""Links from the notebooks to Grafana's dashboards, Kibana's saved search, Prometheus and Alertmanager.

A backend that runs Grafana and Kibana (its `endpoints()` name "grafana" and "kibana": the
Docker stack) gets links that open them on the incident, from a little before the fault's
injection (or the first page, if earlier) to now; Prometheus's and Alertmanager's alert pages
wherever they run. Without Grafana, one line says where it is. Nothing here asks which backend
it has: only which endpoints it offers (given as the player's browser opens them: config.public_urls).
"""
from __future__ import annotations

import html
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import quote, urlencode

from chaoslib.observe.dashboards import load

__all__ = ["KIBANA_SEARCH", "LEAD_S", "DEFAULT_MINUTES", "NOTE", "Link", "grafana_url", "kibana_url",
           "incident_links", "incident_range", "as_html"]

#: The saved search stack/kibana/setup.sh creates: the app replicas' error lines.
KIBANA_SEARCH = "chaos-app-errors"
#: How long before the injection (or the first page) a link's range begins: some steady state to compare.
LEAD_S = 120.0
#: The range when no game was played yet: the last half hour.
DEFAULT_MINUTES = 30.0
NOTE = "Grafana and Kibana come with the Docker backend (CHAOSCTL_BACKEND=docker): links to them appear here there."
#: Characters Kibana's rison state keeps as they are in the URL (quote() escapes the rest).
RISON_SAFE = "(),:'!"


@dataclass(frozen=True)
class Link:
    """One link to show: what it opens, and its URL."""

    label: str
    url: str


def iso(t: float) -> str:
    """Epoch seconds as the UTC ISO 8601 time Kibana's `_g` range reads (milliseconds)."""
    moment = datetime.fromtimestamp(t, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def slug(title: str) -> str:
    """A dashboard title as Grafana's URL slug ("Golden signals" -> "golden-signals")."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "dashboard"


def grafana_url(base: str, *, uid: str, title: str, start: float, end: float) -> str:
    """A Grafana dashboard over [start, end] (epoch seconds): /d/<uid>/<slug>?from=<ms>&to=<ms>."""
    query = urlencode({"from": int(start * 1000), "to": int(end * 1000)})
    return f"{base.rstrip('/')}/d/{quote(uid, safe='')}/{quote(slug(title), safe='')}?{query}"


def kibana_url(base: str, *, search_id: str, start: float, end: float) -> str:
    """Kibana's Discover on a saved search over [start, end]: /app/discover#/view/<id>?_g=(time:(from:..,to:..))."""
    state = f"(time:(from:'{iso(start)}',to:'{iso(end)}'))"
    return f"{base.rstrip('/')}/app/discover#/view/{quote(search_id, safe='')}?_g={quote(state, safe=RISON_SAFE)}"


def incident_links(endpoints: dict[str, str], *, start: float, end: float,
                   dashboard: str = "golden-signals", search: bool = True) -> list[Link]:
    """The links the endpoints allow: the Grafana dashboard (by uid), if `search` Kibana's saved search, and
    the alerts as Prometheus and Alertmanager show them."""
    out = []
    if endpoints.get("grafana"):
        board = load(dashboard)
        out.append(Link(f"Grafana: {board.get('title', dashboard)} dashboard",
                        grafana_url(endpoints["grafana"], uid=board.get("uid", dashboard),
                                    title=board.get("title", dashboard), start=start, end=end)))
    if search and endpoints.get("kibana"):
        out.append(Link("Kibana: the app's error lines (saved search)",
                        kibana_url(endpoints["kibana"], search_id=KIBANA_SEARCH, start=start, end=end)))
    if endpoints.get("prometheus"):
        out.append(Link("Prometheus: the alert rules and what fires", f"{endpoints['prometheus'].rstrip('/')}/alerts"))
    if endpoints.get("alertmanager"):
        out.append(Link("Alertmanager: the alerts it routes", f"{endpoints['alertmanager'].rstrip('/')}/#/alerts"))
    return out


def incident_range(started_at: float | None, paged_at: float | None = None, *,
                   now: float | None = None) -> tuple[float, float]:
    """(start, end) of the incident: LEAD_S before the injection or the first page, whichever came first, to now.

    Without a game, the last DEFAULT_MINUTES.
    """
    end = time.time() if now is None else now
    moments = [t for t in (started_at, paged_at) if t is not None]
    start = min(moments) - LEAD_S if moments else end - DEFAULT_MINUTES * 60
    return min(start, end), end


def as_html(links: list[Link]) -> str:
    """The links as one HTML line (escaped; each opens in a new tab), and the note when Grafana is not among them."""
    note = "" if any(link.label.startswith("Grafana") for link in links) else f"<p>{html.escape(NOTE)}</p>"
    if not links:
        return note
    items = " · ".join(f'<a href="{html.escape(link.url, quote=True)}" target="_blank" rel="noopener">'
                       f"{html.escape(link.label)}</a>" for link in links)
    return f"<p>{items}</p>{note}"
