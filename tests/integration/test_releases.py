"""A replica rolled to the faulty-votes release on the live native stack: it says so (build_info, every
log line, status), a share of its votes fail with 500 while another replica's do not, a restart keeps
the release, a roll back and panic restore it, and the footprint is as before (the `clean` fixture)."""
from __future__ import annotations

import json
import re

import pytest
import requests

import binomial
from chaoslib.engine.injector import panic
from pollapp import releases

from .helpers import api, wait_until

pytestmark = pytest.mark.integration
VOTES = 40


def build_info(stack, target: str) -> str:
    """The version label of the replica's pollapp_build_info, read from its own /metrics."""
    text = requests.get(f"{stack.backend.endpoints()[target]}/metrics", timeout=5).text
    found = re.findall(r'^pollapp_build_info\{[^}]*version="([^"]+)"', text, re.M)
    return found[0] if len(found) == 1 else f"{len(found)} series"


def healthy_on(stack, target: str, version: str) -> bool:
    try:
        return build_info(stack, target) == version
    except requests.RequestException:
        return False


def failed_votes(stack, target: str, poll: dict) -> int:
    """Votes cast straight at one replica that fail with a 500 (any other answer but 201 fails the test)."""
    url = f"{stack.backend.endpoints()[target]}/api/polls/{poll['id']}/vote/"
    statuses = [requests.post(url, json={"choice": poll["choices"][0]["id"]}, timeout=10).status_code
                for _ in range(VOTES)]
    assert set(statuses) <= {201, 500}, statuses
    return statuses.count(500)


def test_a_roll_to_the_faulty_votes_release(clean):
    stack, backend = clean, clean.backend
    a, b = "app1", "app2"
    poll = api("GET", "/api/polls/").json()["polls"][0]
    backend.set_release(target=b, release=releases.FAULTY_VOTES)
    wait_until(lambda: healthy_on(stack, b, releases.FAULTY_VOTES), timeout=60, what=f"{b} on the new release")
    assert build_info(stack, a) == releases.CURRENT
    assert {s.name: s.release for s in stack.status()}[b] == releases.FAULTY_VOTES

    lo, hi = binomial.bounds(VOTES, releases.get(releases.FAULTY_VOTES).vote_error_share)
    assert max(lo, 1) <= failed_votes(stack, b, poll) <= hi
    assert failed_votes(stack, a, poll) == 0
    lines = [json.loads(ln) for ln in backend.tail_log(service=b, lines=400).splitlines() if ln.startswith("{")]
    assert lines[-1]["release"] == releases.FAULTY_VOTES
    errors = [ln for ln in lines if ln.get("exc_type") == "KeyError" and "weight" in ln.get("exception", "")]
    assert errors and all(ln["release"] == releases.FAULTY_VOTES for ln in errors)

    backend.restart(target=b)
    wait_until(lambda: healthy_on(stack, b, releases.FAULTY_VOTES), timeout=60, what=f"{b} back after a restart")
    assert backend.release(target=b) == releases.FAULTY_VOTES

    backend.set_release(target=b, release=releases.PREVIOUS)
    wait_until(lambda: healthy_on(stack, b, releases.PREVIOUS), timeout=60, what=f"{b} rolled back")
    assert failed_votes(stack, b, poll) == 0
    assert [v for _, v in backend.release_history(target=b)][-3:] == [releases.CURRENT, releases.FAULTY_VOTES,
                                                                     releases.PREVIOUS]
    assert f"rolled {b} back to release {releases.CURRENT}" in panic(stack)
    wait_until(lambda: healthy_on(stack, b, releases.CURRENT), timeout=60, what=f"{b} on CURRENT after panic")
