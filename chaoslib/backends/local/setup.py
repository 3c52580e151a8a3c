"""Preparing the native stack before it starts: preflight checks, users, folders, disks, cgroups, configs."""
from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

from chaoslib import config
from chaoslib.backends.base import DEFAULT_LIMITS
from chaoslib.backends.local.state import LocalState
from chaoslib.errors import PrerequisiteError, ServiceError
from chaoslib.kernel import disks
from chaoslib.native import credentials, postgres
from chaoslib.native.health import port_in_use
from chaoslib.native.programs import Program
from chaoslib.native.users import ensure_group_member, ensure_user, uid_of
from chaoslib.render import alertmanager_context, render_to

REQUIRED_BINARIES = {
    "prometheus": "apt-get install prometheus",
    "prometheus-alertmanager": "apt-get install prometheus-alertmanager",
    "prometheus-postgres-exporter": "apt-get install prometheus-postgres-exporter",
    "nft": "apt-get install nftables",
    "mount": "apt-get install mount",
    "runuser": "apt-get install util-linux",
}
VENV_BINARIES = ("gunicorn", "traefik", "supervisord", "locust")


class LocalSetup(LocalState):
    """Preflight, then everything `up` lays out on the host before the supervisor starts."""

    def preflight(self) -> None:
        """Root, binaries, cgroups: fail with one line that says what to do."""
        if os.geteuid() != 0:
            raise PrerequisiteError("the native stack needs root (it creates users, cgroups, mounts and "
                                    "firewall rules)", hint="run it with sudo, or as root")
        for exe, how in REQUIRED_BINARIES.items():
            if shutil.which(exe) is None:
                raise PrerequisiteError(f"{exe} is not installed", hint=f"{how}, or run `make up`")
        for exe in VENV_BINARIES:
            if not Path(sys.executable).with_name(exe).exists() and shutil.which(exe) is None:
                raise PrerequisiteError(f"{exe} is not installed in this environment",
                                        hint="pip install -e . (or run `make up`)")
        postgres.bin_dir()
        self.cgroups.check()

    def _check_ports(self, progs: list[Program]) -> None:
        for p in progs:
            if not p.address:
                continue
            host, port = p.address.rsplit(":", 1)
            if port_in_use(host, int(port)):
                raise PrerequisiteError(f"port {p.address} ({p.name}) is already in use",
                                        hint="stop what listens there, or run `chaosctl down` if it is an "
                                             "old stack")
        if port_in_use(config.TRAEFIK_METRICS.host, config.TRAEFIK_METRICS.port):
            raise PrerequisiteError(f"port {config.TRAEFIK_METRICS.address} (traefik metrics) is already in use",
                                    hint="stop what listens there")

    def _prepare(self, progs: list[Program]) -> None:
        s = self.settings

        ids = {u: ensure_user(u) for u in config.SERVICE_USERS}
        replica_users = [config.replica_user(i) for i in range(1, len(s.replica_names()) + 1)]
        gid = 0
        for user in [*config.SERVICE_USERS, *replica_users]:
            ensure_user(user)
            gid = ensure_group_member(user)
        # Only root and the stack's own users (group chaos) may enter the state folder; logs
        # and secrets are root's alone. Other local users cannot even list it.
        for d, mode in ((s.state_dir, 0o750), (s.run_dir, 0o750), (s.log_dir, 0o700), (s.data_dir, 0o750),
                        (s.disks_dir, 0o750), (s.config_dir, 0o750), (s.run_dir / "prom", 0o750)):
            d.mkdir(parents=True, exist_ok=True)
            os.chown(d, 0, gid)
            os.chmod(d, mode)
        credentials.secrets_dir(s)
        pg_socket = s.run_dir / "pg"
        pg_socket.mkdir(exist_ok=True)
        os.chown(pg_socket, *ids["chaosdb"])
        os.chmod(pg_socket, 0o700)
        for sub in ("prometheus", "alertmanager", "pager", "loadgen"):
            (s.data_dir / sub).mkdir(exist_ok=True)
            os.chown(s.data_dir / sub, *ids["chaossvc"])
        postgres.initdb(s.data_dir / "postgres", uid=ids["chaosdb"][0], gid=ids["chaosdb"][1])
        postgres.write_hba(s.data_dir / "postgres", uid=ids["chaosdb"][0], gid=ids["chaosdb"][1])
        for index, name in enumerate(s.replica_names(), start=1):
            uid, gid = ensure_user(config.replica_user(index))
            self.cgroups.create(name)
            self.set_limits(target=name, limits=DEFAULT_LIMITS)
            disks.mount(s.disk_path(name), size_mb=s.disk_mb, uid=uid, gid=gid, label=f"chaos-{name}")
            metrics = s.metrics_dir(name)
            metrics.mkdir(parents=True, exist_ok=True)
            os.chown(metrics, uid, gid)
        self._render_configs(progs)

    def _render_configs(self, progs: list[Program]) -> None:
        s = self.settings
        conf = s.config_dir
        replicas = [{"name": n, "address": f"{config.replica_address(i)}:{config.APP_PORT}"}
                    for i, n in enumerate(s.replica_names(), start=1)]
        render_to("stack/traefik/traefik.yml.j2", conf / "traefik.yml", mode=0o600,
                  web_address=config.TRAEFIK.address,
                  metrics_address=config.TRAEFIK_METRICS.address, dynamic_file=str(conf / "traefik-dynamic.yml"))
        render_to("stack/traefik/dynamic.yml.j2", conf / "traefik-dynamic.yml", mode=0o600,
                  replicas=replicas)
        render_to("stack/prometheus/prometheus.yml.j2", conf / "prometheus.yml", mode=0o600,
                  backend="local",
                  replicas=replicas, rules_dir=str(config.REPO_ROOT / "stack/prometheus/rules"),
                  traefik_metrics=config.TRAEFIK_METRICS.address,
                  postgres_exporter=config.POSTGRES_EXPORTER.address,
                  saturation_exporter=config.SATURATION_EXPORTER.address, alertmanager=config.ALERTMANAGER.address,
                  prometheus=config.PROMETHEUS.address, pager=config.PAGER.address)
        render_to("stack/alertmanager/alertmanager.yml.j2", conf / "alertmanager.yml", mode=0o600,
                  **alertmanager_context(config.PAGER.url))
        self._render_supervisor(progs)
        # Each rendered config is 0600 and owned by the one service that reads it: the
        # supervisor's holds Django's SECRET_KEY and the database passwords, Alertmanager's
        # the Slack and Discord webhook URLs.

        readers = {"traefik.yml": config.TRAEFIK.user, "traefik-dynamic.yml": config.TRAEFIK.user,
                   "prometheus.yml": "chaossvc", "alertmanager.yml": "chaossvc"}
        for name, user in readers.items():
            uid = uid_of(user)
            os.chown(conf / name, uid, pwd.getpwuid(uid).pw_gid)
            os.chmod(conf / name, 0o600)

    def _render_supervisor(self, progs: list[Program]) -> None:
        """supervisord's config (0600, root's: it holds the secrets); a roll re-renders it with a replica's release."""
        s = self.settings
        path = s.config_dir / "supervisord.conf"
        render_to("stack/native/supervisord.conf.j2", path, mode=0o600, run_dir=str(s.run_dir),
                  log_dir=str(s.log_dir), python=sys.executable, repo=str(config.REPO_ROOT),
                  programs=[p.supervisor_section(s) for p in progs])
        os.chown(path, 0, 0)
        os.chmod(path, 0o600)

    def _start_migrate(self, progs: list[Program]) -> subprocess.Popen:
        """Start `django migrate` in the background (the replicas boot meanwhile)."""
        app = next(p for p in progs if p.kind == "replica")
        env = config.environment(PYTHONPATH=str(config.REPO_ROOT), **app.env)
        try:
            return subprocess.Popen([sys.executable, "-m", "django", "migrate", "--noinput"], cwd=config.REPO_ROOT,
                                    env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        except OSError as e:
            raise ServiceError("migrate", f"could not start the database migrations: {e}") from e

    def _finish_migrate(self, proc: subprocess.Popen, *, timeout: float = 120.0) -> None:
        """Wait for the migrations; a failure names its output."""
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as e:
            proc.kill()
            out, err = proc.communicate()
            raise ServiceError("migrate", f"database migrations took over {timeout:.0f} s",
                               log_tail=(out or "")[-2000:] + (err or "")[-2000:]) from e
        if proc.returncode != 0:
            raise ServiceError("migrate", "database migrations failed", log_tail=out[-2000:] + err[-2000:])

