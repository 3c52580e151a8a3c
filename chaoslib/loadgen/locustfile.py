"""Locust users for the polls app: read polls, vote, sometimes create a poll.

The pace is set by CHAOS_RPS (total requests per second) and CHAOS_USERS, times the factor in
CHAOS_PACE_FILE when it exists (a red herring's burst of traffic; read at most once a second). Every vote the
app acknowledges (201 with a vote_id) is appended to the ledger (CHAOS_LEDGER, JSON lines),
so a test can prove that no acknowledged vote was lost after a fault and its fix; a vote that
failed is appended too (`ack` false, with its status), so a postmortem can count attempts.
"""
from __future__ import annotations

import json
import os
import random
import threading
import time

from locust import HttpUser, constant_pacing, events, task

RPS = float(os.environ.get("CHAOS_RPS", "15"))
USERS = max(1, int(os.environ.get("CHAOS_USERS", "5")))
LEDGER = os.environ.get("CHAOS_LEDGER", "")
TIMEOUT = float(os.environ.get("CHAOS_TIMEOUT", "10"))
PACE_FILE = os.environ.get("CHAOS_PACE_FILE", "")

_ledger_lock = threading.Lock()
_polls: list[dict] = []
_polls_lock = threading.Lock()


def record_vote(vote: dict) -> None:
    """Append one acknowledged vote to the ledger, flushed so a crash loses nothing."""
    if not LEDGER:
        return
    line = json.dumps({"t": time.time(), **vote}) + "\n"
    with _ledger_lock:
        with open(LEDGER, "a") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())


_pace = {"factor": 1.0, "read_at": float("-inf")}


def pace() -> float:
    """The pace factor (1: steady), from CHAOS_PACE_FILE, re-read at most once a second, kept within 0.1-5."""
    now = time.monotonic()
    if PACE_FILE and now - _pace["read_at"] >= 1.0:
        _pace["read_at"] = now
        try:
            with open(PACE_FILE) as f:
                factor = float(json.load(f)["factor"])
        except (OSError, ValueError, KeyError, TypeError):
            factor = 1.0
        _pace["factor"] = min(max(factor, 0.1), 5.0)
    return _pace["factor"]


@events.init.add_listener
def _prepare(environment, **_kw) -> None:
    if LEDGER:
        os.makedirs(os.path.dirname(LEDGER), exist_ok=True)


class Voter(HttpUser):
    """A person using the polls app through the load balancer."""

    def wait_time(self) -> float:
        """constant_throughput(RPS / USERS), at the pace of the moment (its state lives on the user)."""
        return constant_pacing(USERS / (RPS * pace()))(self)

    def _refresh(self) -> None:
        with self.client.get("/api/polls/", name="/api/polls/", timeout=TIMEOUT, catch_response=True) as resp:
            if resp.status_code == 200:
                polls = [p for p in resp.json().get("polls", []) if p.get("choices")]
                with _polls_lock:
                    _polls[:] = polls
                resp.success()
            else:
                resp.failure(f"HTTP {resp.status_code}")

    def _pick(self) -> dict | None:
        with _polls_lock:
            return random.choice(_polls) if _polls else None

    def on_start(self) -> None:
        self._refresh()
        if self._pick() is None:
            self.create_poll()

    @task(3)
    def list_polls(self) -> None:
        self._refresh()

    @task(3)
    def read_results(self) -> None:
        poll = self._pick()
        if poll:
            self.client.get(f"/api/polls/{poll['id']}/", name="/api/polls/[id]/", timeout=TIMEOUT)

    @task(1)
    def read_page(self) -> None:
        poll = self._pick()
        self.client.get(f"/{poll['id']}/results/" if poll else "/", name="/[id]/results/", timeout=TIMEOUT)

    @task(4)
    def vote(self) -> None:
        poll = self._pick()
        if not poll:
            return
        choice = random.choice(poll["choices"])["id"]
        with self.client.post(f"/api/polls/{poll['id']}/vote/", json={"choice": choice}, name="/api/polls/[id]/vote/",
                              timeout=TIMEOUT, catch_response=True) as resp:
            if resp.status_code == 201:
                try:
                    body = resp.json()
                    record_vote({"ack": True, "vote_id": body["vote_id"], "poll": body["poll"],
                                 "choice": body["choice"]})
                    resp.success()
                except (ValueError, KeyError):
                    record_vote({"ack": False, "status": resp.status_code, "poll": poll["id"]})
                    resp.failure("201 without a vote id")
            else:
                record_vote({"ack": False, "status": resp.status_code, "poll": poll["id"]})
                resp.failure(f"HTTP {resp.status_code}")

    @task(1)
    def create_poll(self) -> None:
        n = random.randint(2, 5)
        body = {"question": f"Question {random.randint(1, 10**6)}?", "choices": [f"Option {i + 1}" for i in range(n)]}
        self.client.post("/api/polls/", json=body, name="/api/polls/", timeout=TIMEOUT)
