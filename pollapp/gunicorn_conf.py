"""gunicorn settings for a replica: bind, workers, JSON logs, Prometheus multiprocess hooks.

At start-up the master writes a boot record to the replica's disk (DATA_DIR), as many
servers write a pid or lock file. On a full disk that write fails and the replica cannot
start: the crash loop of the disk-full scenario.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# No preload_app: measured on one replica under requests (PSS of master + workers), two
# workers cost 91 MiB without it and 66 MiB with it and gc.freeze() before the fork, but one
# worker costs 59 MiB without it and 63 MiB with it (the master then holds a copy of the app);
# and a preloading master loads Django before the fork, so a tight memory limit would kill
# the master (a supervisor crash loop) rather than its worker, a different signal.
preload_app = False
timeout = 30
graceful_timeout = 5
keepalive = 5
accesslog = None  # the app's middleware writes the access log, as JSON
errorlog = "-"
capture_output = False
proc_name = os.environ.get("REPLICA_NAME", "pollapp")
# No control socket (gunicorn 24+): nothing uses it, and its default path under the replica
# user's home (/nonexistent) made every start log an error, a red herring for the player.
control_socket_disable = True

logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "pollapp.jsonlog.JsonFormatter"}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "json"}},
    "loggers": {
        "gunicorn.error": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
    },
    "root": {"handlers": ["stdout"], "level": "INFO"},
}

BOOT_RECORDS_KEPT = 5


def _fail(message: str) -> None:
    line = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "level": "CRITICAL",
            "logger": "pollapp.boot", "message": message, "replica": proc_name, "pid": os.getpid()}
    print(json.dumps(line), flush=True)
    sys.exit(1)


def write_boot_record(data_dir: Path) -> Path:
    """Write a new boot record (a new file: it needs new blocks) and prune old ones."""
    boot = data_dir / "boot"
    boot.mkdir(parents=True, exist_ok=True)
    path = boot / f"boot-{time.time_ns()}-{os.getpid()}.json"
    record = {"replica": proc_name, "pid": os.getpid(), "started": time.time(), "bind": bind}
    with open(path, "w") as f:
        f.write(json.dumps(record) + "\n")
        f.flush()
        os.fsync(f.fileno())
    for old in sorted(boot.glob("boot-*.json"))[:-BOOT_RECORDS_KEPT]:
        old.unlink(missing_ok=True)
    return path


def on_starting(server) -> None:
    """Before the workers: reset multiprocess metrics, then write the boot record or give up."""
    mp = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if mp:
        d = Path(mp)
        d.mkdir(parents=True, exist_ok=True)
        for entry in d.iterdir():
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
    data_dir = Path(os.environ.get("DATA_DIR", ".pollapp-data"))
    try:
        write_boot_record(data_dir)
    except OSError as e:
        _fail(f"cannot start: boot record not written to {data_dir}: {e.strerror or e}")


def child_exit(server, worker) -> None:
    """A worker died: merge its metrics into the totals (prometheus_client multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
