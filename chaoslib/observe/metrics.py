"""PromQL into tidy pandas DataFrames: one row per (time, series), labels as columns.

The HTTP side is prometheus-api-client's `PrometheusConnect` (the client the design names), with no
retries (a player waits for one clear answer, not for a backoff). Its DataFrame helpers index by
time per metric; the game plots long frames (time, labels..., value), so rows are built here.
Errors from an unreachable Prometheus or a bad query become one clear ObserveError, not a
traceback from deep inside an HTTP client.
"""
from __future__ import annotations

import ast
import json
import re
import time
from datetime import datetime, timezone
from typing import Any

import pandas as pd
import requests
from prometheus_api_client import PrometheusApiClientException, PrometheusConnect
from requests.adapters import Retry

from chaoslib.errors import ObserveError
from chaoslib.observe import windows

#: Golden-signal queries by replica, over the recording rules in stack/prometheus/rules.
GOLDEN = {
    "traffic": 'sum by (replica) (rate(django_http_requests_total_by_view_transport_method_total{job="pollapp",'
               'view!~"prometheus-django-metrics|livez|healthz"}[1m]))',
    "errors": 'sum by (replica) (rate(django_http_responses_total_by_status_view_method_total{job="pollapp",'
              'status=~"5..",view!~"prometheus-django-metrics|livez|healthz"}[1m]))',
    "latency_p95": 'histogram_quantile(0.95, sum by (replica, le) (rate('
                   'django_http_requests_latency_seconds_by_view_method_bucket{job="pollapp",'
                   'view!~"prometheus-django-metrics|livez|healthz"}[1m])))',
}
SATURATION = {
    "cpu_cores": 'sum by (replica) (rate(container_cpu_usage_seconds_total[1m]))',
    "cpu_throttled_ratio": 'sum by (replica) (rate(container_cpu_cfs_throttled_periods_total[1m])) / '
                           'sum by (replica) (rate(container_cpu_cfs_periods_total[1m]))',
    "memory_bytes": 'sum by (replica) (container_memory_working_set_bytes)',
    "memory_limit_bytes": 'sum by (replica) (container_spec_memory_limit_bytes)',
    "oom_kills": 'sum by (replica) (increase(container_oom_events_total[5m]))',
    # The recording rule: the data disk from cAdvisor names or the app's own gauges (Docker).
    "disk_used_ratio": 'max by (replica) (replica:disk_used:ratio)',
    "restarts": 'sum by (replica) (changes(container_start_time_seconds[5m]))',
}


def timestamp(value: float | datetime | str | None, default: float) -> float:
    """A Unix time from a number, a datetime or a string (`default` for None)."""
    if value is None:
        return default
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, str):
        return pd.Timestamp(value).timestamp()
    return float(value)


class Metrics:
    """A Prometheus HTTP API client returning DataFrames."""

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.client = PrometheusConnect(url=self.url, retry=Retry(total=0, raise_on_status=False),
                                        timeout=timeout)

    def _call(self, promql: str, fetch: Any) -> Any:
        """Run one client call; an unreachable server, a timeout or a refused query become one ObserveError."""
        try:
            return fetch()
        except requests.Timeout as e:
            raise ObserveError(f"Prometheus at {self.url} did not answer in {self.timeout:.0f} s",
                               source="prometheus", query=promql) from e
        except requests.ConnectionError as e:
            raise ObserveError(f"Prometheus at {self.url} is not reachable", source="prometheus",
                               query=promql, hint="is the stack up? `chaosctl status`") from e
        except PrometheusApiClientException as e:
            raise ObserveError(f"bad query {promql!r}: {_error_text(str(e))}", source="prometheus", query=promql,
                               hint="check the PromQL syntax and metric names") from e

    def query(self, promql: str, *, at: float | datetime | None = None) -> pd.DataFrame:
        """An instant query: columns time, <labels...>, value."""
        params: dict[str, str | float] = {}
        if at is not None:
            params["time"] = timestamp(at, time.time())
        result = self._call(promql, lambda: self.client.custom_query(promql, params=params))
        if len(result) == 2 and not isinstance(result[0], dict):  # a scalar: [time, value]
            t, v = result
            return _frame([{"time": t, "value": v}])
        return _frame([{"time": series["value"][0], **series["metric"], "value": series["value"][1]}
                       for series in result])

    def query_range(self, promql: str, *, start: float | datetime | str | None = None,
                    end: float | datetime | str | None = None, minutes: float = 15, step: float = 5,
                    cut: float | None = None) -> pd.DataFrame:
        """A range query (default: the last `minutes`): long format, one row per sample.

        `cut` (a Unix time): no window of the query reads a sample before it (see observe.windows).
        """
        end_ts = timestamp(end, time.time())
        start_ts = timestamp(start, end_ts - minutes * 60)
        if start_ts >= end_ts:
            raise ObserveError("start must be before end", source="prometheus", query=promql)
        # A window reaching before the cut only while start - lookback < cut: else the query as it is.
        sent = windows.since(promql, cut) if cut is not None and cut + windows.lookback(promql) > start_ts \
            else promql
        result = self._call(promql, lambda: self.client.custom_query_range(
            sent, start_time=datetime.fromtimestamp(start_ts, timezone.utc),
            end_time=datetime.fromtimestamp(end_ts, timezone.utc), step=f"{step:g}"))
        rows = [{"time": t, **series["metric"], "value": v}
                for series in result for t, v in series["values"]]
        return _frame(rows)

    def wide(self, promql: str, *, by: str = "replica", **kw) -> pd.DataFrame:
        """A range query pivoted to one column per `by` label value (ready to plot)."""
        df = self.query_range(promql, **kw)
        if df.empty:
            return df
        key = by if by in df.columns else None
        if key is None:
            return df.set_index("time")[["value"]]
        return df.pivot_table(index="time", columns=key, values="value")

    def golden_signals(self, **kw) -> dict[str, pd.DataFrame]:
        """Traffic, errors and p95 latency by replica, as wide frames."""
        return {name: self.wide(q, **kw) for name, q in GOLDEN.items()}

    def saturation(self, **kw) -> dict[str, pd.DataFrame]:
        """CPU, throttling, memory, OOM kills, disk and restarts by replica, as wide frames."""
        return {name: self.wide(q, **kw) for name, q in SATURATION.items()}

    def value(self, promql: str, default: float | None = None) -> float | None:
        """The single value of an instant query (sum of all series), or `default` if none."""
        df = self.query(promql)
        return float(df["value"].sum()) if not df.empty else default

    def declared(self, name: str) -> bool:
        """True when a scrape target declares metric `name` (its # TYPE line), even with no series yet.

        A labelled counter has no series before its first count, but a single-process exporter
        declares it from the start: this tells such a metric from a misspelt one. (The app's
        multiprocess counters are not declared before their first count.) Under OpenMetrics a
        counter is declared without its `_total` suffix."""
        base = name.removesuffix("_total")
        return any(self._call(n, lambda: self.client.get_metric_metadata(n)) for n in {name, base})

    def ready(self) -> bool:
        try:
            return requests.get(f"{self.url}/-/ready", timeout=2).status_code == 200
        except requests.RequestException:
            return False


def _error_text(message: str) -> str:
    """Prometheus's own error out of the client's "HTTP Status Code 400 (b'{...}')" message."""
    found = re.search(r"\((b'.*')\)\s*$", message, re.S)
    try:
        body = json.loads(ast.literal_eval(found.group(1))) if found else {}
    except (ValueError, SyntaxError):
        body = {}
    return str(body.get("error") or message)


def _frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    if df.empty:
        return pd.DataFrame(columns=["time", "value"])
    df["time"] = pd.to_datetime(df["time"].astype(float), unit="s", utc=True)
    df["value"] = pd.to_numeric(df["value"], errors="coerce")
    return df


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
