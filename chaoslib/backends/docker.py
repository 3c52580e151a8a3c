"""The docker backend: the stack as Docker Compose containers, faults through the Engine API only.

Containers are found by their compose labels (project `chaos-control`, or
$CHAOSCTL_COMPOSE_PROJECT): the replicas are the services app1, app2, ...; the database
is `postgres`; the load balancer is `traefik`.

- Network faults run the native backend's nftables rules (chaoslib.native.nft builds the
  text) in the project's own table `inet chaos`, inside a container's network namespace,
  from a short-lived helper container (`network_mode=container:<id>`, NET_ADMIN, labelled
  `chaos-control.helper=1`, removed once it exits). A rule lives on the side that is not
  the fault's target, so restarting the target does not undo it: load balancer -> replica
  rules in the load balancer's namespace (output chain, by destination address), replica
  -> database rules in the database's namespace (input chain, by source address).
- Disks: a replica's /data is a size-limited tmpfs; junk is written, listed and removed
  with `exec` in the replica (the image ships chaoslib.native.disks, the same code the
  native backend uses), tagged with the same user xattr. Docker recreates a tmpfs when a
  container starts: unlike the native disks, a restart empties it.
- Limits: `POST /containers/{id}/update` (CPU quota/period, or NanoCpus when the
  container was created with `cpus:`, and memory); the healthy-stack values come from the
  labels `chaos-control.limits.cpu` / `chaos-control.limits.memory` on each replica,
  else the native defaults (1 core, 512 MiB).
- Logs: from the Engine API (`container.logs()`); `log_files()` exports them to files
  under the state directory so the same DuckDB search serves both backends.
"""
from __future__ import annotations

import concurrent.futures
import json
import math
import os
import posixpath
import re
import shutil
import subprocess
import time
from datetime import datetime
from functools import cached_property
from pathlib import Path

from .. import config
from ..config import Settings
from ..errors import ChaosError, FaultError, NotSupported, ObserveError, PrerequisiteError, ServiceError, UsageError
from ..native import nft
from ..native.netem import MARK_BASE
from .base import (DATABASE, LOAD_BALANCER, Backend, DiskUsage, Features, FileInfo, Limits, NetworkRule, Progress,
                   ServiceStatus, check_fraction, no_progress)

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
NUMBER_LABEL = "com.docker.compose.container-number"
HELPER_LABEL = "chaos-control.helper"
HELPER_PROJECT_LABEL = "chaos-control.project"
CPU_LABEL = "chaos-control.limits.cpu"
MEMORY_LABEL = "chaos-control.limits.memory"

DEFAULT_PROJECT = "chaos-control"
DEFAULT_HELPER_IMAGE = "chaos-control-helper:local"  # as docker-compose.yml tags it
#: Healthy-stack limits of a replica when its labels do not say (the native backend's).
DEFAULT_LIMITS = Limits(cpu=1.0, memory=512 * 1024 * 1024)
#: The latency shaper's own table and packet mark (as the native shaper's).
NETEM_TABLE = "chaos_netem"
NETEM_MARK = MARK_BASE + 1
PROXY = "traefik"
POSTGRES_PORT = 5432
#: Docker refuses memory limits under 6 MiB.
MIN_MEMORY = 6 * 1024 * 1024
MAX_MEMORY = 64 * 1024 ** 3
CPU_PERIOD = 100_000  # microseconds
MIN_CPU_QUOTA = 1_000
#: A helper must finish within this many seconds.
HELPER_TIMEOUT = 60
#: Seconds a disk operation by exec in a replica may take before it is killed.
EXEC_TIMEOUT = 30

_KINDS = {"postgres": "database", "traefik": "proxy", "prometheus": "monitoring", "alertmanager": "monitoring",
          "grafana": "monitoring", "cadvisor": "monitoring", "postgres-exporter": "monitoring",
          "elasticsearch": "monitoring", "kibana": "monitoring", "filebeat": "monitoring", "pager": "monitoring",
          "locust": "load", "loadgen": "load"}
_REPLICA = re.compile(r"^app(\d+)$")

# Run inside a replica (python3 -c SCRIPT OP ROOT ARGS...): the native disk code on its /data.
_DISK_SCRIPT = r"""
import json, os, sys
from pathlib import Path
op, root = sys.argv[1], Path(sys.argv[2])
try:
    from chaoslib.native import disks
    if op == "usage":
        u = disks.usage(root)
        res = [u.used_bytes, u.size_bytes]
    elif op == "write":
        res = disks.write_junk(root, sys.argv[3], int(sys.argv[4]), tag=sys.argv[5])
    elif op == "list":
        res = [[f.path, f.size_bytes, f.mtime] for f in disks.list_files(root)]
    elif op == "remove":
        res = disks.remove_file(root, sys.argv[3])
    elif op == "tagged":
        res = disks.tagged_junk(root)
    elif op == "clean":
        res = disks.tagged_junk(root)
        for p in res:
            disks.remove_file(root, p)
    else:
        raise SystemExit("unknown op " + op)
    print(json.dumps({"ok": res}))
except Exception as e:
    print(json.dumps({"error": str(e), "type": type(e).__name__}))
"""


def _docker():
    try:
        import docker  # noqa: F401
    except ImportError as e:  # pragma: no cover - docker is a dependency
        raise PrerequisiteError("the docker SDK is not installed", hint="pip install docker") from e
    return docker


def _engine_address() -> str:
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def _parse_time(value: str) -> float | None:
    """Seconds since the epoch from Docker's RFC 3339 nanosecond timestamps."""
    if not value or value.startswith("0001-"):
        return None
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?", value)
    if not m:
        return None
    frac = float(m.group(2)[:7]) if m.group(2) else 0.0
    tz = m.group(3) or "Z"
    dt = datetime.fromisoformat(m.group(1) + ("+00:00" if tz == "Z" else tz))
    return dt.timestamp() + frac


def _check_path(rel: str) -> str:
    """A path relative to the disk that stays inside it (the same rule as native disks)."""
    if not rel or rel.startswith("/") or ".." in posixpath.normpath(rel).split("/") or ".." in rel.split("/"):
        raise UsageError(f"path must be relative to the disk and stay inside it: {rel!r}", field="path", value=rel)
    return rel


class DockerBackend(Backend):
    """Docker Engine API via the docker SDK (Gitpod, laptops)."""

    name = "docker"

    def __init__(self, settings: Settings | None = None, *, project: str | None = None,
                 helper_image: str | None = None, client=None) -> None:
        self.settings = settings or Settings()
        self.project = project or os.environ.get("CHAOSCTL_COMPOSE_PROJECT") or DEFAULT_PROJECT
        self.helper_image = helper_image or os.environ.get("CHAOSCTL_HELPER_IMAGE") or DEFAULT_HELPER_IMAGE
        self._client = client

    # -- the engine -------------------------------------------------------------------
    @property
    def client(self):
        """The Engine API client; a one-line PrerequisiteError when no engine answers."""
        if self._client is None:
            docker = _docker()
            try:
                client = docker.from_env(timeout=120)
                client.ping()
            except docker.errors.DockerException as e:
                raise PrerequisiteError(f"no Docker Engine answers at {_engine_address()}",
                                        hint="start Docker (dockerd), or set DOCKER_HOST") from e
            self._client = client
        return self._client

    def _api_error(self, what: str, e: Exception) -> ChaosError:
        docker = _docker()
        explanation = getattr(e, "explanation", None) or str(e)
        if isinstance(e, docker.errors.NotFound):
            return ServiceError(what, f"not found: {explanation}", hint="is the stack up? see `chaosctl status`")
        return FaultError(f"{what}: the Docker Engine refused: {explanation}")

    # -- containers of the project ---------------------------------------------------
    def _containers(self, *, running_only: bool = False) -> dict[str, object]:
        """Project containers by compose service name (the first container of each service)."""
        docker = _docker()
        try:
            found = self.client.containers.list(all=not running_only, ignore_removed=True,
                                                filters={"label": f"{PROJECT_LABEL}={self.project}"})
        except docker.errors.DockerException as e:
            raise self._api_error("listing containers", e) from e
        out: dict[str, object] = {}
        for c in sorted(found, key=lambda c: int(c.labels.get(NUMBER_LABEL, "1") or 1)):
            service = c.labels.get(SERVICE_LABEL)
            if service and service not in out:
                out[service] = c
        return out

    def _container(self, service: str):
        containers = self._containers()
        if service not in containers:
            known = ", ".join(sorted(containers)) or "none (is the stack up?)"
            raise UsageError(f"unknown service {service!r}: services are {known}", field="target", value=service,
                             hint=f"targets are {', '.join(self.targets())}" if containers else "")
        return containers[service]

    def _replica(self, target: str):
        if target not in self.targets():
            raise UsageError(f"unknown target {target!r}", field="target", value=target,
                             hint=f"targets are {', '.join(self.targets())}")
        return self._container(target)

    @staticmethod
    def _kind(service: str) -> str:
        return "replica" if _REPLICA.match(service) else _KINDS.get(service, "control")

    @staticmethod
    def _networks(container) -> dict[str, str]:
        nets = container.attrs.get("NetworkSettings", {}).get("Networks") or {}
        out = {}
        for name, n in nets.items():
            # A stopped container has no address, except a fixed one (compose's ipv4_address).
            ip = n.get("IPAddress") or (n.get("IPAMConfig") or {}).get("IPv4Address")
            if ip:
                out[name] = ip
        return out

    def _ip(self, container, peer=None) -> str:
        """The container's address on a network it shares with `peer` (else its first one)."""
        own = self._networks(container)
        if peer is not None:
            shared = [n for n in own if n in self._networks(peer)]
            if shared:
                return own[sorted(shared)[0]]
        if not own:
            raise FaultError(f"{container.labels.get(SERVICE_LABEL, container.name)} has no network address",
                             hint="is it running?")
        return own[sorted(own)[0]]

    # -- features ---------------------------------------------------------------------
    @cached_property
    def features(self) -> Features:  # type: ignore[override]
        return Features(has_netem=self._probe_netem(), real_network=True, real_limits=True,
                        disk_survives_restart=True, needs_root=False, has_monitoring=True)

    def _probe_netem(self) -> bool:
        """Can this kernel attach a netem qdisc? Asked from a helper in a throwaway namespace."""
        try:
            out = self._helper(None, "tc qdisc add dev lo root netem delay 1ms 2>/dev/null && echo yes || echo no")
        except ChaosError:
            return False
        return out.strip() == "yes"

    # -- helpers: short-lived containers in a target's network namespace -----------------
    def _start_helper(self, image: str, command: list[str], **kwargs):
        """Create and start a helper; one that cannot start (its target is restarting, say) is
        removed at once rather than left behind in the `created` state."""
        kwargs.pop("detach", None)
        helper = self.client.containers.create(image, command, **kwargs)
        try:
            helper.start()
        except BaseException:
            try:
                helper.remove(force=True)
            except _docker().errors.DockerException:
                pass  # reset_faults sweeps leftovers by label
            raise
        return helper

    def _helper(self, container, script: str, *, env: dict | None = None) -> str:
        """Run `sh -c script` in a helper in `container`'s network namespace; its stdout."""
        docker = _docker()
        where = container.labels.get(SERVICE_LABEL, container.name) if container is not None else "a sandbox"
        try:
            helper = self._start_helper(
                self.helper_image, ["sh", "-c", script], detach=True, environment=env or {},
                network_mode=f"container:{container.id}" if container is not None else "none",
                cap_add=["NET_ADMIN"], labels={HELPER_LABEL: "1", HELPER_PROJECT_LABEL: self.project})
        except docker.errors.ImageNotFound as e:
            raise PrerequisiteError(f"the helper image {self.helper_image} is not there",
                                    hint="docker compose --profile tools build helper "
                                         "(or set CHAOSCTL_HELPER_IMAGE)") from e
        except docker.errors.DockerException as e:
            raise FaultError(f"cannot start a network helper in {where}: "
                             f"{getattr(e, 'explanation', None) or e}", hint="is it running?") from e
        try:
            result = helper.wait(timeout=HELPER_TIMEOUT)
            out = helper.logs(stdout=True, stderr=False).decode("utf-8", "replace")
            err = helper.logs(stdout=False, stderr=True).decode("utf-8", "replace")
        except Exception as e:  # requests' timeout or an engine error
            raise FaultError(f"the network helper in {where} did not finish: {e}") from e
        finally:
            try:
                helper.remove(force=True)
            except docker.errors.DockerException:
                pass  # reset_faults sweeps leftovers by label
        if result.get("StatusCode", 1) != 0:
            lines = [ln for ln in err.splitlines() if "managed by iptables-nft" not in ln and "XT target" not in ln]
            raise FaultError(f"nft in {where}'s network namespace failed: {' '.join(lines).strip() or out.strip()}")
        return out

    def _sweep_helper(self, holder, script: str) -> str:
        """A helper in a namespace that may be going away (a crash-looping replica): a
        container that is not running has no rules (its next start gets a new namespace)."""
        try:
            return self._helper(holder, script)
        except FaultError:
            try:
                holder.reload()
            except _docker().errors.NotFound:
                return ""
            if holder.attrs.get("State", {}).get("Status") != "running" or _REPLICA.match(
                    holder.labels.get(SERVICE_LABEL, "")):
                return ""
            raise

    def _helpers(self) -> list:
        return self.client.containers.list(all=True, ignore_removed=True, filters={"label": f"{HELPER_LABEL}=1"})

    # -- lifecycle ------------------------------------------------------------------------
    def _compose(self, *args: str, progress: Progress) -> None:
        exe = shutil.which("docker")
        ok = exe and subprocess.run([exe, "compose", "version"], capture_output=True).returncode == 0
        if not ok:
            err = NotSupported("docker compose", self.name)
            err.hint = ("install the Docker Compose plugin (docker-compose-plugin / docker-compose-v2), "
                        "or use the native backend: `chaosctl up`")
            raise err
        cmd = [exe, "compose", "-p", self.project, "-f", str(config.REPO_ROOT / "docker-compose.yml"), *args]
        progress("$ " + " ".join(cmd[1:]))
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                cwd=config.REPO_ROOT)
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
        self._compose("up", "-d", "--wait", progress=progress)

    def down(self, *, purge: bool = False, progress: Progress = no_progress) -> None:
        self.client  # noqa: B018
        for h in self._helpers():
            h.remove(force=True)
        self._compose("down", *(["-v"] if purge else []), progress=progress)

    def is_up(self) -> bool:
        return bool(self._containers(running_only=True))

    def targets(self) -> list[str]:
        names = [s for s in self._containers() if _REPLICA.match(s)]
        return sorted(names, key=lambda s: int(_REPLICA.match(s).group(1)))

    def status(self) -> list[ServiceStatus]:
        containers = self._containers()
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            return list(pool.map(lambda item: self._status_of(*item), sorted(containers.items())))

    def _status_of(self, service: str, c) -> ServiceStatus:
        state = c.attrs.get("State", {})
        running = bool(state.get("Running"))
        health = (state.get("Health") or {}).get("Status")
        healthy = running and (health in (None, "healthy"))
        if health:
            log = (state.get("Health") or {}).get("Log") or []
            last = log[-1].get("Output", "").strip()[:120] if log else ""
            detail = health if health == "healthy" or not last else f"{health}: {last}"
        else:
            detail = state.get("Status", "")
        if state.get("OOMKilled"):
            detail += " (OOM killed)"
        ports = list((c.attrs.get("Config", {}).get("ExposedPorts") or {}))
        address = ""
        nets = self._networks(c)
        if nets:
            ip = nets[sorted(nets)[0]]
            address = f"{ip}:{ports[0].split('/')[0]}" if ports else ip
        started = _parse_time(state.get("StartedAt", ""))
        st = ServiceStatus(name=service, kind=self._kind(service), state=str(state.get("Status", "")).upper(),
                           address=address, pid=state.get("Pid") or None,
                           uptime_s=(time.time() - started) if running and started else None,
                           restarts=int(c.attrs.get("RestartCount", 0)), healthy=healthy, detail=detail)
        if st.kind == "replica":
            self._add_saturation(st, c)
        return st

    def _add_saturation(self, st: ServiceStatus, c) -> None:
        lim = self._limits_of(c)
        st.cpu_limit_cores, st.memory_limit_bytes = lim.cpu, lim.memory
        if not c.attrs.get("State", {}).get("Running"):
            return
        docker = _docker()
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

    # -- processes ----------------------------------------------------------------------
    def restart(self, *, target: str) -> None:
        c = self._container(target)
        try:
            c.restart(timeout=10)
        except _docker().errors.DockerException as e:
            raise self._api_error(target, e) from e

    def stop(self, *, target: str) -> None:
        c = self._container(target)
        try:
            c.stop(timeout=10)
        except _docker().errors.DockerException as e:
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
        except _docker().errors.DockerException as e:
            raise self._api_error(target, e) from e

    def pid_of(self, *, target: str) -> int | None:
        state = self._container(target).attrs.get("State", {})
        return (state.get("Pid") or None) if state.get("Running") else None

    def kill(self, *, target: str, sig: int = 9) -> None:
        """Send a signal to a service's main process (tests use it to simulate a crash)."""
        try:
            self._container(target).kill(signal=sig)
        except _docker().errors.DockerException as e:
            raise self._api_error(target, e) from e

    # -- network ------------------------------------------------------------------------
    def _placement(self, source: str, target: str):
        """Where a source->target rule lives: (holder container, chain, match fields, dport)."""
        containers = self._containers()
        proxy = containers.get(PROXY)
        db = containers.get(DATABASE)
        if source == LOAD_BALANCER:
            if proxy is None:
                raise FaultError("no load balancer container (service traefik) in the project",
                                 hint="is the stack up? see `chaosctl status`")
            if target == DATABASE:
                if db is None:
                    raise FaultError("no database container (service postgres) in the project")
                return proxy, "output", {"daddr": self._ip(db, proxy), "dport": POSTGRES_PORT}
            dest = self._replica(target)
            return proxy, "output", {"daddr": self._ip(dest, proxy), "dport": config.APP_PORT}
        src = self._replica(source)
        if target == DATABASE:
            if db is None:
                raise FaultError("no database container (service postgres) in the project")
            return db, "input", {"saddr": self._ip(src, db), "dport": POSTGRES_PORT}
        dest = self._replica(target)
        return src, "output", {"daddr": self._ip(dest, src), "dport": config.APP_PORT}

    def drop_packets(self, *, key: str, source: str, target: str, fraction: float) -> None:
        fraction = check_fraction(fraction)
        holder, chain, match = self._placement(source, target)
        args = nft.drop_rule_args(key=key, chain=chain, percent=max(1, round(fraction * 100)), **match)
        script = nft.table_script(("input", "output")) + " ".join(args) + "\n"
        self._helper(holder, 'printf "%s" "$NFT_SCRIPT" | nft -f -', env={"NFT_SCRIPT": script})

    def delay_packets(self, *, key: str, source: str, target: str, delay_ms: int) -> None:
        """Latency as the native shaper does it, in the source's namespace: nft marks the
        packets (table inet chaos_netem, the rule tagged with the key), a prio qdisc sends the
        marked ones to a netem band on eth0. One latency fault per namespace at a time."""
        if not self.features.has_netem:
            raise NotSupported("netem", self.name)
        if not 1 <= int(delay_ms) <= 60_000:
            raise UsageError(f"delay must be between 1 and 60000 ms, got {delay_ms}", field="delay_ms",
                             value=delay_ms)
        holder, chain, match = self._placement(source, target)
        if chain != "output":  # replica -> database: delay the replica's own packets instead
            holder = self._replica(source)
            match = {"daddr": self._ip(self._containers()[DATABASE], holder), "dport": POSTGRES_PORT}
        key = nft._sanitize_key(key)
        words = " ".join(nft.drop_match(**match))
        mark = NETEM_MARK
        script = "\n".join([
            f"nft list table inet {NETEM_TABLE} >/dev/null 2>&1 && {{ echo busy; exit 3; }}",
            "set -e",
            "tc qdisc add dev eth0 root handle 1: prio bands 4 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1",
            f"tc qdisc add dev eth0 parent 1:4 handle 40: netem delay {int(delay_ms)}ms",
            f"tc filter add dev eth0 parent 1: protocol ip handle {mark} fw flowid 1:4",
            f"nft add table inet {NETEM_TABLE}",
            f"nft add chain inet {NETEM_TABLE} output '{{ type filter hook output priority -1; }}'",
            f"nft add rule inet {NETEM_TABLE} output {words} meta mark set {mark} comment '\"{key}\"'",
        ])
        try:
            self._helper(holder, script)
        except FaultError as e:
            if "busy" in str(e):  # another fault's shaper: leave it alone
                raise FaultError("only one latency fault at a time per source",
                                 hint="heal the other one first") from e
            self._helper(holder, self._NETEM_CLEAR)
            raise

    _NETEM_CLEAR = (f"had=0; nft delete table inet {NETEM_TABLE} 2>/dev/null && had=1; "
                    "tc qdisc del dev eth0 root 2>/dev/null; [ $had = 1 ] && echo gone || true")

    def _holders(self) -> list:
        """Running containers whose network namespace may hold the project's rules."""
        containers = self._containers(running_only=True)
        return [c for s, c in sorted(containers.items()) if s in (PROXY, DATABASE) or _REPLICA.match(s)]

    def _parallel(self, fn, items: list) -> list:
        if not items:
            return []
        with concurrent.futures.ThreadPoolExecutor(max_workers=min(6, len(items))) as pool:
            return list(pool.map(fn, items))

    def _table_json(self, holder) -> dict:
        out = self._sweep_helper(holder, f"nft -j list table {nft.FAMILY} {nft.TABLE} 2>/dev/null || true")
        return json.loads(out) if out.strip() else {}

    def _rules_by_holder(self) -> list[tuple[object, list[nft.Rule]]]:
        holders = self._holders()
        tables = self._parallel(self._table_json, holders)
        return [(h, nft.parse_rules(t)) for h, t in zip(holders, tables)]

    def remove_network_rules(self, *, key: str) -> int:
        removed = 0
        for holder, rules in self._rules_by_holder():
            gone = [r for r in rules if nft.matches_key(r.key, key)]
            if not gone:
                continue
            lines = [f"delete rule {nft.FAMILY} {nft.TABLE} {r.chain} handle {r.handle}" for r in gone]
            if len(gone) == len(rules):
                lines.append(f"delete table {nft.FAMILY} {nft.TABLE}")
            self._helper(holder, 'printf "%s" "$NFT_SCRIPT" | nft -f -', env={"NFT_SCRIPT": "\n".join(lines) + "\n"})
            removed += len(gone)
        return removed + self._remove_netem(key)

    def _remove_netem(self, key: str) -> int:
        if not self.features.has_netem:
            return 0
        removed = 0
        for holder in self._holders():
            out = self._sweep_helper(holder, f"nft -j list table inet {NETEM_TABLE} 2>/dev/null || true")
            rules = nft.parse_rules(json.loads(out)) if out.strip() else []
            if any(nft.matches_key(r.key, key) for r in rules):
                self._helper(holder, self._NETEM_CLEAR)
                removed += 1
        return removed

    def network_rules(self) -> list[NetworkRule]:
        containers = self._containers(running_only=True)
        by_ip: dict[str, str] = {}
        for service, c in containers.items():
            for ip in self._networks(c).values():
                by_ip[ip] = service

        def name(service: str) -> str:
            return LOAD_BALANCER if service == PROXY else service

        out = []
        for holder, rules in self._rules_by_holder():
            here = holder.labels.get(SERVICE_LABEL, holder.name)
            for r in rules:
                source = name(by_ip.get(r.saddr, r.saddr)) if r.saddr else name(here)
                target = name(by_ip.get(r.daddr, r.daddr)) if r.daddr else name(here)
                out.append(NetworkRule(key=r.key, source=source, target=target, fraction=r.percent / 100,
                                       extra={"packets_dropped": r.packets, "namespace": here, "chain": r.chain}))
        return out

    # -- disk ---------------------------------------------------------------------------
    def _data_dir(self, c) -> str:
        for item in c.attrs.get("Config", {}).get("Env") or []:
            if item.startswith("DATA_DIR="):
                return item.split("=", 1)[1]
        return "/data"

    def _disk_volume(self, c) -> str | None:
        """The named volume mounted at the replica's data dir, if its disk is one (else None)."""
        where = self._data_dir(c)
        for m in c.attrs.get("Mounts") or []:
            if m.get("Type") == "volume" and m.get("Destination") == where:
                return m.get("Name")
        return None

    def _disk(self, target: str, op: str, *args: str):
        """Run a disk operation on a replica's /data. A disk that is a volume (kept mounted by
        another container, as docker-compose.yml does) is reached from outside, by a short-lived
        container of the replica's own image with its volumes: that works while the replica is
        down, crash-looping or starved by a 1 % CPU quota (an exec there can take minutes). A
        plain tmpfs mount exists only inside the running replica: by exec, with a time limit."""
        c = self._replica(target)
        docker = _docker()
        argv = [op, self._data_dir(c), *args]
        if self._disk_volume(c) is not None:
            code, out = 0, self._disk_helper(c, argv)
        else:
            if not c.attrs.get("State", {}).get("Running"):
                raise FaultError(f"{target} is not running: its disk (a tmpfs) exists only while it runs",
                                 hint=f"start it first (restart {target})")
            try:
                code, out = c.exec_run(["timeout", "-k", "5", str(EXEC_TIMEOUT), "python3", "-c", _DISK_SCRIPT,
                                        *argv])
            except docker.errors.APIError as e:
                if e.status_code == 409:  # it stopped meanwhile
                    raise FaultError(f"{target} stopped: its disk (a tmpfs) exists only while it runs",
                                     hint=f"start it first (restart {target})") from e
                raise self._api_error(target, e) from e
            except docker.errors.DockerException as e:
                raise self._api_error(target, e) from e
            if code == 124:
                raise FaultError(f"disk {op} on {target} did not finish in {EXEC_TIMEOUT} s",
                                 hint=f"is {target} starved of CPU? check its limits (chaosctl status)")
        text = out.decode("utf-8", "replace").strip().splitlines()
        try:
            res = json.loads(text[-1])
        except (IndexError, ValueError) as e:
            hint = "killed: out of memory under its limit?" if code == 137 else ""
            raise FaultError(f"disk {op} on {target} failed: {' '.join(text)[-300:] or f'exit {code}'}",
                             hint=hint) from e
        if "error" in res:
            if res.get("type") == "UsageError":
                raise UsageError(res["error"], field="path")
            raise FaultError(f"disk {op} on {target} failed: {res['error']}")
        return res["ok"]

    def _disk_helper(self, c, argv: list[str]) -> bytes:
        docker = _docker()
        name = c.labels.get(SERVICE_LABEL, c.name)
        try:
            helper = self._start_helper(
                c.image.id, argv, entrypoint=["python3", "-c", _DISK_SCRIPT], detach=True,
                volumes_from=[c.id], network_mode="none", user=c.attrs.get("Config", {}).get("User") or "",
                labels={HELPER_LABEL: "1", HELPER_PROJECT_LABEL: self.project})
        except docker.errors.DockerException as e:
            raise FaultError(f"cannot reach {name}'s disk from a helper container: "
                             f"{getattr(e, 'explanation', None) or e}") from e
        try:
            helper.wait(timeout=HELPER_TIMEOUT)
            return helper.logs(stdout=True, stderr=False)
        except Exception as e:  # requests' timeout or an engine error
            raise FaultError(f"the disk helper for {name} did not finish: {e}") from e
        finally:
            try:
                helper.remove(force=True)
            except docker.errors.DockerException:
                pass

    def disk_usage(self, *, target: str) -> DiskUsage:
        used, size = self._disk(target, "usage")
        return DiskUsage(used_bytes=int(used), size_bytes=int(size))

    def write_file(self, *, target: str, path: str, size_bytes: int, tag: str = "") -> int:
        return int(self._disk(target, "write", _check_path(path), str(int(size_bytes)), tag))

    def list_files(self, *, target: str) -> list[FileInfo]:
        return [FileInfo(path=p, size_bytes=int(s), mtime=float(m)) for p, s, m in self._disk(target, "list")]

    def remove_file(self, *, target: str, path: str) -> bool:
        return bool(self._disk(target, "remove", _check_path(path)))

    # -- resources ----------------------------------------------------------------------
    @staticmethod
    def _limits_of(c) -> Limits:
        hc = c.attrs.get("HostConfig", {})
        cpu = None
        if hc.get("NanoCpus"):
            cpu = hc["NanoCpus"] / 1e9
        elif (hc.get("CpuQuota") or 0) > 0:
            cpu = hc["CpuQuota"] / (hc.get("CpuPeriod") or CPU_PERIOD)
        return Limits(cpu=round(cpu, 6) if cpu else None, memory=int(hc["Memory"]) if hc.get("Memory") else None)

    @staticmethod
    def _defaults_of(c) -> Limits:
        labels = c.labels
        try:
            cpu = float(labels[CPU_LABEL]) if CPU_LABEL in labels else DEFAULT_LIMITS.cpu
            memory = int(labels[MEMORY_LABEL]) if MEMORY_LABEL in labels else DEFAULT_LIMITS.memory
        except ValueError:
            return DEFAULT_LIMITS
        return Limits(cpu=cpu, memory=memory)

    def default_limits(self) -> Limits:
        containers = self._containers()
        targets = self.targets()
        return self._defaults_of(containers[targets[0]]) if targets else DEFAULT_LIMITS

    def get_limits(self, *, target: str) -> Limits:
        return self._limits_of(self._replica(target))

    def set_limits(self, *, target: str, limits: Limits) -> None:
        c = self._replica(target)
        ncpu = os.cpu_count() or 1
        if limits.cpu is not None and not 0.001 <= limits.cpu <= ncpu:
            raise UsageError(f"cpu limit must be between 0.001 and {ncpu} cores, got {limits.cpu}",
                             field="cpu", value=limits.cpu)
        if limits.memory is not None and not MIN_MEMORY <= limits.memory <= MAX_MEMORY:
            raise UsageError(f"memory limit must be between 6 MiB and 64 GiB, got {limits.memory} bytes",
                             field="memory", value=limits.memory)
        body: dict[str, int] = {}
        hc = c.attrs.get("HostConfig", {})
        if limits.cpu is not None:
            if hc.get("NanoCpus"):
                if limits.cpu < 0.01:
                    raise UsageError(f"{target} was created with `cpus:`: Docker cannot go below 0.01 cores",
                                     field="cpu", value=limits.cpu,
                                     hint="use cpu_quota/cpu_period in docker-compose.yml for smaller quotas")
                body["NanoCpus"] = int(round(limits.cpu * 1e9))
            else:
                period = CPU_PERIOD
                if limits.cpu * period < MIN_CPU_QUOTA:
                    period = min(1_000_000, math.ceil(MIN_CPU_QUOTA / limits.cpu))
                body["CpuPeriod"] = period
                body["CpuQuota"] = int(round(limits.cpu * period))
        if limits.memory is not None:
            body["Memory"] = int(limits.memory)
            body["MemorySwap"] = int(limits.memory)
        if not body:
            return
        self._update(target, c, body)

    def _update(self, target: str, c, body: dict) -> None:
        """POST /containers/{id}/update. A container the engine is restarting (a crash loop, an
        OOM kill) cannot be updated in that instant: try again, then stop it and update its
        configuration (the callers start it again: heal, reset and the scenarios do)."""
        docker = _docker()
        api = self.client.api
        for attempt in range(8):
            try:
                res = api._post_json(api._url("/containers/{0}/update", c.id), data=body)
                api._raise_for_status(res)
                return
            except docker.errors.DockerException as e:
                text = str(getattr(e, "explanation", "") or e)
                if "busy" in text.lower() or "unable to set memory limit" in text:
                    raise FaultError(f"cannot set {target}'s memory limit below what it uses now",
                                     hint="stop or restart the replica with the new limit") from e
                transient = "stopped container" in text or "not running" in text or "restarting" in text
                if not transient or attempt == 7:
                    raise FaultError(f"cannot set limits of {target}: {text}") from e
                if attempt >= 3:
                    try:
                        c.reload()
                        if c.attrs.get("State", {}).get("Status") == "restarting":
                            c.stop(timeout=5)
                    except docker.errors.DockerException:
                        pass
                time.sleep(0.3)

    # -- logs -----------------------------------------------------------------------------
    def log_files(self) -> dict[str, list[Path]]:
        """Each container's log in state_dir/docker-logs/: from Elasticsearch when it is up
        (what Filebeat shipped, as the lines the container wrote), else from the Engine API."""
        from ..observe import elastic

        out: dict[str, list[Path]] = {}
        folder = self.settings.state_dir / "docker-logs"
        folder.mkdir(parents=True, exist_ok=True)
        es = config.endpoint("elasticsearch")
        use_es = elastic.reachable(es)
        for service, c in self._containers().items():
            try:
                if use_es:
                    lines = elastic.container_lines(es, container=c.name)
                    data = "".join(f"{line}\n" for line in lines).encode()
                else:
                    data = c.logs(stdout=True, stderr=True, tail=50_000)
            except (_docker().errors.DockerException, ObserveError):
                continue
            path = folder / f"{service}.log"
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
            out[service] = [path]
        return out

    def tail_log(self, *, service: str, lines: int = 20) -> str:
        c = self._containers().get(service)
        if c is None:
            return ""
        try:
            return c.logs(stdout=True, stderr=True, tail=int(lines)).decode("utf-8", "replace").rstrip("\n")
        except _docker().errors.DockerException:
            return ""

    # -- safety -----------------------------------------------------------------------------
    def reset_faults(self) -> list[str]:
        done = []
        docker = _docker()
        for h in self._helpers():
            try:
                h.remove(force=True)
                done.append(f"removed helper container {h.short_id}")
            except docker.errors.NotFound:
                pass

        def drop_table(holder) -> str | None:
            out = self._sweep_helper(holder, f"nft delete table {nft.FAMILY} {nft.TABLE} 2>/dev/null "
                                             "&& echo gone || true")
            if out.strip() == "gone":
                return f"removed the nftables table {nft.FAMILY} {nft.TABLE} in {holder.labels.get(SERVICE_LABEL)}"
            return None

        done += [line for line in self._parallel(drop_table, self._holders()) if line]
        if self.features.has_netem:
            for holder in self._holders():
                if self._sweep_helper(holder, self._NETEM_CLEAR).strip() == "gone":
                    done.append(f"removed the netem shaper in {holder.labels.get(SERVICE_LABEL)}")
        containers = self._containers()
        for name in self.targets():
            c = containers[name]
            default = self._defaults_of(c)
            if self._limits_of(c) != default:
                self.set_limits(target=name, limits=default)
                done.append(f"reset {name}'s limits")

        def clean(name: str) -> list[str]:
            c = containers[name]
            if not c.attrs.get("State", {}).get("Running") and self._disk_volume(c) is None:
                return []
            return [f"removed {name}:{p}" for p in self._disk(name, "clean")]

        for lines in self._parallel(clean, self.targets()):
            done += lines
        for name in self.targets():
            self.ensure_running(target=name)
        return done

    def fault_footprint(self) -> dict:
        containers = self._containers()
        holders = self._holders()
        tables = self._parallel(
            lambda h: self._sweep_helper(h, f"nft -s list table {nft.FAMILY} {nft.TABLE} 2>/dev/null; "
                                            f"nft -s list table inet {NETEM_TABLE} 2>/dev/null; true"),
            holders)
        targets = self.targets()
        running = [n for n in targets if containers[n].attrs.get("State", {}).get("Running")
                   or self._disk_volume(containers[n]) is not None]
        files = dict(zip(running, self._parallel(lambda n: self._disk(n, "list"), running)))
        junk = dict(zip(running, self._parallel(lambda n: self._disk(n, "tagged"), running)))
        return {
            "ruleset": {h.labels.get(SERVICE_LABEL): t for h, t in zip(holders, tables)},
            "limits": {n: (lim.cpu, lim.memory) for n in targets for lim in [self._limits_of(containers[n])]},
            "disk_files": {n: sorted(p for p, _s, _m in files[n] if not config.is_app_file(p))
                           for n in running},
            "junk": junk,
            "helpers": sorted(h.id for h in self._helpers()),
            "containers": {s: c.id for s, c in sorted(containers.items())},
            "pids": {s: (c.attrs.get("State", {}).get("Pid") or None) for s, c in sorted(containers.items())},
        }
