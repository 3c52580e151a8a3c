"""Settings from the environment, as twelve-factor apps do; safe defaults (DEBUG off)."""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

from pollapp import releases

BASE_DIR = Path(__file__).resolve().parent


def _bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def database_from_url(url: str) -> dict:
    """A Django DATABASES entry from postgres://user:pass@host:port/name."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"} or not parts.path.strip("/"):
        raise ImproperlyConfigured(f"DATABASE_URL must look like postgres://user:pass@host:port/name, got {url!r}")
    return {
        # django-prometheus' wrapper adds django_db_* metrics (connections, errors, query time).
        "ENGINE": "django_prometheus.db.backends.postgresql",
        "NAME": parts.path.strip("/"),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or 5432),
        # Keep connections a minute, but check them first: a cut-off database must fail fast.
        "CONN_MAX_AGE": int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {
            "connect_timeout": int(os.environ.get("DB_CONNECT_TIMEOUT", "3")),
            # Unacknowledged data for this long kills the connection (libpq tcp_user_timeout, ms).
            "tcp_user_timeout": int(os.environ.get("DB_TCP_USER_TIMEOUT_MS", "3000")),
            "application_name": os.environ.get("REPLICA_NAME", "pollapp"),
            # A statement waits this long for a row lock, then fails ("canceling statement due to lock
            # timeout"): a vote stuck behind a long transaction answers a 500 in seconds, far below
            # gunicorn's and the load generator's timeouts, instead of holding its thread.
            "options": f"-c lock_timeout={int(os.environ.get('DB_LOCK_TIMEOUT_MS', '2000'))}",
        },
    }


DEBUG = _bool("DEBUG")
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is not set: export SECRET_KEY (or DEBUG=1 for development)")
    SECRET_KEY = "insecure-development-key"
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1").split(",") if h.strip()]
REPLICA_NAME = os.environ.get("REPLICA_NAME", "pollapp")
#: The release this process runs (APP_RELEASE, CURRENT when unset) with its knobs: pollapp/releases.py.
try:
    RELEASE = releases.from_environment(os.environ)
except releases.UnknownRelease as e:
    raise ImproperlyConfigured(str(e)) from None
DATA_DIR = Path(os.environ.get("DATA_DIR", str(BASE_DIR.parent / ".pollapp-data")))
#: The vote journal rotates at this size, so normal operation never fills the disk.
JOURNAL_MAX_BYTES = int(os.environ.get("JOURNAL_MAX_BYTES", str(4 << 20)))

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "django_prometheus",
    "pollapp.polls.apps.PollsConfig",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "pollapp.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "pollapp.urls"
WSGI_APPLICATION = "pollapp.wsgi.application"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": ["django.template.context_processors.request",
                                       "pollapp.context_processors.replica"]},
}]

DATABASES = {"default": database_from_url(
    os.environ.get("DATABASE_URL", "postgres://polls:polls@127.0.0.1:5432/polls"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Fields are small; a huge body is refused with a 400 before it reaches a view.
DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 100

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True
STATIC_URL = "static/"
CSRF_COOKIE_HTTPONLY = False
SECURE_CONTENT_TYPE_NOSNIFF = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "pollapp.jsonlog.JsonFormatter"}},
    "handlers": {
        "stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "json"},
        "count": {"class": "pollapp.jsonlog.CountingHandler"},
    },
    "root": {"handlers": ["stdout", "count"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Our access log replaces django.server/request noise; errors still come through.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
    },
}
