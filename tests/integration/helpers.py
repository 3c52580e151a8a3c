"""Small helpers for the live-stack tests: HTTP through Traefik, waiting, the ledger."""
from __future__ import annotations

import json
import time
from pathlib import Path

import requests

from chaoslib import config

BASE = config.TRAEFIK.url


def api(method: str, path: str, **kw) -> requests.Response:
    return requests.request(method, f"{BASE}{path}", timeout=10, **kw)


def wait_until(check, timeout: float = 30.0, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s (last value {value!r})")


def ledger(stack) -> list[dict]:
    path = Path(stack.settings.data_dir) / "loadgen" / "ledger.jsonl"
    try:
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    except FileNotFoundError:
        return []


def votes_in_db(vote_ids: list[str]) -> set[str]:
    """Which of these vote receipts exist in the database."""
    import psycopg

    from chaoslib.config import Settings
    from chaoslib.native.credentials import password

    with psycopg.connect(host=config.POSTGRES.host, port=config.POSTGRES.port, user=config.DB_USER,
                         password=password(Settings(), config.DB_USER), dbname=config.DB_NAME,
                         connect_timeout=5) as conn:
        rows = conn.execute("SELECT id::text FROM polls_vote WHERE id::text = ANY(%s)", (vote_ids,)).fetchall()
    return {r[0] for r in rows}


def all_healthy(stack) -> bool:
    return all(s.healthy for s in stack.status())
