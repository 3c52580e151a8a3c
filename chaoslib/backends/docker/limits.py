"""Resource faults on containers: CPU quota and memory by the Engine API's container update."""
from __future__ import annotations

import math
import time

import requests

from chaoslib.backends.base import DEFAULT_LIMITS, Limits, OomKill, check_limits
from chaoslib.backends.docker.containers import DockerContainers
from chaoslib.backends.docker.engine import (
    CPU_LABEL,
    CPU_PERIOD,
    MEMORY_LABEL,
    MIN_CPU_QUOTA,
    PROJECT_LABEL,
    SERVICE_LABEL,
    docker_sdk,
)
from chaoslib.errors import FaultError, UsageError


class DockerLimits(DockerContainers):
    """Read and set a replica's CPU and memory limits; the healthy values come from its labels."""

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
        check_limits(limits)
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
        docker = docker_sdk()
        api = self.client.api
        for attempt in range(8):
            try:
                res = api.post(f"{api.base_url}/v{api.api_version}/containers/{c.id}/update", json=body,
                               timeout=api.timeout)
                try:
                    res.raise_for_status()
                except requests.exceptions.HTTPError as e:
                    raise docker.errors.create_api_error_from_http_exception(e) from e
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

    def oom_kills(self, *, since: float) -> dict[str, list[OomKill]]:
        """Each replica's OOM kills since `since`, from the engine's events (never the State.OOMKilled flag,
        which survives a stop and start). The limit in force at a kill is the replica's limit now, unless
        its resources were updated after the kill (then it cannot be told)."""
        docker = docker_sdk()
        now = time.time()
        try:
            events = list(self.client.events(since=int(since), until=int(now) + 1, decode=True,
                                             filters={"type": "container", "event": ["oom", "update"],
                                                      "label": f"{PROJECT_LABEL}={self.project}"}))
        except docker.errors.DockerException as e:
            raise self._api_error("reading the engine's events", e) from e
        kills: dict[str, list[float]] = {}
        updates: dict[str, list[float]] = {}
        for event in events:
            at = int(event.get("timeNano") or int(event.get("time", 0)) * 10**9) / 1e9
            service = (event.get("Actor") or {}).get("Attributes", {}).get(SERVICE_LABEL)
            if at < since or not service:
                continue
            kind = event.get("Action", event.get("status"))
            (kills if kind == "oom" else updates).setdefault(service, []).append(at)
        replicas = set(self.targets())
        out: dict[str, list[OomKill]] = {}
        for service, times in kills.items():
            if service not in replicas:
                continue
            limit = self._limits_of(self._replica(service)).memory
            out[service] = [OomKill(at=t, memory_limit_bytes=None if any(u > t for u in updates.get(service, []))
                                    else limit) for t in sorted(times)]
        return out
