"""The pages, after Django's tutorial: list, create, detail (vote form), vote, results."""
from __future__ import annotations

from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from . import services
from .converters import valid_id
from .forms import PollForm
from .models import Choice, Question


def index(request):
    """The latest polls."""
    latest = Question.objects.all()[:20]
    return render(request, "polls/index.html", {"latest_question_list": latest})


def create(request):
    """A form to create a poll; on success, redirect to it."""
    if request.method == "POST":
        form = PollForm(request.POST)
        if form.is_valid():
            q = services.create_poll(form.cleaned_data["question"], form.cleaned_data["choices"])
            return HttpResponseRedirect(reverse("polls:detail", args=(q.pk,)))
        status = 400
    else:
        form, status = PollForm(), 200
    return render(request, "polls/create.html", {"form": form}, status=status)


def detail(request, question_id: int):
    """A poll and its vote form."""
    question = get_object_or_404(Question, pk=question_id)
    return render(request, "polls/detail.html", {"question": question})


def results(request, question_id: int):
    """The counts of a poll."""
    question = get_object_or_404(Question, pk=question_id)
    return render(request, "polls/results.html", {"question": question})


@require_POST
def vote(request, question_id: int):
    """Count a vote with F(), then redirect to the results (POST/redirect/GET)."""
    question = get_object_or_404(Question, pk=question_id)
    try:
        choice_id = int(request.POST["choice"])
        if not valid_id(choice_id):
            raise ValueError(choice_id)
        selected = question.choice_set.get(pk=choice_id)
    except (KeyError, ValueError, Choice.DoesNotExist):
        return render(request, "polls/detail.html",
                      {"question": question, "error_message": "You didn't select a choice."}, status=400)
    services.cast_vote(question, selected)
    return HttpResponseRedirect(reverse("polls:results", args=(question.pk,)))
