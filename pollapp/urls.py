"""Top-level routes: the polls pages, the JSON API, health and metrics."""
from django.urls import include, path

from . import health

urlpatterns = [
    path("livez", health.livez, name="livez"),
    path("healthz", health.healthz, name="healthz"),
    path("", include("django_prometheus.urls")),
    path("api/", include("pollapp.polls.api_urls")),
    path("", include("pollapp.polls.urls")),
]

handler500 = "pollapp.errors.server_error"
handler404 = "pollapp.errors.not_found"
handler400 = "pollapp.errors.bad_request"
