from django.urls import path

from . import converters  # noqa: F401  (registers <id:...>)
from . import views

app_name = "polls"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.create, name="create"),
    path("<id:question_id>/", views.detail, name="detail"),
    path("<id:question_id>/results/", views.results, name="results"),
    path("<id:question_id>/vote/", views.vote, name="vote"),
]
