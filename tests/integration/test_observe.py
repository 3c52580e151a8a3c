"""What the player sees on the live stack: metrics, dashboards, logs and alerts into pandas."""
from __future__ import annotations

import pytest

from chaoslib.errors import ObserveError
from chaoslib.observe import dashboards
from chaoslib.observe.logs import Logs
from chaoslib.observe.metrics import Metrics

from .helpers import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def metrics(live_stack):
    m = Metrics(live_stack.endpoint("prometheus"))
    # Rates need two scrapes of traffic; dashboards need a minute of it.
    wait_until(lambda: (m.value("lb:requests:rate1m", 0) or 0) > 1, timeout=120, interval=2)
    return m


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
        """Every query of every panel returns data on the live, healthy stack."""
        assert dashboards.empty_panels(name, metrics=metrics) == []

    @pytest.mark.parametrize("name", dashboards.names())
    def test_every_panel_draws_its_lines(self, metrics, name):
        """Every panel of the figure has a data line of two or more consecutive finite points, named in its legend."""
        import time

        from matplotlib.figure import Figure

        titles = [p.title for p in dashboards.panels(name)]

        def draw() -> dict[str, list[str]]:
            now = time.time()
            fig = dashboards.plot(name, minutes=3, fault_at=now - 60, page_at=now - 30, standalone=True,
                                  metrics=metrics)
            assert isinstance(fig, Figure)
            drawn = {}
            for ax in [ax for ax in fig.axes if ax.get_visible()]:
                lines = dashboards.data_lines(ax)
                legend = [t.get_text() for t in ax.get_legend().get_texts()] if ax.get_legend() else []
                assert {line.get_label() for line in lines} <= set(legend), (ax.get_title(), legend)
                marks = {line.get_label() for line in ax.get_lines() if line.get_gid() == dashboards.MARK_GID}
                assert marks == {"fault", "page"}, (ax.get_title(), marks)
                drawn[ax.get_title()] = [line.get_label() for line in lines if dashboards.drawn(line)]
            assert list(drawn) == titles
            return drawn
        # A stack started moments ago has one point of each rate: give it a minute of history.
        deadline = time.monotonic() + 90
        while True:
            empty = [t for t, labels in draw().items() if not labels]
            if not empty or time.monotonic() > deadline:
                break
            time.sleep(5)
        assert not empty, f"{len(empty)} of {len(titles)} panels of {name} show no line: {empty}"

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
