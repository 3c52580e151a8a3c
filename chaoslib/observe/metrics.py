"""PromQL into tidy pandas DataFrames: one row per (time, series), labels as columns.

Errors from an unreachable Prometheus or a bad query become one clear ObserveError, not a
traceback from deep inside an HTTP client.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone

import pandas as pd
import requests

from chaoslib.errors import ObserveError

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

    def _get(self, path: str, params: dict) -> dict:
        try:
            resp = requests.get(f"{self.url}{path}", params=params, timeout=self.timeout)
        except requests.ConnectionError as e:
            raise ObserveError(f"Prometheus at {self.url} is not reachable", source="prometheus",
                               query=params.get("query", ""), hint="is the stack up? `chaosctl status`") from e
        except requests.Timeout as e:
            raise ObserveError(f"Prometheus at {self.url} did not answer in {self.timeout:.0f} s",
                               source="prometheus", query=params.get("query", "")) from e
        try:
            body = resp.json()
        except ValueError as e:
            raise ObserveError(f"Prometheus answered HTTP {resp.status_code} without JSON", source="prometheus") from e
        if body.get("status") != "success":
            raise ObserveError(f"bad query {params.get('query', '')!r}: {body.get('error', 'unknown error')}",
                               source="prometheus", query=params.get("query", ""),
                               hint="check the PromQL syntax and metric names")
        return body["data"]

    def query(self, promql: str, *, at: float | datetime | None = None) -> pd.DataFrame:
        """An instant query: columns time, <labels...>, value."""
        params: dict[str, str | float] = {"query": promql}
        if at is not None:
            params["time"] = timestamp(at, time.time())
        data = self._get("/api/v1/query", params)
        rows = []
        if data["resultType"] == "scalar":
            t, v = data["result"]
            return _frame([{"time": t, "value": v}])
        for series in data["result"]:
            t, v = series["value"]
            rows.append({"time": t, **series["metric"], "value": v})
        return _frame(rows)

    def query_range(self, promql: str, *, start: float | datetime | str | None = None,
                    end: float | datetime | str | None = None, minutes: float = 15, step: float = 5) -> pd.DataFrame:
        """A range query (default: the last `minutes`): long format, one row per sample."""
        end_ts = timestamp(end, time.time())
        start_ts = timestamp(start, end_ts - minutes * 60)
        if start_ts >= end_ts:
            raise ObserveError("start must be before end", source="prometheus", query=promql)
        data = self._get("/api/v1/query_range", {"query": promql, "start": start_ts, "end": end_ts, "step": step})
        rows = [{"time": t, **series["metric"], "value": v}
                for series in data["result"] for t, v in series["values"]]
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

    def ready(self) -> bool:
        try:
            return requests.get(f"{self.url}/-/ready", timeout=2).status_code == 200
        except requests.RequestException:
            return False


def _frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    if df.empty:
        return pd.DataFrame(columns=["time", "value"])
    df["time"] = pd.to_datetime(df["time"].astype(float), unit="s", utc=True)
    df["value"] = pd.to_numeric(df["value"], errors="coerce")
    return df


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
