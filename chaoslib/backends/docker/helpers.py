"""Helper containers: short-lived containers in a target's network namespace that run nft and tc."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chaoslib.backends.docker.containers import DockerContainers
from chaoslib.backends.docker.engine import (
    HELPER_LABEL,
    HELPER_PROJECT_LABEL,
    HELPER_TIMEOUT,
    REPLICA,
    SERVICE_LABEL,
    docker_sdk,
)
from chaoslib.errors import ChaosError, FaultError, PrerequisiteError

if TYPE_CHECKING:  # the docker SDK is loaded when the engine is first used (engine.docker_sdk)
    from docker.models.containers import Container


class DockerHelpers(DockerContainers):
    """Start, wait for and remove helper containers; probe netem from one."""

    def _probe_netem(self) -> bool:
        """Can this kernel attach a netem qdisc? Asked from a helper in a throwaway namespace."""
        try:
            out = self._helper(None, "tc qdisc add dev lo root netem delay 1ms 2>/dev/null && echo yes || echo no")
        except ChaosError:
            return False
        return out.strip() == "yes"

    def _start_helper(self, image: str, command: list[str], **kwargs: Any) -> Container:
        """Create and start a helper; one that cannot start (its target is restarting, say) is
        removed at once rather than left behind in the `created` state."""
        kwargs.pop("detach", None)
        helper = self.client.containers.create(image, command, **kwargs)
        try:
            helper.start()
        except BaseException:
            try:
                helper.remove(force=True)
            except docker_sdk().errors.DockerException:
                pass  # reset_faults sweeps leftovers by label
            raise
        return helper

    def _helper(self, container: Container | None, script: str, *, env: dict[str, str] | None = None) -> str:
        """Run `sh -c script` in a helper in `container`'s network namespace; its stdout."""
        docker = docker_sdk()
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

    def _sweep_helper(self, holder: Container, script: str) -> str:
        """A helper in a namespace that may be going away (a crash-looping replica): a
        container that is not running has no rules (its next start gets a new namespace)."""
        try:
            return self._helper(holder, script)
        except FaultError:
            try:
                holder.reload()
            except docker_sdk().errors.NotFound:
                return ""
            if holder.attrs.get("State", {}).get("Status") != "running" or REPLICA.match(
                    holder.labels.get(SERVICE_LABEL, "")):
                return ""
            raise

    def _helpers(self) -> list[Container]:
        return self.client.containers.list(all=True, ignore_removed=True, filters={"label": f"{HELPER_LABEL}=1"})
