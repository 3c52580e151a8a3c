"""Starting and stopping the native stack under supervisord, and restarting its services."""
from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

from chaoslib import config
from chaoslib.backends.base import Progress, no_progress
from chaoslib.backends.local.network import LocalNetwork
from chaoslib.backends.local.releases import LocalReleases
from chaoslib.engine.registry import Registry
from chaoslib.errors import PrerequisiteError, ServiceError, UsageError
from chaoslib.kernel import disks, nft, pageout
from chaoslib.native import credentials, lockdown, owner, postgres
from chaoslib.native.pids import stack_processes
from chaoslib.native.programs import Program
from chaoslib.native.supervisor import BACKOFF, FATAL, RUNNING, STARTING
from chaoslib.native.users import uid_of
from chaoslib.services.lab import stop_lab


class LocalLifecycle(LocalReleases, LocalNetwork):
    """up, down, and the processes of the services (restart, stop, start, pid, kill)."""

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
        core = [p for p in progs if p.core]
        db = next(p for p in core if p.name == "postgres")
        # What needs nothing starts with the database, and is waited for later (issue #15:
        # warm start-up in 8 s at most, not stage after stage).
        self._start([p for p in core if p.stage <= 1])
        self._wait_healthy([db], progress, timeout=90.0)
        postgres.bootstrap(self.settings.run_dir / "pg",
                           {role: credentials.password(self.settings, role) for role in credentials.ROLES})
        progress("applying database migrations")
        # The replicas boot (Python and Django imports) while the migrations run; they pass
        # their health check only once the schema is there.
        migrate = self._start_migrate(progs)
        self._start([p for p in core if p.stage == 2])
        self._finish_migrate(migrate)
        self._write_stack_file()
        self._start_and_wait([p for p in core if p.name != "postgres"], progress)
        progress(f"all {len([p for p in progs if p.core])} services healthy in {time.monotonic() - t0:.1f} s")
        self._page_out_start_up([p for p in core if p.cold_binary], progress)

    def _page_out_start_up(self, progs: list[Program], progress: Progress) -> None:
        """Reclaim the binary pages the Go services touched only while starting (kernel.pageout)."""
        freed = {p.name: pageout.page_out(int(self.supervisor.info(p.name)["pid"])) for p in progs}
        if any(freed.values()):
            progress(f"paged out {sum(freed.values()) / 1024:.0f} MiB of binary pages used only at start-up "
                     f"({', '.join(f'{n} {kib / 1024:.0f}' for n, kib in freed.items() if kib)})")

    def _start(self, progs: list[Program]) -> None:
        """Start each program that is not already running or starting (no waiting)."""
        for p in progs:
            info = self.supervisor.info(p.name)
            if info["statename"] not in (RUNNING, STARTING, BACKOFF):
                self.supervisor.start(p.name)

    def _start_and_wait(self, progs: list[Program], progress: Progress, *, timeout: float = 90.0) -> None:
        """Start programs stage by stage and wait for each stage to be healthy."""
        for stage in sorted({p.stage for p in progs}):
            batch = [p for p in progs if p.stage == stage]
            self._start(batch)
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
                # A program with a health check counts once the check passes, even inside
                # supervisord's startsecs (still STARTING); one without needs RUNNING.
                if info["statename"] != RUNNING and (p.probe is None or info["statename"] != STARTING):
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
            time.sleep(0.1)

    def down(self, *, purge: bool = False, progress: Progress = no_progress) -> None:
        s = self.settings
        if os.geteuid() != 0:
            raise PrerequisiteError("chaosctl down needs root", hint="run it with sudo, or as root")
        if self.supervisor.running():
            progress("stopping every service")

        stop_lab(s)
        for key in self.db_holders() if self.supervisor.running() else []:
            self.stop_db_holder(key=key)  # a fault's database client outlives no stack
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

        Registry(s.faults_file).close_all(reason="stack down")
        # Restart counts belong to one run of the stack: the next `up` starts from zero, and so do
        # the replicas' releases (the next `up` deploys releases.CURRENT everywhere).
        # So does Alertmanager's notification log: an alert left firing at `down` must page
        # again after the next `up`, not be taken for one already notified (repeat_interval 4h).
        for f in (s.stack_file, s.supervisor_socket, s.run_dir / "restarts.json", self._release_file(),
                  s.data_dir / "alertmanager" / "nflog"):
            f.unlink(missing_ok=True)
        if purge and s.state_dir.exists():
            progress(f"removing {s.state_dir}")
            shutil.rmtree(s.state_dir)

    def _kill_orphans(self) -> None:
        """Kill what outlived a dead supervisord: processes of the stack's users or naming its state folder."""
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
