"""Business counters beside django-prometheus' own; multiprocess-safe under gunicorn."""
from __future__ import annotations

from prometheus_client import Counter

POLLS_CREATED = Counter("polls_created", "Polls created.")
VOTES_CAST = Counter("votes_cast", "Votes accepted and stored.")
DISK_WRITE_ERRORS = Counter("pollapp_disk_write_errors", "Failed writes to the replica's data directory, by errno.",
                            ["errno"])
