"""observe.fallback: a panel's query without its `or ... * 0` zeros, and the series names it reads."""
from __future__ import annotations

import pytest

from chaoslib.observe import dashboards, fallback


def test_a_top_level_fallback_is_removed():
    expr = 'sum by (replica) (rate(django_db_errors_total{job="pollapp"}[1m])) or replica:pollapp_requests:rate1m * 0'
    assert fallback.real(expr) == 'sum by (replica) (rate(django_db_errors_total{job="pollapp"}[1m]))'
    assert fallback.has_fallback(expr)


def test_a_recording_rule_with_a_fallback_is_expanded_to_its_real_side():
    """The 5xx ratio reads a rule whose numerator falls back to zeros: the real query reads the counter itself."""
    real = fallback.real("replica:pollapp_errors:ratio_rate1m")
    assert "django_http_responses_total_by_status_view_method_total" in real and " * 0" not in real
    assert fallback.series_names(real) == {"django_http_responses_total_by_status_view_method_total",
                                           "replica:pollapp_requests:rate1m"}


@pytest.mark.parametrize("expr", ["replica:pollapp_requests:rate1m", "replica:restarts:increase5m",
                                  "lb:requests:rate1m * 0 + 1", "sum(x) or y"])
def test_what_is_not_a_zero_fallback_is_left_alone(expr):
    """A rule without a fallback, a second source (`or changes(...)`), arithmetic after `* 0`, a plain `or`."""
    assert fallback.real(expr) == expr and not fallback.has_fallback(expr)


def test_every_fallback_of_the_dashboards_is_recognised():
    """The error panels (and the throttling one) are exactly the panels with a fallback; none is left in."""
    with_fallback = {p.title for n in dashboards.names() for p in dashboards.panels(n)
                     if any(fallback.has_fallback(t.expr) for t in p.targets)}
    assert len(with_fallback) == 9 and "CPU throttled ratio, by replica" in with_fallback
    for n in dashboards.names():
        for p in dashboards.panels(n):
            for t in p.targets:
                assert "* 0" not in fallback.real(t.expr), (p.title, t.expr)


def test_series_names_leave_out_functions_keywords_and_labels():
    expr = 'sum by (replica, le) (rate(a_total{job="x",le=~"b"}[1m])) / on(replica) group_left(le) (c:d > 0)'
    assert fallback.series_names(expr) == {"a_total", "c:d"}
