"""What the player sees on the live stack: metrics, dashboards, logs and alerts into pandas."""
from __future__ import annotations

import pytest

from chaoslib.errors import ObserveError
from chaoslib.observe import dashboards
from chaoslib.observe.alerts import active_alerts
from chaoslib.observe.logs import Logs
from chaoslib.observe.metrics import Metrics

from .helpers import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def metrics(live_stack):
    m = Metrics()
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

    def test_plot_draws_every_panel(self, metrics):
        """plot() draws one axis per panel and marks the fault and the page."""
        import time

        import matplotlib

        matplotlib.use("Agg")
        now = time.time()
        fig = dashboards.plot("golden-signals", minutes=5, fault_at=now - 60, page_at=now - 30)
        visible = [ax for ax in fig.axes if ax.get_visible()]
        assert len(visible) == len(dashboards.panels("golden-signals"))
        assert all(len(ax.lines) >= 1 for ax in visible)


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
    def test_healthy_stack_does_not_page(self, metrics):
        """Under default load and no fault, pages clear and none fires again for half a minute."""
        import time

        def quiet():
            df = active_alerts()
            return df[(df["severity"] == "page") & (df["state"] == "active")].empty

        def settled():  # nothing firing, nothing pending, for a whole minute
            return metrics.query('max_over_time(ALERTS{severity="page"}[1m])').empty and quiet()
        # Earlier fault tests leave pages that must resolve, and restarted replicas warm up.
        wait_until(settled, timeout=360, interval=5)
        end = time.monotonic() + 30
        while time.monotonic() < end:
            assert quiet(), active_alerts()
            time.sleep(5)
