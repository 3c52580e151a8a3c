"""The create-a-poll form: a question and 2 to 10 choices, one per line."""
from __future__ import annotations

from django import forms

from .models import CHOICE_MAX, MAX_CHOICES, MIN_CHOICES, QUESTION_MAX


def clean_choices(raw: list[str]) -> list[str]:
    """Strip, drop blanks, and check count, length and duplicates; raise ValidationError."""
    choices = [c.strip() for c in raw if isinstance(c, str) and c.strip()]
    if len(choices) < MIN_CHOICES:
        raise forms.ValidationError(f"give at least {MIN_CHOICES} choices")
    if len(choices) > MAX_CHOICES:
        raise forms.ValidationError(f"give at most {MAX_CHOICES} choices")
    long = [c for c in choices if len(c) > CHOICE_MAX]
    if long:
        raise forms.ValidationError(f"a choice is longer than {CHOICE_MAX} characters")
    if len({c.lower() for c in choices}) != len(choices):
        raise forms.ValidationError("choices must be different")
    return choices


class PollForm(forms.Form):
    question = forms.CharField(max_length=QUESTION_MAX, strip=True)
    choices = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), help_text="One choice per line, 2 to 10.",
                              max_length=MAX_CHOICES * (CHOICE_MAX + 2))

    def clean_choices(self) -> list[str]:
        return clean_choices(self.cleaned_data["choices"].splitlines())
