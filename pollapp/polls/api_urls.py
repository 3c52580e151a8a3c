from django.urls import path

from . import converters  # noqa: F401  (registers <id:...>)
from . import api

app_name = "api"
urlpatterns = [
    path("polls/", api.polls, name="polls"),
    path("polls/<id:question_id>/", api.poll_detail, name="detail"),
    path("polls/<id:question_id>/vote/", api.vote, name="vote"),
]
