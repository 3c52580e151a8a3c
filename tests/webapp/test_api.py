"""The JSON API, one test class per endpoint."""
from __future__ import annotations

import json

import pytest

from pollapp.polls.models import Question, Vote

pytestmark = pytest.mark.django_db


def post_json(client, url, body, **kw):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(url, data=data, content_type="application/json", **kw)


class TestPollsEndpoint:
    def test_create_returns_201_with_choices(self, client, data_dir):
        """POST creates a poll and returns it with choice ids and zero counts."""
        resp = post_json(client, "/api/polls/", {"question": "Coffee?", "choices": ["Yes", "No"]})
        assert resp.status_code == 201
        body = resp.json()
        assert body["question"] == "Coffee?" and [c["votes"] for c in body["choices"]] == [0, 0]
        assert Question.objects.filter(pk=body["id"]).exists()

    def test_list(self, client, poll):
        """GET lists polls with their choices."""
        body = client.get("/api/polls/").json()
        assert body["polls"][0]["id"] == poll.pk and len(body["polls"][0]["choices"]) == 3

    @pytest.mark.parametrize("body", [
        "{not json", "[1, 2]", {"question": "", "choices": ["a", "b"]}, {"question": "q", "choices": ["a"]},
        {"question": "q", "choices": "a,b"}, {"question": "q", "choices": ["a", 2]},
        {"question": 5, "choices": ["a", "b"]},
        {"question": "q" * 201, "choices": ["a", "b"]}, {"question": "q", "choices": ["a", "b" * 201]},
        {"question": "q", "choices": [str(i) for i in range(11)]},
    ])
    def test_bad_input_is_400(self, client, data_dir, body):
        """Malformed or invalid input is a 400 with an error message, and nothing is stored."""
        resp = post_json(client, "/api/polls/", body)
        assert resp.status_code == 400 and resp.json()["error"]
        assert not Question.objects.exists()

    def test_oversize_body_is_400(self, client, data_dir):
        """A body over the upload limit is refused with a 400, not a 500."""
        resp = post_json(client, "/api/polls/", {"question": "q", "choices": ["a", "b"], "pad": "x" * 100_000})
        assert resp.status_code == 400


class TestPollDetailEndpoint:
    def test_detail(self, client, poll):
        """GET returns the poll with counts."""
        body = client.get(f"/api/polls/{poll.pk}/").json()
        assert body["question"] == "Tabs or spaces?"
        assert {c["text"] for c in body["choices"]} == {"Tabs", "Spaces", "Both"}

    def test_unknown_404(self, client, db):
        """An unknown poll is a JSON 404."""
        resp = client.get("/api/polls/424242/")
        assert resp.status_code == 404 and "no poll" in resp.json()["error"]


class TestVoteEndpoint:
    def test_vote_201_with_id(self, client, poll, data_dir):
        """A vote returns 201 and an id that is stored as a Vote row; the count goes up."""
        choice = poll.choice_set.first()
        resp = post_json(client, f"/api/polls/{poll.pk}/vote/", {"choice": choice.pk})
        assert resp.status_code == 201
        vote = Vote.objects.get(pk=resp.json()["vote_id"])
        choice.refresh_from_db()
        assert vote.choice_id == choice.pk and choice.votes == 1 and vote.replica == "apptest"

    @pytest.mark.parametrize("body", ["nope", {"choice": "1"}, {"choice": True}, {"choice": 999999}, {}])
    def test_bad_vote_400(self, client, poll, data_dir, body):
        """A malformed body or a choice of another poll is a 400 and counts nothing."""
        resp = post_json(client, f"/api/polls/{poll.pk}/vote/", body)
        assert resp.status_code == 400 and resp.json()["error"]
        assert not Vote.objects.exists()

    def test_unknown_poll_404(self, client, db):
        """Voting on an unknown poll is a 404."""
        assert post_json(client, "/api/polls/424242/vote/", {"choice": 1}).status_code == 404

    def test_full_disk_fails_500_and_logs(self, client, poll, full_disk, caplog):
        """On a full disk the vote fails with a 500, is not counted, and the log says ENOSPC."""
        choice = poll.choice_set.first()
        client.raise_request_exception = False
        resp = post_json(client, f"/api/polls/{poll.pk}/vote/", {"choice": choice.pk})
        assert resp.status_code == 500 and resp.json() == {"error": "internal server error"}
        choice.refresh_from_db()
        assert choice.votes == 0 and not Vote.objects.exists()
        assert any(getattr(r, "errno", None) == "ENOSPC" and "No space left" in r.getMessage() for r in caplog.records)
