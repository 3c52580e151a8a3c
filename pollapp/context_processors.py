"""Template context: which replica served the page (useful when one replica misbehaves)."""
from django.conf import settings


def replica(request) -> dict:
    return {"replica_name": settings.REPLICA_NAME}
