from django.apps import AppConfig


class PollsConfig(AppConfig):
    """The polls app; its label is `polls`."""

    name = "pollapp.polls"
    label = "polls"
    default_auto_field = "django.db.models.BigAutoField"
