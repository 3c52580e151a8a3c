"""Top-level routes: the polls pages, the JSON API, health and metrics."""
from django.urls import include, path

from . import health, metrics

urlpatterns = [
    path("livez", health.livez, name="livez"),
    path("healthz", health.healthz, name="healthz"),
    # Same view name as django_prometheus.urls: rules exclude scrapes by it.
    path("metrics", metrics.export, name="prometheus-django-metrics"),
    path("api/", include("pollapp.polls.api_urls")),
    path("", include("pollapp.polls.urls")),
]

handler500 = "pollapp.errors.server_error"
handler404 = "pollapp.errors.not_found"
handler400 = "pollapp.errors.bad_request"
