"""Structured logs: one JSON object per line, with the request's context, and counted."""
from __future__ import annotations

import contextvars
import json
import logging
import os
import time

from pollapp.releases import CURRENT

#: The current request's fields (request id, method, path), set by the middleware.
request_context: contextvars.ContextVar[dict] = contextvars.ContextVar("request_context", default={})

_log_messages = None


def log_messages_counter():
    """pollapp_log_messages_total, made on first use: gunicorn's master formats its own log lines
    with JsonFormatter but never counts, and importing prometheus_client there costs each
    replica's master about 3 MiB (issue #15)."""
    global _log_messages
    if _log_messages is None:
        from prometheus_client import Counter

        _log_messages = Counter("pollapp_log_messages", "Log records emitted, by level.", ["level"])
    return _log_messages

_EXTRA_FIELDS = ("status", "duration_ms", "method", "path", "request_id", "poll", "choice", "vote_id", "errno",
                 "remote", "user_agent", "event")


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON line: time, level, logger, message, replica, release, request fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
                    + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "replica": os.environ.get("REPLICA_NAME", "pollapp"),
            # The release this process runs, as settings.RELEASE reads it (gunicorn's master has no settings).
            "release": os.environ.get("APP_RELEASE") or CURRENT,
            "pid": record.process,
        }
        out.update(request_context.get())
        for key in _EXTRA_FIELDS:
            if key in record.__dict__:
                out[key] = record.__dict__[key]
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
            out["exc_type"] = record.exc_info[0].__name__ if record.exc_info[0] else None
        return json.dumps(out, default=str)


class CountingHandler(logging.Handler):
    """Count every record by level (pollapp_log_messages_total), for the log-volume panels."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            log_messages_counter().labels(level=record.levelname).inc()
        except Exception:  # never let metrics break logging
            pass
