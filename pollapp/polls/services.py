"""The two writes the app does, shared by the pages and the API: create a poll, cast a vote."""
from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.db import transaction
from django.db.models import F

from .. import journal
from ..metrics import POLLS_CREATED, VOTES_CAST
from .models import Choice, Question
from .serializers import vote_record

log = logging.getLogger("pollapp.polls")


def create_poll(question_text: str, choices: list[str]) -> Question:
    """Journal, then store a question and its choices in one transaction."""
    journal.append("poll", question=question_text, choices=choices)
    with transaction.atomic():
        q = Question.objects.create(question_text=question_text)
        Choice.objects.bulk_create([Choice(question=q, choice_text=c) for c in choices])
    POLLS_CREATED.inc()
    log.info("poll created", extra={"poll": q.pk})
    return q


def cast_vote(question: Question, choice: Choice) -> uuid.UUID:
    """Journal, then count the vote with F() (no lost updates) and keep its row; returns the vote id.

    The running release's vote serializer (if any) runs first: when it fails, nothing is stored.
    """
    vote_record(question, choice)
    vote_id = uuid.uuid4()
    journal.append("vote", vote_id=str(vote_id), poll=question.pk, choice=choice.pk)
    with transaction.atomic():
        Choice.objects.filter(pk=choice.pk).update(votes=F("votes") + 1)
        choice.vote_set.create(id=vote_id, replica=settings.REPLICA_NAME)
    VOTES_CAST.inc()
    return vote_id
