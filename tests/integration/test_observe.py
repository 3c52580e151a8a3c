"""What the player sees on the live stack: metrics, dashboards, logs and alerts into pandas."""
from __future__ import annotations

import json
import time
from pathlib import Path

import django_prometheus.db.metrics  # noqa: F401 (registers the database counters the app exports)
import pytest
from matplotlib.figure import Figure
from prometheus_client import REGISTRY

import pollapp.metrics  # noqa: F401 (registers the app's own counters)
from chaoslib.errors import ObserveError
from chaoslib.observe import dashboards, fallback, logpanels
from chaoslib.observe.logs import Logs
from chaoslib.observe.metrics import Metrics

from .helpers import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def metrics(live_stack):
    m = Metrics(live_stack.endpoint("prometheus"))
    # Rates need two scrapes of traffic; dashboards need a minute of it.
    wait_until(lambda: (m.value("lb:requests:rate1m", 0) or 0) > 1, timeout=120, interval=2)
    # ...and the per-replica recording rules a fresh stack evaluates a few seconds later (no test may rely on an
    # older stack left by another module).
    wait_until(lambda: len(m.query("replica:pollapp_requests:rate1m > 0")) == 3, timeout=120, interval=2)
    return m


def exists(metrics: Metrics, name: str) -> bool:
    """A series name is real: a metric a scrape target declares, or one of the app's counters (below), or a
    recording rule whose inputs all are.

    The app counts in prometheus_client's multiprocess mode, which exports a labelled counter (errors
    by errno, by exception type) only once it was first counted: on a healthy stack no target
    declares it yet, so its name is checked against the counters the app's code registers.
    """
    rule = fallback.rules().get(name)
    if rule is None:
        return metrics.declared(name) or name.removesuffix("_total") in {m.name for m in REGISTRY.collect()}
    return all(exists(metrics, n) for n in fallback.series_names(fallback.real(rule)))


def panel_report(dashboard: str | Path, metrics: Metrics) -> tuple[dict[str, str], object]:
    """Draw a dashboard; each panel's state: drawn (a data line), zero (only a fallback's zeros, every
    series its real query reads exists) or empty. Also the figure."""
    now = time.time()
    fig = dashboards.plot(dashboard, minutes=3, fault_at=now - 60, page_at=now - 30, standalone=True,
                          metrics=metrics)
    assert isinstance(fig, Figure)
    panels = dashboards.panels(dashboard)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in axes] == [p.title for p in panels]
    report = {}
    for ax, panel in zip(axes, panels, strict=True):
        lines = dashboards.data_lines(ax)
        legend = [t.get_text() for t in ax.get_legend().get_texts()] if ax.get_legend() else []
        assert {line.get_label() for line in lines} <= set(legend), (ax.get_title(), legend)
        marks = {line.get_label() for line in ax.get_lines() if line.get_gid() == dashboards.MARK_GID}
        assert marks == {"fault", "page"}, (ax.get_title(), marks)
        if any(dashboards.drawn(line) for line in lines):
            report[panel.title] = "drawn"
        elif lines and all(dashboards.synthetic(line) for line in lines) and all(
                exists(metrics, n) for t in panel.targets for n in fallback.series_names(fallback.real(t.expr))):
            report[panel.title] = "zero"
        else:
            report[panel.title] = "empty"
    return report, fig


class TestMetrics:
    def test_every_scrape_target_up(self, metrics):
        """Prometheus scrapes every job of the stack, and all targets are up."""
        wait_until(lambda: (metrics.query("up")["value"] == 1).all(), timeout=90, interval=2)
        up = metrics.query("up")
        assert set(up["job"]) >= {"pollapp", "traefik", "postgres", "saturation", "alertmanager", "prometheus", "pager"}
        assert (up["value"] == 1).all(), up[up["value"] != 1]

    def test_labels_consistent(self, metrics):
        """App and saturation series carry the same `replica` values, all with service=pollapp."""
        app = metrics.query("sum by (replica, service) (up{job='pollapp'})")
        sat = metrics.query("sum by (replica, service) (container_memory_working_set_bytes)")
        assert set(app["replica"]) == set(sat["replica"]) == {"app1", "app2", "app3"}
        assert set(app["service"]) == set(sat["service"]) == {"pollapp"}

    def test_golden_signals_by_replica(self, metrics):
        """Traffic by replica is a wide frame with one column per replica, all positive."""
        signals = metrics.golden_signals(minutes=2)
        assert set(signals["traffic"].columns) == {"app1", "app2", "app3"}
        assert (signals["traffic"].iloc[-1] > 0).all()

    def test_bad_query_is_a_clear_error(self, metrics):
        """A malformed query is an ObserveError naming the query, not a client traceback."""
        with pytest.raises(ObserveError, match="bad query"):
            metrics.query("sum(rate(")

    def test_unreachable_prometheus(self):
        """An unreachable Prometheus is an ObserveError with a hint."""
        with pytest.raises(ObserveError, match="not reachable"):
            Metrics("http://127.0.0.1:1").query("up")


class TestDashboards:
    @pytest.mark.parametrize("name", dashboards.names())
    def test_every_panel_returns_data(self, metrics, name):
        """Every query of every panel returns data on the live, healthy stack (given up to 90 s of history:
        a stack started moments ago has no point yet of a rate over a minute)."""
        deadline = time.monotonic() + 90
        while (empty := dashboards.empty_panels(name, metrics=metrics)) and time.monotonic() < deadline:
            time.sleep(5)
        assert empty == []

    @pytest.mark.parametrize("name", dashboards.names())
    def test_every_panel_draws_its_lines(self, metrics, name):
        """Every panel draws a data line named in its legend, or is an error panel at zero whose metrics exist.

        A fallback's zeros (`or ... * 0`) are not a line: an error panel with no error yet counts
        only when every series its query reads without the fallback is declared by a scrape
        target (a misspelt metric is not). The control below shows the check can fail.
        """
        # A stack started moments ago has one point of each rate: give it a minute of history.
        deadline = time.monotonic() + 90
        while True:
            report, _ = panel_report(name, metrics)
            empty = [t for t, state in report.items() if state == "empty"]
            if not empty or time.monotonic() > deadline:
                break
            time.sleep(5)
        drawn = [t for t, state in report.items() if state == "drawn"]
        print(f"{name}: {len(drawn)} of {len(report)} panels drawn; at zero, metrics declared: "
              f"{[t for t, state in report.items() if state == 'zero']}")
        assert not empty, f"{len(empty)} of {len(report)} panels of {name} show no line: {empty}"
        assert all(p.title in drawn for p in dashboards.panels(name)
                   if not any(fallback.has_fallback(t.expr) for t in p.targets)), report

    def test_a_panel_on_a_missing_metric_is_reported_empty(self, metrics, tmp_path):
        """Control: the same check on a dashboard whose queries name metrics that do not exist reports them empty.

        The misspelt error panel still draws its fallback's zero line (dotted, for the player),
        but it is not counted as drawn; a real panel beside them is.
        """
        traffic = next(p for p in dashboards.load("golden-signals")["panels"] if p["title"] == "Traffic by replica")
        path = tmp_path / "control.json"
        path.write_text(json.dumps({"title": "control", "panels": [
            {"title": "misspelt error metric", "type": "timeseries", "targets": [
                {"expr": 'sum by (replica) (rate(pollapp_no_such_errors_total{job="pollapp"}[1m]))'
                         " or replica:pollapp_requests:rate1m * 0", "legendFormat": "{{replica}}"}]},
            {"title": "missing metric", "type": "timeseries",
             "targets": [{"expr": "chaos_no_such_metric", "legendFormat": "x"}]},
            traffic]}))
        report, fig = panel_report(path, metrics)
        assert report == {"misspelt error metric": "empty", "missing metric": "empty", "Traffic by replica": "drawn"}
        zeros = [line for line in dashboards.data_lines(fig.axes[0]) if dashboards.synthetic(line)]
        assert len(zeros) == 3 and all((line.get_ydata() == 0).all() for line in zeros)

    def test_a_panel_series_share_one_time_grid(self, metrics):
        """The queries of a multi-query panel come back on the same timestamps (one row per step, no holes)."""
        panel = next(p for p in dashboards.panels("golden-signals") if p.title.startswith("Latency p50"))
        df = dashboards.panel_data(panel, metrics=metrics, minutes=2)
        assert list(df.columns) == ["p50", "p95", "p99"]
        assert df.notna().all(axis=None), df[df.isna().any(axis=1)]
        steps = df.index.to_series().diff().dropna().dt.total_seconds()
        assert (steps == 5).all()

    def test_plot_leaves_the_plotting_backend_alone(self, metrics):
        """Drawing a dashboard (inline or standalone, as the postmortem does) never switches matplotlib's backend."""
        import matplotlib

        before = matplotlib.get_backend()
        matplotlib.use("module://matplotlib_inline.backend_inline")  # the player's kernel
        try:
            dashboards.plot("database", minutes=2, standalone=True, metrics=metrics)
            dashboards.plot("database", minutes=2, metrics=metrics)
            assert matplotlib.get_backend() == "module://matplotlib_inline.backend_inline"
        finally:
            matplotlib.use(before)


class TestLogs:
    def test_search_replica_json_fields(self, live_stack):
        """A replica's access log lines come back parsed: method, path, status, request id."""
        logs = Logs(backend=live_stack.backend)
        df = logs.search(service="app1", minutes=5)
        access = df[df["status"].notna()]
        assert len(access) and access["request_id"].notna().all()
        assert set(access["replica"]) == {"app1"}

    def test_non_json_lines_kept(self, live_stack):
        """Plain-text lines (PostgreSQL's log) are kept, not dropped."""
        logs = Logs(backend=live_stack.backend)
        df = logs.search(service="postgres", minutes=None, limit=None)
        assert len(df) and not df["is_json"].all()

    def test_elasticsearch_panels_draw_from_the_native_logs(self, live_stack, tmp_path):
        """logs.json's two Elasticsearch panels, drawn from the logs the game reads here (observe.logpanels).

        Elasticsearch cannot run on this machine (no package, no image): natively the logs are the
        captured files `Logs` searches, so the panels' Lucene query is evaluated over that search.
        A healthy stack may have no error line, so: the panels' lines are exactly the app replicas'
        error-or-worse lines and 5xx answers the game's own search finds, and the same panels with
        the level clause set to INFO (every request's line) draw a line for each replica.
        """
        logs = Logs(backend=live_stack.backend)
        apps = ["app1", "app2", "app3"]
        until = time.time()
        everything = logs.search(service=apps, minutes=5, until=until, limit=None)
        expected = everything[everything["level"].isin(["error", "critical"])
                              | (everything["status"].astype(float).fillna(0) >= 500)]
        for panel in logpanels.panels("logs"):
            rows = logpanels.lines(panel, logs, minutes=5, until=until)
            assert sorted(rows["line"]) == sorted(expected["line"]), panel.title
        board = dashboards.load("logs")
        for p in board["panels"]:
            for t in p.get("targets", []):
                if "query" in t:
                    t["query"] = t["query"].replace("log.level:(ERROR OR CRITICAL) OR json.status:>=500",
                                                    "log.level:INFO")
                    assert t["query"] == "container.name:app* AND (log.level:INFO)", t["query"]
        path = tmp_path / "info.json"
        path.write_text(json.dumps(board))
        series, listing = logpanels.plot(path, logs=logs, fig=Figure(), minutes=5).axes
        assert sorted(line.get_label() for line in series.get_lines() if dashboards.drawn(line)) == apps
        assert [t.get_text() for t in series.get_legend().get_texts()] == apps
        assert len([t for t in listing.texts if t.get_gid() == logpanels.LOG_LINE_GID]) == 12


class TestAlerts:
    def test_healthy_stack_does_not_page(self, metrics, live_stack):
        """Under default load and no fault, once quiet, no page alert even goes pending for two minutes."""
        import time

        from chaoslib.engine.injector import panic
        from chaoslib.game import steady

        panic(live_stack)
        # Earlier fault tests leave alerts that must resolve, and restarted replicas warm up.
        left = steady.wait_until(lambda: steady.quiet_problems(live_stack, metrics), timeout=360)
        assert not left, left
        # Longer than any paging rule's window (1 min) plus its `for` (at most 20 s).
        end = time.monotonic() + 120
        while time.monotonic() < end:
            pending = metrics.query('ALERTS{severity="page"}')
            assert pending.empty, pending[["alertname", "alertstate"]]
            time.sleep(5)
        assert metrics.query('max_over_time(ALERTS{severity="page"}[2m])').empty
