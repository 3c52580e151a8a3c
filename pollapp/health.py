"""Liveness (the process answers) and health (it can reach the database) for the load balancer."""
from __future__ import annotations

import logging

from django.db import DatabaseError, connection
from django.http import JsonResponse

log = logging.getLogger("pollapp.health")


def livez(request):
    """The process is up and serving."""
    return JsonResponse({"status": "ok"})


def healthz(request):
    """Ready for traffic: a round trip to the database succeeds."""
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()
    except DatabaseError as e:
        log.error("health check failed: database unreachable: %s", str(e).strip().splitlines()[0] if str(e) else e)
        connection.close()
        return JsonResponse({"status": "unhealthy", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
