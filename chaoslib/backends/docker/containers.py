"""The project's containers as the Engine API lists them: by compose service, with their addresses."""
from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from chaoslib.backends.base import DATABASE, Backend
from chaoslib.backends.docker.engine import (
    KINDS,
    NUMBER_LABEL,
    PROJECT_LABEL,
    PROXY,
    REPLICA,
    SERVICE_LABEL,
    docker_sdk,
    engine_address,
)
from chaoslib.errors import ChaosError, FaultError, PrerequisiteError, ServiceError, UsageError

if TYPE_CHECKING:  # the docker SDK is loaded when the engine is first used (engine.docker_sdk)
    from docker import DockerClient
    from docker.models.containers import Container

T = TypeVar("T")
R = TypeVar("R")


class DockerContainers(Backend):
    """The engine client, and the project's containers found by their compose labels.

    The base of every docker mixin: what they share (DockerBackend sets it) is declared here.
    """

    project: str
    helper_image: str
    _client: DockerClient | None

    @property
    def client(self) -> DockerClient:
        """The Engine API client; a one-line PrerequisiteError when no engine answers."""
        if self._client is None:
            docker = docker_sdk()
            try:
                client = docker.from_env(timeout=120)
                client.ping()
            except docker.errors.DockerException as e:
                raise PrerequisiteError(f"no Docker Engine answers at {engine_address()}",
                                        hint="start Docker (dockerd), or set DOCKER_HOST") from e
            self._client = client
        return self._client

    def _api_error(self, what: str, e: Exception) -> ChaosError:
        docker = docker_sdk()
        explanation = getattr(e, "explanation", None) or str(e)
        if isinstance(e, docker.errors.NotFound):
            return ServiceError(what, f"not found: {explanation}", hint="is the stack up? see `chaosctl status`")
        return FaultError(f"{what}: the Docker Engine refused: {explanation}")

    def _containers(self, *, running_only: bool = False) -> dict[str, Container]:
        """Project containers by compose service name (the first container of each service)."""
        docker = docker_sdk()
        try:
            found = self.client.containers.list(all=not running_only, ignore_removed=True,
                                                filters={"label": f"{PROJECT_LABEL}={self.project}"})
        except docker.errors.DockerException as e:
            raise self._api_error("listing containers", e) from e
        out: dict[str, Container] = {}
        for c in sorted(found, key=lambda c: int(c.labels.get(NUMBER_LABEL, "1") or 1)):
            service = c.labels.get(SERVICE_LABEL)
            if service and service not in out:
                out[service] = c
        return out

    def _container(self, service: str) -> Container:
        containers = self._containers()
        if service not in containers:
            known = ", ".join(sorted(containers)) or "none (is the stack up?)"
            raise UsageError(f"unknown service {service!r}: services are {known}", field="target", value=service,
                             hint=f"targets are {', '.join(self.targets())}" if containers else "")
        return containers[service]

    def _replica(self, target: str) -> Container:
        if target not in self.targets():
            raise UsageError(f"unknown target {target!r}", field="target", value=target,
                             hint=f"targets are {', '.join(self.targets())}")
        return self._container(target)

    @staticmethod
    def _kind(service: str) -> str:
        return "replica" if REPLICA.match(service) else KINDS.get(service, "control")

    @staticmethod
    def _networks(container: Container) -> dict[str, str]:
        nets = container.attrs.get("NetworkSettings", {}).get("Networks") or {}
        out = {}
        for name, n in nets.items():
            # A stopped container has no address, except a fixed one (compose's ipv4_address).
            ip = n.get("IPAddress") or (n.get("IPAMConfig") or {}).get("IPv4Address")
            if ip:
                out[name] = ip
        return out

    def _ip(self, container: Container, peer: Container | None = None) -> str:
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

    def targets(self) -> list[str]:
        numbers = {s: int(m.group(1)) for s in self._containers() if (m := REPLICA.match(s))}
        return sorted(numbers, key=numbers.__getitem__)

    def _holders(self) -> list[Container]:
        """Running containers whose network namespace may hold the project's rules."""
        containers = self._containers(running_only=True)
        return [c for s, c in sorted(containers.items()) if s in (PROXY, DATABASE) or REPLICA.match(s)]

    def _parallel(self, fn: Callable[[T], R], items: list[T]) -> list[R]:
        if not items:
            return []
        with concurrent.futures.ThreadPoolExecutor(max_workers=min(6, len(items))) as pool:
            return list(pool.map(fn, items))

    def service_pids(self) -> dict[str, list[int]]:
        """Each running container's processes as the host sees them (the Engine's `top`, its PID column).

        The pids are host pids when chaosctl runs in the engine's pid namespace (the usual case);
        the footprint benchmark reads their /proc/<pid>/smaps_rollup.
        """
        docker = docker_sdk()
        out: dict[str, list[int]] = {}
        for service, c in self._containers(running_only=True).items():
            try:
                top = c.top()
            except docker.errors.DockerException:
                continue
            titles = top.get("Titles") or []
            if "PID" in titles:
                col = titles.index("PID")
                out[service] = [int(row[col]) for row in top.get("Processes") or [] if row[col].isdigit()]
        return out
