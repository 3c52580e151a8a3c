"""Alerts into pandas: what Alertmanager holds now, and what the pager received.

The pager is the player's phone: every notification Alertmanager sent to it, firing or
resolved, in the order it arrived. `wait_for_page` blocks (with progress) until a page
arrives, the way an on-call engineer waits for the phone to ring.
"""
from __future__ import annotations

import time

import pandas as pd
import requests

from chaoslib.errors import ObserveError
from chaoslib.progress import Progress


def _get(url: str, source: str):
    try:
        resp = requests.get(url, timeout=5)
        resp.raise_for_status()
        return resp.json()
    except requests.ConnectionError as e:
        raise ObserveError(f"{source} at {url} is not reachable", source=source,
                           hint="is the stack up? `chaosctl status`") from e
    except (requests.RequestException, ValueError) as e:
        raise ObserveError(f"{source} answered badly: {e}", source=source) from e


def active_alerts(url: str) -> pd.DataFrame:
    """Alerts Alertmanager holds now: alertname, severity, state, starts_at, summary, labels."""
    rows = []
    for a in _get(f"{url.rstrip('/')}/api/v2/alerts", "alertmanager"):
        labels = a.get("labels", {})
        rows.append({"alertname": labels.get("alertname"), "severity": labels.get("severity"),
                     "state": a.get("status", {}).get("state"), "starts_at": pd.Timestamp(a.get("startsAt")),
                     "summary": a.get("annotations", {}).get("summary", ""), "labels": labels})
    return pd.DataFrame(rows, columns=["alertname", "severity", "state", "starts_at", "summary", "labels"])


def rule_alerts(url: str) -> pd.DataFrame:
    """Alerts Prometheus evaluates as true now, pending or firing: alertname, severity, state, replica, active_at."""
    body = _get(f"{url.rstrip('/')}/api/v1/alerts", "prometheus")
    rows = [{"alertname": a["labels"].get("alertname"), "severity": a["labels"].get("severity"),
             "state": a.get("state"), "replica": a["labels"].get("replica"),
             "active_at": pd.Timestamp(a.get("activeAt")), "labels": a["labels"]}
            for a in body.get("data", {}).get("alerts", [])]
    return pd.DataFrame(rows, columns=["alertname", "severity", "state", "replica", "active_at", "labels"])


def pages(url: str, *, channel: str | None = "pages", since: float | None = None,
          started_since: float | None = None) -> pd.DataFrame:
    """Every notification the pager received, one row per alert in it.

    Columns: received_at, channel, status (firing/resolved), alertname, severity, replica,
    starts_at, ends_at, summary, description, fingerprint, generator_url (Prometheus's graph of the
    alert, at its --web.external-url: where the player's browser is). `since` keeps notifications
    received at or after a Unix time; `started_since` keeps alerts that *started* at or
    after it, which is how a game tells its own pages from a previous incident's (a
    notification about an alert that began earlier is an echo, not news).
    """
    rows = []
    for n in _get(f"{url.rstrip('/')}/pages", "pager"):
        if channel and n["channel"] != channel:
            continue
        if since is not None and n["received_at"] < since:
            continue
        for a in n["payload"].get("alerts", []):
            labels, ann = a.get("labels", {}), a.get("annotations", {})
            starts_at = pd.Timestamp(a.get("startsAt"))
            if started_since is not None and (pd.isna(starts_at) or starts_at.timestamp() < started_since):
                continue
            rows.append({"received_at": pd.Timestamp(n["received_at"], unit="s", tz="UTC"), "channel": n["channel"],
                         "status": a.get("status"), "alertname": labels.get("alertname"),
                         "severity": labels.get("severity"), "replica": labels.get("replica"),
                         "starts_at": starts_at, "ends_at": a.get("endsAt"), "summary": ann.get("summary", ""),
                         "description": ann.get("description", ""), "fingerprint": a.get("fingerprint"),
                         "generator_url": a.get("generatorURL", "")})
    cols = ["received_at", "channel", "status", "alertname", "severity", "replica", "starts_at", "ends_at",
            "summary", "description", "fingerprint", "generator_url"]
    return pd.DataFrame(rows, columns=cols)


def first_page(url: str, *, since: float) -> pd.Series | None:
    """The first firing page about an alert that started at or after `since` (a game's own page), or None."""
    df = pages(url, started_since=since)
    firing = df[df["status"] == "firing"].sort_values("received_at")
    return None if firing.empty else firing.iloc[0]


def wait_for_page(url: str, *, since: float, timeout: float = 120,
                  progress: Progress = lambda _: None, interval: float = 1.0) -> pd.DataFrame:
    """Wait until a page fires about an alert that started after `since`; return those firing rows."""
    deadline = time.monotonic() + timeout
    start = time.monotonic()
    last = -10.0
    while True:
        df = pages(url, started_since=since)
        firing = df[df["status"] == "firing"]
        if not firing.empty:
            return firing
        elapsed = time.monotonic() - start
        if time.monotonic() > deadline:
            raise ObserveError(f"no page within {timeout:.0f} s", source="pager",
                               hint="check `chaosctl status` and Alertmanager's alerts")
        if elapsed - last >= 3:
            progress(f"waiting for the page... {elapsed:.0f} s")
            last = elapsed
        time.sleep(interval)
