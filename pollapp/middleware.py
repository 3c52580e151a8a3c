"""Access log middleware: a request id, and one JSON line per request with status and duration."""
from __future__ import annotations

import logging
import time
import uuid

from .jsonlog import request_context

log = logging.getLogger("pollapp.access")
QUIET_PATHS = {"/metrics", "/livez", "/healthz"}


class RequestLogMiddleware:
    """Tag the request with an id (X-Request-Id, or a new one) and log it when done."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        rid = request.headers.get("X-Request-Id") or uuid.uuid4().hex[:16]
        token = request_context.set({"request_id": rid, "method": request.method, "path": request.path})
        start = time.perf_counter()
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            response["X-Request-Id"] = rid
            return response
        finally:
            duration = round((time.perf_counter() - start) * 1000, 2)
            level = logging.ERROR if status >= 500 else logging.WARNING if status >= 400 else logging.INFO
            # Probes and scrapes are logged only when they fail, or they would drown the rest.
            if request.path not in QUIET_PATHS or status >= 400:
                log.log(level, "%s %s %s", request.method, request.path, status,
                        extra={"status": status, "duration_ms": duration, "event": "access"})
            request_context.reset(token)
