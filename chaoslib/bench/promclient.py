"""The metrics layer's client against a plain HTTP call: the game's own queries, timed both ways.

The design names prometheus-api-client; issue #25 keeps it unless the game's queries run more
than 20 % slower through it than through the hand-written `requests` call it replaced (the peer
here, building the same DataFrames), so this bench prints both medians and their ratio.
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import pandas as pd
import requests

from chaoslib.observe.metrics import GOLDEN, SATURATION, Metrics, _frame
from chaoslib.progress import Progress

#: Above this ratio (client over plain HTTP) the issue would have us keep the plain call.
LIMIT = 1.20


def _plain(url: str, promql: str, *, minutes: float, step: float) -> pd.DataFrame:
    """The replaced path: one GET of /api/v1/query_range, rows built as the metrics layer does."""
    end = time.time()
    params: dict[str, str | float] = {"query": promql, "start": end - minutes * 60, "end": end, "step": step}
    body = requests.get(f"{url}/api/v1/query_range", timeout=10, params=params).json()
    return _frame([{"time": t, **s["metric"], "value": v} for s in body["data"]["result"] for t, v in s["values"]])


def _timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def client_bench(url: str, *, rounds: int = 5, minutes: float = 15, step: float = 5,
                 progress: Progress = print) -> dict:
    """Every golden-signal and saturation query as a range query, `rounds` times each way, interleaved."""
    metrics = Metrics(url)
    queries = {**GOLDEN, **SATURATION}
    client_s: list[float] = []
    plain_s: list[float] = []
    for r in range(rounds):
        for promql in queries.values():
            client_s.append(_timed(lambda: metrics.query_range(promql, minutes=minutes, step=step)))
            plain_s.append(_timed(lambda: _plain(url.rstrip("/"), promql, minutes=minutes, step=step)))
        progress(f"  round {r + 1} of {rounds}: {len(queries)} queries each way")
    client, plain = statistics.median(client_s), statistics.median(plain_s)
    return {"queries": len(queries), "rounds": rounds, "client_median_s": client, "plain_median_s": plain,
            "ratio_client_over_plain": client / plain, "limit": LIMIT, "kept": client / plain <= LIMIT}
