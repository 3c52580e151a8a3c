"""The app per release: a good one pays for nothing, the faulty-votes one fails a share of votes with a
500 and a real cause in the log (nothing stored), the slow-reads one issues an N+1 query over the
choices; /metrics and every log line name the release."""
from __future__ import annotations

import dataclasses
import json
import logging
import random
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

import binomial
from pollapp import releases
from pollapp.jsonlog import JsonFormatter
from pollapp.polls.models import Vote

pytestmark = pytest.mark.django_db


def vote(client, poll):
    choice = poll.choice_set.order_by("id").first()
    return client.post(f"/api/polls/{poll.pk}/vote/", {"choice": choice.pk}, content_type="application/json")


def read_queries(client, poll) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as queries:
        resp = client.get(f"/api/polls/{poll.pk}/")
    assert resp.status_code == 200
    return len(queries), resp.json()


class TestGoodRelease:
    def test_votes_are_stored_and_reads_pay_no_extra_query(self, client, poll, data_dir, settings):
        """Both good releases store every vote and read a poll in the same few queries."""
        counts = set()
        for version in releases.good():
            settings.RELEASE = releases.get(version)
            assert vote(client, poll).status_code == 201
            counts.add(read_queries(client, poll)[0])
        assert Vote.objects.count() == len(releases.good()) and counts == {2}


class TestFaultyVotes:
    def test_a_failing_vote_is_a_500_with_its_cause_in_the_log_and_nothing_stored(self, client, poll, data_dir,
                                                                                   settings, caplog):
        settings.RELEASE = dataclasses.replace(releases.get(releases.FAULTY_VOTES), vote_error_share=1.0)
        client.raise_request_exception = False
        resp = vote(client, poll)
        assert resp.status_code == 500 and resp.json() == {"error": "internal server error"}
        assert Vote.objects.count() == 0 and sum(poll.choice_set.values_list("votes", flat=True)) == 0
        errors = [r for r in caplog.records if r.name == "django.request" and r.exc_info]
        assert errors and errors[0].exc_info[0] is KeyError and str(errors[0].exc_info[1]) == "'weight'"
        line = json.loads(JsonFormatter().format(errors[0]))
        assert line["exc_type"] == "KeyError" and "row[\"weight\"]" in line["exception"]

    def test_the_share_of_failing_votes_is_the_release_knob(self, client, poll, data_dir, settings):
        """Of 200 votes about the release's share fail (500) and the rest are stored (201)."""
        release = releases.get(releases.FAULTY_VOTES)
        settings.RELEASE = release
        client.raise_request_exception = False
        random.seed(23)
        statuses = [vote(client, poll).status_code for _ in range(200)]
        failed = statuses.count(500)
        lo, hi = binomial.bounds(200, release.vote_error_share)
        assert lo <= failed <= hi and statuses.count(201) == 200 - failed
        assert Vote.objects.count() == 200 - failed


class TestSlowReads:
    def test_reads_issue_a_query_per_choice_with_the_same_answer(self, client, poll, settings):
        settings.RELEASE = releases.get(releases.CURRENT)
        base, good = read_queries(client, poll)
        settings.RELEASE = dataclasses.replace(releases.get(releases.SLOW_READS), tally_queries=2, tally_delay_ms=0)
        slow, answer = read_queries(client, poll)
        assert slow == base + 2 * poll.choice_set.count() and answer == good

    def test_the_delay_knob_pays_a_round_trip_per_query_and_the_queries_look_like_the_orms(self, client, poll,
                                                                                           settings):
        """Each extra read waits tally_delay_ms (the hop a production database is away) and is a plain ORM read:
        pg_stat_activity shows nothing a real release would not send."""
        n = poll.choice_set.count()
        settings.RELEASE = dataclasses.replace(releases.get(releases.SLOW_READS), tally_queries=1, tally_delay_ms=0)
        t0 = time.perf_counter()
        client.get(f"/api/polls/{poll.pk}/")
        quick = time.perf_counter() - t0
        settings.RELEASE = dataclasses.replace(releases.get(releases.SLOW_READS), tally_queries=1, tally_delay_ms=40)
        with CaptureQueriesContext(connection) as queries:
            t0 = time.perf_counter()
            assert client.get(f"/api/polls/{poll.pk}/").status_code == 200
            slow = time.perf_counter() - t0
        assert slow - quick >= n * 0.040 * 0.9, (slow, quick, n)
        reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('SELECT "polls_choice"."votes"')]
        assert len(reads) == n and not any("sleep" in q["sql"] for q in queries.captured_queries)


class TestTheReleaseIsReported:
    def test_build_info_names_the_running_release(self, client, settings):
        text = client.get("/metrics").content.decode()
        current = releases.get(releases.CURRENT)
        assert f'pollapp_build_info{{revision="{current.revision}",version="{current.version}"}} 1.0' in text
        settings.RELEASE = releases.get(releases.SLOW_READS)
        lines = [ln for ln in client.get("/metrics").content.decode().splitlines() if ln.startswith("pollapp_build")]
        assert lines == [f'pollapp_build_info{{revision="2d9be70",version="{releases.SLOW_READS}"}} 1.0']

    def test_every_log_line_names_the_release(self, monkeypatch):
        record = logging.LogRecord("pollapp.access", logging.INFO, __file__, 1, "GET / 200", None, None)
        monkeypatch.delenv("APP_RELEASE", raising=False)
        assert json.loads(JsonFormatter().format(record))["release"] == releases.CURRENT
        monkeypatch.setenv("APP_RELEASE", releases.FAULTY_VOTES)
        assert json.loads(JsonFormatter().format(record))["release"] == releases.FAULTY_VOTES
