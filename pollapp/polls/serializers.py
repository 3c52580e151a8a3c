"""The vote record release 2026.12.1's "weighted votes" serializer builds before a vote is stored.

Only a release with a vote_error_share enters it (pollapp/releases.py): its choices' weights were
to be backfilled by a data migration that covered only part of the rows, so for that share of
votes the serializer reads a key the row does not have and the vote fails with a 500 (KeyError:
'weight' in the log's traceback) before anything is journalled or stored.
"""
from __future__ import annotations

import random

from django.conf import settings

from .models import Choice, Question


def weighted_row(choice: Choice, share: float) -> dict:
    """A choice's row with its backfilled weight, when the backfill reached it (1 - share of rows)."""
    row = choice.as_dict()
    if random.random() >= share:
        row["weight"] = 1
    return row


def vote_record(question: Question, choice: Choice) -> dict | None:
    """The weighted vote record of the running release, or None when it has no such serializer."""
    share = settings.RELEASE.vote_error_share
    if not share:
        return None
    row = weighted_row(choice, share)
    return {"poll": question.pk, "choice": row["id"], "weight": row["weight"]}
