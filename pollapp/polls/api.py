"""A small JSON API for programs (the load generator, the notebooks): polls and votes."""
from __future__ import annotations

import json

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from django import forms as djforms

from . import services
from .converters import valid_id
from .forms import clean_choices
from .models import QUESTION_MAX, Choice, Question

MAX_LIST = 50


def storable(text: str) -> bool:
    """Can PostgreSQL store this text? (no NUL character, no lone surrogate: valid UTF-8)."""
    if "\0" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _body(request) -> dict:
    try:
        data = json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError) as e:
        raise ValueError(f"malformed JSON: {e}") from e
    except RecursionError as e:
        raise ValueError("malformed JSON: nested too deeply") from e
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    return data


@csrf_exempt
@require_http_methods(["GET", "POST"])
def polls(request):
    """GET: the latest polls with their counts. POST {question, choices: [...]}: create one (201)."""
    if request.method == "GET":
        latest = Question.objects.prefetch_related("choice_set")[:MAX_LIST]
        return JsonResponse({"polls": [q.as_dict() for q in latest]})
    try:
        data = _body(request)
    except ValueError as e:
        return _error(str(e))
    question = data.get("question")
    if not isinstance(question, str) or not question.strip():
        return _error("`question` must be a non-empty string")
    if not storable(question):
        return _error("`question` must not contain NUL characters or unpaired surrogates")
    if len(question.strip()) > QUESTION_MAX:
        return _error(f"`question` is longer than {QUESTION_MAX} characters")
    raw = data.get("choices")
    if not isinstance(raw, list) or not all(isinstance(c, str) for c in raw):
        return _error("`choices` must be a list of strings")
    if not all(storable(c) for c in raw):
        return _error("`choices` must not contain NUL characters or unpaired surrogates")
    try:
        choices = clean_choices(raw)
    except djforms.ValidationError as e:
        return _error(f"`choices`: {e.messages[0]}")
    q = services.create_poll(question.strip(), choices)
    return JsonResponse(q.as_dict(), status=201)


@require_http_methods(["GET"])
def poll_detail(request, question_id: int):
    """One poll with its choices and vote counts."""
    try:
        q = Question.objects.get(pk=question_id)
    except Question.DoesNotExist:
        return _error(f"no poll {question_id}", 404)
    return JsonResponse(q.as_dict())


@csrf_exempt
@require_http_methods(["POST"])
def vote(request, question_id: int):
    """POST {choice: id}: cast a vote; 201 {vote_id, poll, choice} once it is stored."""
    try:
        q = Question.objects.get(pk=question_id)
    except Question.DoesNotExist:
        return _error(f"no poll {question_id}", 404)
    try:
        data = _body(request)
    except ValueError as e:
        return _error(str(e))
    choice_id = data.get("choice")
    if not valid_id(choice_id):
        return _error("`choice` must be a choice id (a positive integer)")
    try:
        choice = q.choice_set.get(pk=choice_id)
    except Choice.DoesNotExist:
        return _error(f"poll {question_id} has no choice {choice_id}")
    vote_id = services.cast_vote(q, choice)
    return JsonResponse({"vote_id": str(vote_id), "poll": q.pk, "choice": choice.pk}, status=201)
