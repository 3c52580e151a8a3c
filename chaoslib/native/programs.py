"""The native stack's services as data: command, user, cgroup, address and health probe."""
from __future__ import annotations

import shlex
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from chaoslib import config
from chaoslib.config import Settings
from chaoslib.native import credentials, health, postgres
from pollapp import releases

Probe = Callable[[], "tuple[bool, str]"]


@dataclass
class Program:
    """One supervisord program of the native stack."""

    name: str
    kind: str  # replica, database, proxy, monitoring, load, control, lab
    argv: list[str]
    address: str = ""
    user: str = ""
    cgroup: str = ""
    env: dict[str, str] = field(default_factory=dict)
    probe: Probe | None = None
    startsecs: int = 2
    startretries: int = 3
    stopsignal: str = "TERM"
    stopwaitsecs: int = 10
    #: Start order: lower first. Programs of one stage start together. 0: the database;
    #: 1: what needs nothing (started with the database); 2: what needs the database;
    #: 3: the load balancer (needs the replicas); 4: the load (needs the load balancer).
    stage: int = 0
    #: Part of "the stack" for health and memory figures (JupyterLab is not).
    core: bool = True
    #: A large static binary (the Go services): its cached pages are dropped before each
    #: start so that it maps only what it reads (see launch.drop_cached_pages).
    cold_binary: bool = False

    def command(self, settings: Settings) -> str:
        launch = [sys.executable, "-m", "chaoslib.native.launch"]
        if self.cgroup:
            launch += ["--cgroup", self.cgroup]
        if self.user:
            launch += ["--user", self.user]
        if self.cold_binary:
            launch += ["--cold-binary"]
        return shlex.join(launch + ["--", *self.argv])

    def supervisor_section(self, settings: Settings) -> dict:
        # Two malloc arenas at most: glibc gives each thread its own, and the threaded Python
        # services (a replica's 4 threads, Locust) kept megabytes in each (issue #15).
        env = {"PYTHONPATH": str(config.REPO_ROOT), "PYTHONUNBUFFERED": "1", "MALLOC_ARENA_MAX": "2", **self.env}
        environment = ",".join(f'{k}="{v}"' for k, v in env.items())
        return {"name": self.name, "command": self.command(settings).replace("%", "%%"),
                "directory": str(config.REPO_ROOT), "startsecs": self.startsecs,
                "startretries": self.startretries, "stopsignal": self.stopsignal,
                "stopwaitsecs": self.stopwaitsecs, "environment": environment.replace("%", "%%")}


def go_small(limit_mib: int) -> dict[str, str]:
    """The environment of a Go service sized for a small stack.

    GOGC=50 collects when the heap has grown by half (not doubled) since the last collection;
    GOMEMLIMIT is a soft limit under which the GC works harder and returns freed memory to
    the kernel sooner, never an out-of-memory kill. The limits sit about twice above each
    service's live heap measured under the default load (Prometheus 14 MiB, Alertmanager 7,
    Traefik 10, postgres-exporter 3: `go_memstats_heap_alloc_bytes`), so the GC never thrashes.
    """
    return {"GOGC": "50", "GOMEMLIMIT": f"{limit_mib}MiB"}


def venv_bin(name: str) -> str:
    """A console script installed next to this Python (the project's virtualenv)."""
    candidate = Path(sys.executable).with_name(name)
    return str(candidate) if candidate.exists() else name


def replica_program(settings: Settings, index: int, secret_key: str, release: str = releases.CURRENT,
                    knobs: Mapping[str, str] | None = None) -> Program:
    """One app replica running `release` (its environment names it: pollapp/releases.py), `knobs` overriding its
    release's knobs (APP_* variables)."""
    name = config.replica_name(index)
    host = config.replica_address(index)
    env = {
        "DJANGO_SETTINGS_MODULE": "pollapp.settings",
        "SECRET_KEY": secret_key,
        "DATABASE_URL": credentials.database_url(settings),
        "REPLICA_NAME": name,
        "DATA_DIR": str(settings.disk_path(name)),
        "PROMETHEUS_MULTIPROC_DIR": str(settings.metrics_dir(name)),
        "BIND": f"{host}:{config.APP_PORT}",
        # One worker of 4 threads: three replicas on a two-core box have CPU enough in one
        # process each (15 requests/s in all), and a second worker costs about 32 MiB PSS
        # per replica (pollapp/gunicorn_conf.py has the figures).
        "WEB_CONCURRENCY": "1",
        "ALLOWED_HOSTS": f"{host},{config.TRAEFIK.host},localhost,127.0.0.1",
        **releases.environment(release),
        **(knobs or {}),
    }
    argv = [venv_bin("gunicorn"), "-c", "python:pollapp.gunicorn_conf", "pollapp.wsgi"]
    return Program(name=name, kind="replica", argv=argv, address=f"{host}:{config.APP_PORT}",
                   user=config.replica_user(index), cgroup=name, env=env, stage=2,
                   # A replica that cannot boot keeps being retried: a crash loop, as in a cluster.
                   startsecs=3, startretries=1000,
                   probe=lambda: health.http_ok(f"http://{host}:{config.APP_PORT}/healthz"))


def programs(settings: Settings, *, secret_key: str, running: Mapping[str, str] | None = None,
             knobs: Mapping[str, Mapping[str, str]] | None = None) -> list[Program]:
    """Every program of the native stack, in start order; each replica on its release in `running` (or CURRENT),
    with its knob overrides in `knobs` (none by default)."""
    run, data, conf = settings.run_dir, settings.data_dir, settings.config_dir
    pg = config.POSTGRES
    out = [
        Program(name="postgres", kind="database", stage=0, user=pg.user, address=pg.address,
                argv=postgres.command(data / "postgres", run / "pg"), stopsignal="INT", stopwaitsecs=20,
                probe=lambda: health.postgres_ok(pg.host, pg.port)),
    ]
    running, knobs = running or {}, knobs or {}
    out += [replica_program(settings, i, secret_key, running.get(config.replica_name(i), releases.CURRENT),
                            knobs.get(config.replica_name(i)))
            for i in range(1, settings.replicas + 1)]
    tm = config.TRAEFIK_METRICS
    out += [
        Program(name="traefik", kind="proxy", stage=3, user=config.TRAEFIK.user, address=config.TRAEFIK.address,
                argv=[venv_bin("traefik"), f"--configFile={conf / 'traefik.yml'}"], env=go_small(28), cold_binary=True,
                probe=lambda: health.http_ok(f"http://{tm.address}/ping")),
        Program(name="postgres-exporter", kind="monitoring", stage=2, user="chaossvc",
                address=config.POSTGRES_EXPORTER.address,
                argv=["prometheus-postgres-exporter",
                      f"--web.listen-address={config.POSTGRES_EXPORTER.address}"],
                env={"DATA_SOURCE_NAME": credentials.exporter_dsn(settings), **go_small(12)}, cold_binary=True,
                probe=lambda: health.http_ok(f"{config.POSTGRES_EXPORTER.url}/metrics", contains="pg_up 1")),
        Program(name="saturation-exporter", kind="monitoring", stage=1, address=config.SATURATION_EXPORTER.address,
                argv=[sys.executable, "-m", "chaoslib.native.saturation", "--state-dir", str(settings.state_dir)],
                probe=lambda: health.http_ok(f"{config.SATURATION_EXPORTER.url}/metrics")),
        Program(name="pager", kind="monitoring", stage=1, user="chaossvc", address=config.PAGER.address,
                argv=[sys.executable, "-m", "chaoslib.services.pager", "--bind", config.PAGER.address,
                      "--store", str(data / "pager")],
                probe=lambda: health.http_ok(f"{config.PAGER.url}/healthz")),
        Program(name="alertmanager", kind="monitoring", stage=1, user="chaossvc", address=config.ALERTMANAGER.address,
                argv=["prometheus-alertmanager", f"--config.file={conf / 'alertmanager.yml'}",
                      f"--storage.path={data / 'alertmanager'}",
                      f"--web.listen-address={config.ALERTMANAGER.address}",
                      "--cluster.listen-address=", "--web.route-prefix=/",
                      f"--web.external-url={config.public_url('alertmanager', config.ALERTMANAGER.url)}"],
                env=go_small(16), cold_binary=True,
                probe=lambda: health.http_ok(f"{config.ALERTMANAGER.url}/-/ready")),
        Program(name="prometheus", kind="monitoring", stage=1, user="chaossvc", address=config.PROMETHEUS.address,
                argv=["prometheus", f"--config.file={conf / 'prometheus.yml'}",
                      f"--storage.tsdb.path={data / 'prometheus'}", "--storage.tsdb.retention.time=2d",
                      # No --web.enable-lifecycle: /-/quit and /-/reload stay off.
                      f"--web.listen-address={config.PROMETHEUS.address}",
                      # The links in alerts (generatorURL, the pages' externalURL) point where the player's browser
                      # is: the forwarded port in a workspace (config.public_url); served at / all the same.
                      "--web.route-prefix=/",
                      f"--web.external-url={config.public_url('prometheus', config.PROMETHEUS.url)}"],
                env=go_small(32), cold_binary=True,
                probe=lambda: health.http_ok(f"{config.PROMETHEUS.url}/-/ready")),
        Program(name="warden", kind="control", stage=1,
                argv=[sys.executable, "-m", "chaoslib.engine.warden", "--state-dir", str(settings.state_dir)],
                startsecs=1, probe=None),
        Program(name="locust", kind="load", stage=4, user="chaossvc",
                argv=[venv_bin("locust"), "-f", str(config.REPO_ROOT / "chaoslib/loadgen/locustfile.py"),
                      "--headless", "-u", str(users_for(settings.rps)), "-r", str(users_for(settings.rps)),
                      "--host", config.TRAEFIK.url, "--only-summary", "--loglevel", "WARNING"],
                env={"CHAOS_RPS": str(settings.rps), "CHAOS_USERS": str(users_for(settings.rps)),
                     "CHAOS_LEDGER": str(data / "loadgen" / "ledger.jsonl"),
                     "CHAOS_PACE_FILE": str(data / "loadgen" / "pace.json")},
                startsecs=1, probe=None),
    ]
    return out


def users_for(rps: float) -> int:
    """Simulated users for a target throughput: about 3 requests per second each."""
    return max(1, min(50, round(rps / 3)))
