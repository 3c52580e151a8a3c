"""The pages, one test class per view, as in Django's tutorial."""
from __future__ import annotations

import pytest
from django.urls import reverse

from pollapp.polls.models import Choice, Question, Vote

pytestmark = pytest.mark.django_db


class TestIndexView:
    def test_no_polls(self, client):
        """With no polls, the page says so."""
        resp = client.get(reverse("polls:index"))
        assert resp.status_code == 200
        assert b"No polls are available." in resp.content

    def test_lists_latest_first(self, client, poll):
        """Polls are listed, newest first."""
        newer = Question.objects.create(question_text="Vim or Emacs?")
        resp = client.get(reverse("polls:index"))
        assert list(resp.context["latest_question_list"])[:2] == [newer, poll]


class TestCreateView:
    def test_form_shown(self, client):
        """GET shows an empty form with a CSRF token."""
        resp = client.get(reverse("polls:create"))
        assert resp.status_code == 200 and b"csrfmiddlewaretoken" in resp.content

    def test_create_redirects_to_poll(self, client, data_dir):
        """A valid poll is stored with its choices, and the browser is redirected to it."""
        resp = client.post(reverse("polls:create"), {"question": "Best season?", "choices": "Spring\nSummer\n\n"})
        q = Question.objects.get(question_text="Best season?")
        assert resp.status_code == 302 and resp["Location"] == reverse("polls:detail", args=(q.pk,))
        assert sorted(q.choice_set.values_list("choice_text", flat=True)) == ["Spring", "Summer"]

    @pytest.mark.parametrize("form", [
        {"question": "", "choices": "a\nb"},
        {"question": "Only one?", "choices": "a"},
        {"question": "Too many?", "choices": "\n".join(str(i) for i in range(11))},
        {"question": "x" * 201, "choices": "a\nb"},
        {"question": "Same twice?", "choices": "a\nA"},
    ])
    def test_bad_input_is_a_form_error(self, client, data_dir, form):
        """Bad input re-renders the form with errors (400), never a 500, and stores nothing."""
        resp = client.post(reverse("polls:create"), form)
        assert resp.status_code == 400 and resp.context["form"].errors
        assert not Question.objects.exists()

    def test_csrf_enforced(self, data_dir):
        """A form post without the CSRF token is refused."""
        from django.test import Client

        resp = Client(enforce_csrf_checks=True).post(reverse("polls:create"), {"question": "q", "choices": "a\nb"})
        assert resp.status_code == 403


class TestDetailView:
    def test_shows_choices(self, client, poll):
        """The vote form lists every choice."""
        resp = client.get(reverse("polls:detail", args=(poll.pk,)))
        assert resp.status_code == 200
        for c in poll.choice_set.all():
            assert c.choice_text.encode() in resp.content

    def test_unknown_poll_404(self, client, db):
        """An unknown poll is a 404."""
        assert client.get(reverse("polls:detail", args=(999999,))).status_code == 404


class TestResultsView:
    def test_shows_counts(self, client, poll):
        """Results show each choice's count."""
        c = poll.choice_set.first()
        Choice.objects.filter(pk=c.pk).update(votes=3)
        resp = client.get(reverse("polls:results", args=(poll.pk,)))
        assert f"{c.choice_text} -- 3 votes".encode() in resp.content


class TestVoteView:
    def test_vote_counts_and_redirects(self, client, poll, data_dir):
        """A vote increments the count, keeps a Vote row, and redirects to the results."""
        c = poll.choice_set.first()
        resp = client.post(reverse("polls:vote", args=(poll.pk,)), {"choice": c.pk})
        assert resp.status_code == 302 and resp["Location"] == reverse("polls:results", args=(poll.pk,))
        c.refresh_from_db()
        assert c.votes == 1 and Vote.objects.filter(choice=c).count() == 1

    @pytest.mark.parametrize("data", [{}, {"choice": "abc"}, {"choice": "999999"}])
    def test_bad_choice_redisplays_form(self, client, poll, data_dir, data):
        """No, malformed or foreign choice: the form again with an error, 400."""
        resp = client.post(reverse("polls:vote", args=(poll.pk,)), data)
        assert resp.status_code == 400 and b"You didn&#x27;t select a choice." in resp.content
        assert not Vote.objects.exists()

    def test_get_not_allowed(self, client, poll):
        """Voting is POST only."""
        assert client.get(reverse("polls:vote", args=(poll.pk,))).status_code == 405
