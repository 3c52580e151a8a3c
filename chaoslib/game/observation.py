"""What the player can see, read from the stack in hand: status, PromQL, logs, pages, dashboards, links.

`Game.observe` is one of these. Every answer is a DataFrame (or a figure to look at); each
reads only what a person on call could read, never the fault registry or the game's truth.
Ranges, log searches, alerts and plots begin no earlier than the game's `view_from` (a game that
follows another shows nothing of the one before; the raw `metrics` client is not cut).
"""
from __future__ import annotations

import io
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pandas as pd

from chaoslib import config
from chaoslib.backends.base.logs import LogSource
from chaoslib.errors import ObserveError
from chaoslib.game import steady
from chaoslib.game.session import current
from chaoslib.observe import alerts, dashboards, links
from chaoslib.observe.links import Link
from chaoslib.observe.logs import Logs
from chaoslib.observe.metrics import Metrics, timestamp
from chaoslib.stack import Stack


class Observation:
    """The player's instruments over one stack (metrics None: a backend without Prometheus)."""

    def __init__(self, stack: Stack, metrics: Metrics | None, *, started_at: Callable[[], float | None],
                 view_from: Callable[[], float | None] = lambda: None) -> None:
        self.stack = stack
        self._metrics = metrics
        self._started_at = started_at
        self._view_from = view_from
        self._logs = Logs(backend=stack.backend)

    def _window(self, start: Any, end: Any, minutes: float | None) -> tuple[float, float, float] | None:
        """The (start, end) asked, its start moved up to the game's view_from, and that cut; None when nothing
        is cut.

        No `start`: `minutes` before the end (None: from the cut itself); no `end`: now.
        """
        cut = self._view_from()
        if cut is None:
            return None
        end_ts = timestamp(end, time.time())
        return max(timestamp(start, end_ts - minutes * 60 if minutes is not None else cut), cut), end_ts, cut

    def _cut(self, kw: dict[str, Any], *, minutes: float, step: float = 5) -> dict[str, Any]:
        """A range query's keywords, cut at the game's view_from (at least one step kept; no window reads before it)."""
        window = self._window(kw.get("start"), kw.get("end"), minutes)
        if window is None:
            return {**kw, "minutes": minutes}
        start, end, cut = window  # the journal read once per query, not once more for the cut
        return {**kw, "start": min(start, end - step), "end": end, "cut": cut}

    @property
    def metrics(self) -> Metrics:
        """Prometheus on this stack (a one-line error where the backend has none)."""
        if self._metrics is None:
            raise ObserveError(f"the {self.stack.backend.name} backend has no Prometheus", source="prometheus")
        return self._metrics

    # -- status ---------------------------------------------------------------------------------
    def status(self) -> pd.DataFrame:
        """Every service: state, health, address, restarts and saturation, one row each."""
        return self.stack.status_frame()

    def healthy(self) -> bool:
        """True when every service of the stack is healthy."""
        return self.stack.healthy()

    def steady_problems(self) -> list[str]:
        """What keeps the stack from its steady state now (empty: steady), as short phrases."""
        if self._metrics is None:
            return steady.status_problems(self.stack)
        return steady.slo_problems(self.stack, self._metrics)

    # -- metrics --------------------------------------------------------------------------------
    def query(self, promql: str) -> pd.DataFrame:
        """An instant PromQL query: one row per series."""
        return self.metrics.query(promql)

    def value(self, promql: str, default: float | None = None) -> float | None:
        """The single value of an instant query (the sum of its series), or `default`."""
        return self.metrics.value(promql, default)

    def query_range(self, promql: str, *, minutes: float = 15, step: float = 5, **kw: Any) -> pd.DataFrame:
        """A PromQL range query over the last `minutes` (start/end may be given): one row per sample and series."""
        return self.metrics.query_range(promql, step=step, **self._cut(kw, minutes=minutes, step=step))

    def wide(self, promql: str, *, minutes: float = 15, by: str = "replica", **kw: Any) -> pd.DataFrame:
        """A range query pivoted to one column per replica (ready to plot)."""
        return self.metrics.wide(promql, by=by, **self._cut(kw, minutes=minutes))

    def golden_signals(self, *, minutes: float = 15) -> dict[str, pd.DataFrame]:
        """Traffic, errors and p95 latency by replica."""
        return self.metrics.golden_signals(**self._cut({}, minutes=minutes))

    def saturation(self, *, minutes: float = 15) -> dict[str, pd.DataFrame]:
        """CPU, throttling, memory, OOM kills, disk and restarts by replica."""
        return self.metrics.saturation(**self._cut({}, minutes=minutes))

    # -- logs -----------------------------------------------------------------------------------
    def logs(self, **filters: Any) -> pd.DataFrame:
        """Search the logs (service, replica, level, text, minutes or since/until): one row per line.

        Its attrs say where the lines came from (attrs["log_source"], attrs["log_note"]; see log_source())."""
        return self._logs.search(**self._cut_logs(filters))

    def log_source(self) -> LogSource:
        """Where the logs come from, and `str()` says it: Elasticsearch, or the Docker engine when the
        compose profile "logs" is not up; the captured files natively."""
        return self.stack.backend.log_source()

    def log_counts(self, *, by: tuple[str, ...] = ("service", "level"), **filters: Any) -> pd.DataFrame:
        """How many lines per service and level (or any other columns) match."""
        return self._logs.counts(by=by, **self._cut_logs(filters))

    def _cut_logs(self, filters: dict[str, Any]) -> dict[str, Any]:
        """A log search's filters with its start moved to the game's view_from when it began earlier."""
        window = self._window(filters.get("since"), filters.get("until"), filters.get("minutes", 15))
        return filters if window is None else {**filters, "since": window[0], "minutes": None}

    # -- alerts ---------------------------------------------------------------------------------
    def pages(self, *, this_game: bool = True) -> pd.DataFrame:
        """What the pager received (by default only about alerts that started in this game)."""
        since = self._started_at() if this_game else None
        return alerts.pages(self.stack.endpoint("pager"), started_since=since)

    def alerts(self) -> pd.DataFrame:
        """Alerts Prometheus evaluates as pending or firing now (those active since the game's view began)."""
        found = alerts.rule_alerts(self.stack.endpoint("prometheus"))
        cut = self._view_from()
        if cut is None or found.empty:
            return found
        return found[found["active_at"].map(lambda t: t.timestamp()) >= cut].reset_index(drop=True)

    # -- dashboards -----------------------------------------------------------------------------
    def dashboards(self) -> list[str]:
        """The dashboards' names (the same JSON Grafana shows under Docker)."""
        return dashboards.names()

    def dashboard(self, name: str, *, minutes: float = 15) -> dict[str, pd.DataFrame]:
        """Each panel's series on one time grid: panel title -> a wide frame."""
        return {p.title: dashboards.panel_data(p, metrics=self.metrics, minutes=minutes, since=self._view_from())
                for p in dashboards.panels(name)}

    def marks(self) -> dict[str, float | None]:
        """The game's moments the player lived: the page, the first fix, the passed validation.

        Never the injection: when the fault began is part of what the player finds out.
        """
        state = current(self.stack)
        if state is None:
            return {}
        paged, fix = state.first("paged"), state.first("fix")
        passed = next((v for v in state.all("validation") if v["passed"]), None)
        return {"page": paged["received_at"] if paged else None, "fix": fix["t"] if fix else None,
                "validated": passed["t"] if passed else None}

    def plot(self, name: str, *, minutes: float = 15, end: float | datetime | None = None,
             marks: bool = True) -> Plot:
        """Draw a dashboard with matplotlib (one time grid, human units, the SLO lines, the game's moments dashed).

        A cell ending with it shows the plot once, whatever the notebook's plotting backend.
        """
        cut, started = self._view_from(), self._started_at()
        # The cut is the game's start after a game just ended, else where the previous game's echo ended.
        what = "this game began" if cut is None or started is None or cut >= started else \
            "the previous game's echo ended"
        return Plot(dashboards.plot(name, minutes=minutes, end=end, metrics=self.metrics,
                                    marks=self.marks() if marks else None, slo=steady.SLO, standalone=True,
                                    since=cut, since_what=what))

    def links(self, *, dashboard: str = "golden-signals", search: bool = True,
              now: float | None = None) -> list[Link]:
        """Links to Grafana's dashboard and Kibana's search over this incident (none without them)."""
        state = current(self.stack)
        paged = state.first("paged") if state else None
        start, end = links.incident_range(state.started_at if state else None,
                                          paged["received_at"] if paged else None,
                                          now=time.time() if now is None else now)
        endpoints = self.stack.backend.endpoints()
        if "kibana" in endpoints and self.log_source().kind != "elasticsearch":
            endpoints = {k: v for k, v in endpoints.items() if k != "kibana"}  # the log stack is not up
        # Where the player's browser is: the forwarded address of each port in a workspace (config.public_url).
        return links.incident_links(config.public_urls(endpoints), start=start, end=end, dashboard=dashboard,
                                    search=search)

    def show_links(self, *, dashboard: str = "golden-signals", search: bool = True,
                   now: float | None = None) -> list[Link]:
        """Display the links in a notebook (or the line saying where Grafana and Kibana are); returns them."""
        from IPython.display import HTML, display  # IPython: only inside a notebook

        found = self.links(dashboard=dashboard, search=search, now=now)
        display(HTML(links.as_html(found)))
        return found


class Plot:
    """A drawn dashboard: a notebook shows it once, as its PNG (a pyplot figure a cell returns shows twice).

    It is drawn outside pyplot, so it never changes the player's plotting backend. It stands for its
    matplotlib figure: `.figure`, and any other attribute is the figure's (`.axes`, `.savefig`).
    """

    def __init__(self, figure: Any) -> None:
        self.figure = figure

    def __getattr__(self, name: str) -> Any:
        if name == "figure":  # not set yet (a copy being made): no figure to ask
            raise AttributeError(name)
        return getattr(self.figure, name)

    def _repr_png_(self) -> bytes:
        """What IPython displays: the figure as PNG, cropped to what it draws."""
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue()
