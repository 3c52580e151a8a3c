"""Questions with 2 to 10 choices; every accepted vote is a row, so nothing acknowledged is lost."""
from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from .tally import live_votes

QUESTION_MAX = 200
CHOICE_MAX = 200
MIN_CHOICES = 2
MAX_CHOICES = 10


class Question(models.Model):
    question_text = models.CharField(max_length=QUESTION_MAX)
    pub_date = models.DateTimeField("date published", default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-pub_date", "-id"]

    def __str__(self) -> str:
        return self.question_text

    def as_dict(self, *, with_choices: bool = True) -> dict:
        out = {"id": self.pk, "question": self.question_text, "pub_date": self.pub_date.isoformat()}
        if with_choices:
            out["choices"] = [c.as_dict() for c in self.choice_set.order_by("id")]
        return out


class Choice(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE)
    choice_text = models.CharField(max_length=CHOICE_MAX)
    votes = models.IntegerField(default=0)

    def __str__(self) -> str:
        return self.choice_text

    def as_dict(self) -> dict:
        return {"id": self.pk, "text": self.choice_text, "votes": live_votes(self.pk, self.votes)}


class Vote(models.Model):
    """One acknowledged vote; its id is returned to the voter (the load generator's ledger keeps it)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    choice = models.ForeignKey(Choice, on_delete=models.CASCADE)
    replica = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
