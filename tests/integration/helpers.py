"""Small helpers for the live-stack tests: HTTP through Traefik, waiting, the ledger."""
from __future__ import annotations

import time

import requests

from chaoslib import config
from chaoslib.observe import alerts

BASE = config.TRAEFIK.url
#: How long a live test waits for a fault's page: that it pages at all, from symptoms. The budget (25 s median,
#: 30 s at most) is a figure of `chaosctl bench faults` (docs/bench-*.txt), not a timed test.
PAGE_WITHIN_S = 120


def api(method: str, path: str, **kw) -> requests.Response:
    return requests.request(method, f"{BASE}{path}", timeout=10, **kw)


def wait_until(check, timeout: float = 30.0, interval: float = 0.5, *, what: str = "the condition"):
    """Poll `check` until it returns something true (returned); fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"{what} not met within {timeout:.0f} s (last value {value!r})")


def ledger(stack) -> list[dict]:
    """The acknowledged votes of the load generator's ledger (failed attempts are left out)."""
    return [e for e in stack.backend.vote_ledger() or [] if e.get("ack", True) and "vote_id" in e]


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


def undrawn_panels(fig) -> list[str]:
    """Titles of a dashboard figure's panels that show no data line of two consecutive finite points."""
    from chaoslib.observe import dashboards

    return [ax.get_title() for ax in fig.axes if ax.get_visible()
            and not any(dashboards.drawn(line) for line in dashboards.data_lines(ax))]


def play_notebooks(stack, notebooks: list[str], env: dict, cwd):
    """Run `notebooks` in order under nbval (lax, this environment's kernel) and check, from the game
    journal, that they played a new game and won it. Its state.

    The notebooks hold no checks of their own: under CHAOSCTL_AUTOPILOT (in `env`) their widgets
    play, and a step the autopilot cannot take fails its cell. The journal must show a page, a
    hypothesis, a fix, a passed validation and the score: diagnosed right, recovered, no hint spent
    (no cell asks for one).
    """
    import subprocess
    import sys

    from chaoslib.game import session as game

    before = game.current(stack)
    proc = subprocess.run([sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env",
                           "--nbval-cell-timeout=600", "-p", "no:cacheprovider", "-q", *notebooks],
                          env=env, cwd=cwd, capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    state = game.current(stack)
    assert state is not None and (before is None or state.started_at > before.started_at), \
        "the notebooks started no game"
    kinds = [e["kind"] for e in state.events]
    assert state.status == game.FINISHED and state.first("finished"), kinds
    assert state.first("paged") and state.all("hypothesis") and state.all("fix"), kinds
    assert any(v["passed"] for v in state.all("validation")), state.all("validation")
    score = state.first("finished")["score"]
    assert score["diagnosis_correct"] and score["time_to_recover_s"] is not None, score
    assert score["hints_used"] == 0, score
    return state


def paged(stack, since: float) -> set[str]:
    """The alerts the stack's pager received firing since `since` (epoch seconds)."""
    df = alerts.pages(stack.endpoint("pager"), started_since=since)
    return set(df[df["status"] == "firing"]["alertname"])
