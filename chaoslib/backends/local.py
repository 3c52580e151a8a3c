"""The local backend: the whole stack as plain Linux processes under supervisord.

Each service runs as its own unprivileged user on its own loopback address; each app
replica has its own cgroup and its own size-limited tmpfs. Faults use the project's own
nftables table, cgroups and disks, so nothing else on the host is ever touched.
"""
from __future__ import annotations

import concurrent.futures
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from functools import cached_property
from pathlib import Path

from .. import config
from ..config import Settings
from ..errors import ChaosError, FaultError, NotSupported, PrerequisiteError, ServiceError, SweepError, UsageError
from ..native import credentials, disks, lockdown, netem, nft, owner, postgres
from ..native.cgroups import Cgroups
from ..native.health import port_in_use
from ..native.programs import Program, programs
from ..native.restarts import load as load_restarts
from ..native.supervisor import BACKOFF, FATAL, RUNNING, Supervisor
from ..native.netem import detect_netem, NetemShaper
from ..render import render_to
from .base import (DATABASE, LOAD_BALANCER, Backend, DiskUsage, Features, FileInfo, Limits, NetworkRule, Progress,
                   ServiceStatus, check_fraction, no_progress)

#: Healthy-stack limits of each replica.
DEFAULT_LIMITS = Limits(cpu=1.0, memory=512 * 1024 * 1024)
#: The extended attribute that marks junk a fault wrote (invisible to `ls` and `du`).

REQUIRED_BINARIES = {
    "prometheus": "apt-get install prometheus",
    "prometheus-alertmanager": "apt-get install prometheus-alertmanager",
    "prometheus-postgres-exporter": "apt-get install prometheus-postgres-exporter",
    "nft": "apt-get install nftables",
    "mount": "apt-get install mount",
    "runuser": "apt-get install util-linux",
}
VENV_BINARIES = ("gunicorn", "traefik", "supervisord", "locust")


class LocalBackend(Backend):
    """Native Linux processes: the embedded default."""

    name = "local"

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        stack = self._stack_file()
        if stack and settings is None:
            self.settings.replicas = len(stack.get("replicas", [])) or self.settings.replicas
            self.settings.disk_mb = stack.get("disk_mb", self.settings.disk_mb)
            self.settings.rps = stack.get("rps", self.settings.rps)
        self.cgroups = Cgroups()
        self.supervisor = Supervisor(self.settings.supervisor_socket, self.settings.config_dir / "supervisord.conf")

    # -- features -----------------------------------------------------------------
    @cached_property
    def features(self) -> Features:  # type: ignore[override]
        return Features(has_netem=detect_netem(), real_network=bool(shutil.which("nft")),
                        real_limits=Path("/sys/fs/cgroup/memory").exists(), disk_survives_restart=True,
                        needs_root=True, has_monitoring=True)

    # -- the stack file -------------------------------------------------------------
    def _stack_file(self) -> dict | None:
        try:
            return json.loads(self.settings.stack_file.read_text())
        except (FileNotFoundError, ValueError):
            return None

    def _programs(self) -> list[Program]:
        return programs(self.settings, secret_key=self._secret_key())

    def _secret_key(self) -> str:
        path = self.settings.state_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key)
        return key

    # -- preflight ------------------------------------------------------------------
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

    # -- lifecycle ------------------------------------------------------------------
    def is_up(self) -> bool:
        return self.supervisor.running()

    def up(self, *, replicas: int | None = None, progress: Progress = no_progress) -> None:
        if replicas is not None and not 1 <= replicas <= config.MAX_REPLICAS:
            raise UsageError(f"--replicas must be between 1 and {config.MAX_REPLICAS}, got {replicas}",
                             field="replicas", value=replicas)
        if self.is_up():
            current = self._stack_file() or {}
            have = len(current.get("replicas", []))
            if replicas is not None and have and replicas != have:
                raise UsageError(f"the stack is already up with {have} replicas",
                                 hint="run `chaosctl down` first to change the replica count")
            progress("the stack is already up: checking every service")
            self._start_and_wait([p for p in self._programs() if p.core], progress)
            return
        if replicas is not None:
            self.settings.replicas = replicas
        self.preflight()
        owner.claim(self.settings)
        progs = self._programs()
        self._check_ports(progs)
        t0 = time.monotonic()
        progress(f"preparing {self.settings.state_dir}")
        self._prepare(progs)
        lockdown.apply()
        progress("starting the supervisor")
        self.supervisor.start_daemon()
        self.supervisor.reload()
        db = next(p for p in progs if p.name == "postgres")
        self._start_and_wait([db], progress)
        postgres.bootstrap(self.settings.run_dir / "pg",
                           {role: credentials.password(self.settings, role) for role in credentials.ROLES})
        progress("applying database migrations")
        self._migrate(progs)
        self._write_stack_file()
        self._start_and_wait([p for p in progs if p.core and p.name != "postgres"], progress)
        progress(f"all {len([p for p in progs if p.core])} services healthy in {time.monotonic() - t0:.1f} s")

    def _prepare(self, progs: list[Program]) -> None:
        s = self.settings
        from ..native.users import ensure_group_member, ensure_user

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
                  **alertmanager_context())
        render_to("stack/native/supervisord.conf.j2", conf / "supervisord.conf", mode=0o600,
                  run_dir=str(s.run_dir),
                  log_dir=str(s.log_dir), python=sys.executable, repo=str(config.REPO_ROOT),
                  programs=[p.supervisor_section(s) for p in progs])
        # Each rendered config is 0600 and owned by the one service that reads it: the
        # supervisor's holds Django's SECRET_KEY and the database passwords, Alertmanager's
        # the Slack and Discord webhook URLs.
        from ..native.users import uid_of

        readers = {"traefik.yml": config.TRAEFIK.user, "traefik-dynamic.yml": config.TRAEFIK.user,
                   "prometheus.yml": "chaossvc", "alertmanager.yml": "chaossvc", "supervisord.conf": "root"}
        for name, user in readers.items():
            uid = uid_of(user)
            os.chown(conf / name, uid, pwd.getpwuid(uid).pw_gid)
            os.chmod(conf / name, 0o600)

    def _migrate(self, progs: list[Program]) -> None:
        app = next(p for p in progs if p.kind == "replica")
        env = {**os.environ, "PYTHONPATH": str(config.REPO_ROOT), **app.env}
        proc = subprocess.run([sys.executable, "-m", "django", "migrate", "--noinput"], cwd=config.REPO_ROOT,
                              env=env, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise ServiceError("migrate", "database migrations failed", log_tail=proc.stdout[-2000:] + proc.stderr[-2000:])

    def _write_stack_file(self) -> None:
        s = self.settings
        data = {"backend": self.name, "replicas": s.replica_names(), "disk_mb": s.disk_mb, "rps": s.rps,
                "started_at": time.time()}
        tmp = s.stack_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2))
        tmp.replace(s.stack_file)

    def _start_and_wait(self, progs: list[Program], progress: Progress, *, timeout: float = 90.0) -> None:
        """Start programs stage by stage and wait for each stage to be healthy."""
        for stage in sorted({p.stage for p in progs}):
            batch = [p for p in progs if p.stage == stage]
            for p in batch:
                info = self.supervisor.info(p.name)
                if info["statename"] not in (RUNNING, "STARTING", BACKOFF):
                    self.supervisor.start(p.name)
            self._wait_healthy(batch, progress, timeout=timeout)

    def _wait_healthy(self, batch: list[Program], progress: Progress, *, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = {p.name: p for p in batch}
        last_note = 0.0
        while pending:
            for name, p in list(pending.items()):
                info = self.supervisor.info(name)
                if info["statename"] == FATAL:
                    raise ServiceError(name, f"gave up starting: {info.get('spawnerr') or 'exited at once'}",
                                       log_tail=self.tail_log(service=name))
                if info["statename"] != RUNNING:
                    continue
                ok = True if p.probe is None else p.probe()[0]
                if ok:
                    del pending[name]
                    progress(f"  {name} healthy")
            if not pending:
                return
            now = time.monotonic()
            if now > deadline:
                name = sorted(pending)[0]
                p = pending[name]
                detail = p.probe()[1] if p.probe else self.supervisor.info(name)["statename"]
                raise ServiceError(name, f"not healthy after {timeout:.0f} s ({detail})",
                                   log_tail=self.tail_log(service=name))
            if now - last_note > 5:
                progress(f"  waiting for {', '.join(sorted(pending))}")
                last_note = now
            time.sleep(0.25)

    def down(self, *, purge: bool = False, progress: Progress = no_progress) -> None:
        s = self.settings
        if os.geteuid() != 0:
            raise PrerequisiteError("chaosctl down needs root", hint="run it with sudo, or as root")
        if self.supervisor.running():
            progress("stopping every service")
        from ..lab import stop_lab

        stop_lab(s)
        self.supervisor.shutdown()
        # The table and cgroups have fixed names: leave them to the stack of another state
        # folder that holds them and is still running.
        mine = owner.owns_host(s)
        for name in self.cgroups.groups() if mine else []:
            for pid in self.cgroups.pids(name):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if mine:
            self._kill_orphans()
        progress("removing firewall rules, disks and cgroups")
        if mine:
            nft.delete_table()
            lockdown.remove()
        self._clear_netem()
        for mp in disks.mounted_under(s.disks_dir) if s.disks_dir.exists() else []:
            disks.unmount(Path(mp))
        if mine:
            for name in self.cgroups.groups():
                self.cgroups.remove(name)
            self.cgroups.remove_parent_if_empty()
            owner.release(s)
        from ..registry import Registry

        Registry(s.faults_file).close_all(reason="stack down")
        # Restart counts belong to one run of the stack: the next `up` starts from zero.
        # So does Alertmanager's notification log: an alert left firing at `down` must page
        # again after the next `up`, not be taken for one already notified (repeat_interval 4h).
        for f in (s.stack_file, s.supervisor_socket, s.run_dir / "restarts.json", s.data_dir / "alertmanager" / "nflog"):
            f.unlink(missing_ok=True)
        if purge and s.state_dir.exists():
            progress(f"removing {s.state_dir}")
            shutil.rmtree(s.state_dir)

    def _kill_orphans(self) -> None:
        """Kill what outlived a dead supervisord: processes of the stack's users or naming its state folder."""
        from ..native.pids import stack_processes
        from ..native.users import uid_of

        uids = set()
        for user in [*config.SERVICE_USERS, *(config.replica_user(i) for i in range(1, config.MAX_REPLICAS + 1))]:
            try:
                uids.add(uid_of(user))
            except KeyError:
                pass
        for _ in range(3):  # a dying parent may still spawn once
            pids = stack_processes(uids, str(self.settings.state_dir))
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.3)

    # -- status ---------------------------------------------------------------------
    def targets(self) -> list[str]:
        stack = self._stack_file()
        return list(stack["replicas"]) if stack else self.settings.replica_names()

    def _check_target(self, target: str) -> str:
        if target not in self.targets():
            raise UsageError(f"unknown target {target!r}", field="target", value=target,
                             hint=f"targets are {', '.join(self.targets())}")
        return target

    def _check_service(self, name: str) -> Program:
        progs = {p.name: p for p in self._programs()}
        if name not in progs:
            raise UsageError(f"unknown service {name!r}: services are {', '.join(progs)}", field="target",
                             value=name, hint="see `chaosctl status`")
        return progs[name]

    def status(self) -> list[ServiceStatus]:
        if not self.supervisor.running():
            return []
        infos = {i["name"]: i for i in self.supervisor.info()}
        counts = load_restarts(self.settings.run_dir / "restarts.json")
        progs = [p for p in self._programs() if p.name in infos]

        def one(p: Program) -> ServiceStatus:
            info = infos[p.name]
            running = info["statename"] == RUNNING
            healthy, detail = (False, info.get("spawnerr") or info["statename"].lower())
            if running:
                healthy, detail = p.probe() if p.probe else (True, "running")
            st = ServiceStatus(name=p.name, kind=p.kind, state=info["statename"], address=p.address,
                               pid=info["pid"] or None, uptime_s=(info["now"] - info["start"]) if running else None,
                               restarts=int(counts.get(p.name, {}).get("restarts", 0)), healthy=healthy,
                               detail=detail)
            if p.kind == "replica":
                self._add_saturation(st)
            return st

        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            return list(pool.map(one, progs))

    def _add_saturation(self, st: ServiceStatus) -> None:
        if self.cgroups.exists(st.name):
            stats = self.cgroups.stats(st.name)
            st.cpu_seconds = round(stats.cpu_usage_seconds, 3)
            st.memory_bytes = stats.memory_working_set_bytes
            st.memory_limit_bytes = stats.memory_limit_bytes or None
            st.cpu_limit_cores = self.cgroups.get_cpu(st.name)
        disk = self.settings.disk_path(st.name)
        if disks.is_mounted(disk):
            u = disks.usage(disk)
            st.disk_used_bytes, st.disk_size_bytes = u.used_bytes, u.size_bytes

    # -- processes --------------------------------------------------------------------
    def restart(self, *, target: str) -> None:
        self._check_service(target)
        self.supervisor.restart(target)

    def stop(self, *, target: str) -> None:
        self._check_service(target)
        self.supervisor.stop(target)

    def ensure_running(self, *, target: str) -> None:
        self._check_service(target)
        state = self.supervisor.info(target)["statename"]
        if state == BACKOFF:
            # Waiting out a growing back-off delay: start now rather than in N seconds.
            self.supervisor.stop(target)
            state = "STOPPED"
        if state not in (RUNNING, "STARTING"):
            self.supervisor.start(target)

    def pid_of(self, *, target: str) -> int | None:
        self._check_service(target)
        return self.supervisor.info(target)["pid"] or None

    def kill(self, *, target: str, sig: int = signal.SIGKILL) -> None:
        """Send a signal to a service's main process (tests use it to simulate a crash)."""
        pid = self.pid_of(target=target)
        if pid:
            os.kill(pid, sig)

    # -- network ------------------------------------------------------------------------
    def _uid_of(self, source: str) -> int:
        from ..native.users import uid_of

        if source == LOAD_BALANCER:
            return uid_of(config.TRAEFIK.user)
        self._check_target(source)
        return uid_of(config.replica_user(config.replica_index(source)))

    def _destination(self, target: str) -> tuple[str, int]:
        if target == DATABASE:
            return config.POSTGRES.host, config.POSTGRES.port
        self._check_target(target)
        return config.replica_address(config.replica_index(target)), config.APP_PORT

    def drop_packets(self, *, key: str, source: str, target: str, fraction: float) -> None:
        fraction = check_fraction(fraction)
        uid = self._uid_of(source)
        daddr, dport = self._destination(target)
        nft.add_drop(key=key, daddr=daddr, dport=dport, uid=uid, percent=max(1, round(fraction * 100)))

    def delay_packets(self, *, key: str, source: str, target: str, delay_ms: int) -> None:
        if not self.features.has_netem:
            raise NotSupported("netem", self.name)
        uid = self._uid_of(source)
        daddr, dport = self._destination(target)
        NetemShaper(self.settings.run_dir / "netem.json").add(key=key, uid=uid, daddr=daddr, dport=dport,
                                                              delay_ms=int(delay_ms))

    def _clear_netem(self) -> None:
        NetemShaper(self.settings.run_dir / "netem.json").clear()

    def remove_network_rules(self, *, key: str) -> int:
        removed = nft.remove(key)
        removed += NetemShaper(self.settings.run_dir / "netem.json").remove(key)
        return removed

    def network_rules(self) -> list[NetworkRule]:
        from ..native.users import uid_of

        sources = {uid_of(config.TRAEFIK.user): LOAD_BALANCER}
        dests = {(config.POSTGRES.host, config.POSTGRES.port): DATABASE}
        for i, name in enumerate(self.targets(), start=1):
            try:
                sources[uid_of(config.replica_user(i))] = name
            except KeyError:
                pass
            dests[(config.replica_address(i), config.APP_PORT)] = name
        return [NetworkRule(key=r.key, source=sources.get(r.uid, str(r.uid)),
                            target=dests.get((r.daddr, r.dport), f"{r.daddr}:{r.dport}"),
                            fraction=r.percent / 100, extra={"packets_dropped": r.packets})
                for r in nft.rules()]

    # -- disk ---------------------------------------------------------------------------
    def _disk(self, target: str) -> Path:
        path = self.settings.disk_path(self._check_target(target))
        if not disks.is_mounted(path):
            raise FaultError(f"{target}'s disk is not mounted", hint="is the stack up? run `chaosctl up`")
        return path

    def disk_usage(self, *, target: str) -> DiskUsage:
        return disks.usage(self._disk(target))

    def write_file(self, *, target: str, path: str, size_bytes: int, tag: str = "") -> int:
        root = self._disk(target)
        return disks.write_junk(root, path, int(size_bytes), tag=tag)

    def list_files(self, *, target: str) -> list[FileInfo]:
        return disks.list_files(self._disk(target))

    def remove_file(self, *, target: str, path: str) -> bool:
        return disks.remove_file(self._disk(target), path)

    def _tagged_junk(self, target: str) -> list[str]:
        return disks.tagged_junk(self.settings.disk_path(target))

    # -- resources ----------------------------------------------------------------------
    def default_limits(self) -> Limits:
        return DEFAULT_LIMITS

    def get_limits(self, *, target: str) -> Limits:
        self._check_target(target)
        return Limits(cpu=self.cgroups.get_cpu(target), memory=self.cgroups.get_memory(target))

    def set_limits(self, *, target: str, limits: Limits) -> None:
        if target not in self.settings.replica_names():
            self._check_target(target)
        if limits.cpu is not None and not 0.001 <= limits.cpu <= os.cpu_count():
            raise UsageError(f"cpu limit must be between 0.001 and {os.cpu_count()} cores, got {limits.cpu}",
                             field="cpu", value=limits.cpu)
        if limits.memory is not None and not 4 * 1024 * 1024 <= limits.memory <= 64 * 1024 ** 3:
            raise UsageError(f"memory limit must be between 4 MiB and 64 GiB, got {limits.memory} bytes",
                             field="memory", value=limits.memory)
        try:
            self.cgroups.set_cpu(target, limits.cpu)
            self.cgroups.set_memory(target, limits.memory)
        except OSError as e:
            if e.errno == 16:  # EBUSY: below what the running process uses
                raise FaultError(f"cannot set {target}'s memory limit below what it uses now",
                                 hint="stop or restart the replica with the new limit") from e
            raise FaultError(f"cannot set limits of {target}: {e}") from e

    # -- logs -----------------------------------------------------------------------------
    def log_files(self) -> dict[str, list[Path]]:
        out: dict[str, list[Path]] = {}
        if not self.settings.log_dir.exists():
            return out
        for p in sorted(self.settings.log_dir.glob("*.log*")):
            service = p.name.split(".log")[0]
            out.setdefault(service, []).append(p)
        return out

    def vote_ledger(self) -> list[dict] | None:
        path = self.settings.data_dir / "loadgen" / "ledger.jsonl"
        try:
            lines = path.read_text().splitlines()
        except FileNotFoundError:
            return []
        out = []
        for line in lines:
            try:
                out.append(json.loads(line))
            except ValueError:  # a line cut by a crash of the load generator
                continue
        return out

    def tail_log(self, *, service: str, lines: int = 20) -> str:
        path = self.settings.log_dir / f"{service}.log"
        try:
            with open(path, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - 64 * 1024))
                return "\n".join(f.read().decode("utf-8", "replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    # -- safety -----------------------------------------------------------------------------
    def reset_faults(self) -> list[str]:
        """Sweep every trace a fault can leave, each step on its own; SweepError lists what failed."""
        done: list[str] = []
        failures: list[str] = []

        def step(what: str, action) -> None:
            try:
                action()
            except (ChaosError, OSError, subprocess.SubprocessError) as e:
                failures.append(f"{what}: {e.one_line() if isinstance(e, ChaosError) else e}")

        if not owner.owns_host(self.settings):
            return [f"left the host's firewall and cgroups alone: they belong to the running stack in {owner.owner()}"]

        def table() -> None:
            if nft.delete_table():
                done.append("removed the nftables table inet chaos")

        def shaper() -> None:
            if NetemShaper(self.settings.run_dir / "netem.json").clear():
                done.append("removed the netem shaper")

        step("the nftables table inet chaos", table)
        step("the netem shaper", shaper)
        supervised = self.supervisor.running()
        for name in self.targets():
            def limits(name: str = name) -> None:
                if self.cgroups.exists(name) and self.get_limits(target=name) != DEFAULT_LIMITS:
                    self.set_limits(target=name, limits=DEFAULT_LIMITS)
                    done.append(f"reset {name}'s limits")

            def junk(name: str = name) -> None:
                if disks.is_mounted(self.settings.disk_path(name)):
                    for path in self._tagged_junk(name):
                        self.remove_file(target=name, path=path)
                        done.append(f"removed {name}:{path}")

            def running(name: str = name) -> None:
                if supervised:
                    self.ensure_running(target=name)
                elif self._stack_file() is not None and self.cgroups.exists(name) and self.cgroups.pids(name):
                    # The replica outlived its supervisor: it runs unsupervised, maybe as the fault left it.
                    # (A stack that crashed whole has nothing running to fix: its next `up` starts it all.)
                    raise ServiceError(name, "cannot be restarted: supervisord is not running")

            step(f"{name}'s limits", limits)
            step(f"{name}'s junk", junk)
            step(f"{name} running", running)
        if failures:
            raise SweepError(done, failures)
        return done

    def fault_footprint(self) -> dict:
        limits = {n: self.get_limits(target=n) for n in self.targets() if self.cgroups.exists(n)}
        disk = {}
        for n in self.targets():
            if disks.is_mounted(self.settings.disk_path(n)):
                disk[n] = sorted(f.path for f in self.list_files(target=n) if not config.is_app_file(f.path))
        return {
            # Counters move with traffic: the rules, not their packet counts, are the footprint
            # (the chaos table, and the latency fault's chaos_netem table).
            "ruleset": re.sub(r"counter packets \d+ bytes \d+", "counter", nft.ruleset()),
            "qdisc_lo": netem.qdiscs("lo"),
            "limits": {n: (lim.cpu, lim.memory) for n, lim in limits.items()},
            "disk_files": disk,
            "mounts": disks.mounted_under(self.settings.state_dir) if self.settings.state_dir.exists() else [],
            "cgroups": self.cgroups.groups(),
            "junk": {n: self._tagged_junk(n) for n in disk},
        }


def alertmanager_context() -> dict:
    """Template values for Alertmanager: the pager, and Slack/Discord only when configured."""
    return {
        "pager_url": f"{config.PAGER.url}/pages",
        "tickets_url": f"{config.PAGER.url}/tickets",
        "slack_webhook_url": os.environ.get("SLACK_WEBHOOK_URL", ""),
        "slack_channel": os.environ.get("SLACK_CHANNEL", ""),
        "discord_webhook_url": os.environ.get("DISCORD_WEBHOOK_URL", ""),
    }
