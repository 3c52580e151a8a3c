from django.urls import path

from . import api

app_name = "api"
urlpatterns = [
    path("polls/", api.polls, name="polls"),
    path("polls/<int:question_id>/", api.poll_detail, name="detail"),
    path("polls/<int:question_id>/vote/", api.vote, name="vote"),
]
