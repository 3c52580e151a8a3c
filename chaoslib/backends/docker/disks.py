"""Disk faults on a replica's /data: the kernel's disk code run in the replica, or in a helper with its volumes."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

from chaoslib.backends.base import DiskUsage, FileInfo
from chaoslib.backends.docker.engine import (
    EXEC_TIMEOUT,
    HELPER_LABEL,
    HELPER_PROJECT_LABEL,
    HELPER_TIMEOUT,
    SERVICE_LABEL,
    check_path,
    docker_sdk,
)
from chaoslib.backends.docker.helpers import DockerHelpers
from chaoslib.errors import FaultError, UsageError

if TYPE_CHECKING:  # the docker SDK is loaded when the engine is first used (engine.docker_sdk)
    from docker.models.containers import Container

# Run inside a replica (python3 -c SCRIPT OP ROOT ARGS...): the kernel's disk code on its /data.
DISK_SCRIPT = r"""
import json, os, sys
from pathlib import Path
op, root = sys.argv[1], Path(sys.argv[2])
try:
    from chaoslib.kernel import disks
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


#: Disk operations that only read: run where the volume is kept mounted (read-only there).
READ_ONLY = ("usage", "list", "tagged")


def _exec(c: Container, argv: list[str]) -> tuple[int | None, bytes]:
    """Run the disk script in a container by exec, unstreamed: its exit code and its whole output."""
    code, out = c.exec_run(["timeout", "-k", "5", str(EXEC_TIMEOUT), "python3", "-c", DISK_SCRIPT, *argv])
    if not isinstance(out, bytes):  # only a streamed exec gives an iterator
        raise TypeError(f"exec_run gave {type(out).__name__}, not bytes")
    return code, out


class DockerDisks(DockerHelpers):
    """Measure, fill, list and clean a replica's disk."""

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
        docker = docker_sdk()
        argv = [op, self._data_dir(c), *args]
        volume = self._disk_volume(c)
        keeper = self._keeper(volume, c) if volume is not None and op in READ_ONLY else None
        if keeper is not None:
            code, out = _exec(keeper[0], [op, keeper[1], *args])
            if code in (126, 127):  # the keeper's image has no python3 or no chaoslib: a helper then
                code, out = 0, self._disk_helper(c, argv)
        elif volume is not None:
            code, out = 0, self._disk_helper(c, argv)
        else:
            if not c.attrs.get("State", {}).get("Running"):
                raise FaultError(f"{target} is not running: its disk (a tmpfs) exists only while it runs",
                                 hint=f"start it first (restart {target})")
            try:
                code, out = _exec(c, argv)
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

    def _keeper(self, volume: str, replica: Container) -> tuple[Container, str] | None:
        """A running container other than the replica that keeps `volume` mounted (compose's
        `disks`), and where: reads by exec there take a fraction of a helper's start-up, and work
        while the replica is down or starved."""
        for c in self.client.containers.list(filters={"volume": volume}):
            if c.id == replica.id or c.labels.get(HELPER_LABEL):
                continue
            for m in c.attrs.get("Mounts") or []:
                if m.get("Type") == "volume" and m.get("Name") == volume:
                    return c, m["Destination"]
        return None

    def _disk_helper(self, c, argv: list[str]) -> bytes:
        docker = docker_sdk()
        name = c.labels.get(SERVICE_LABEL, c.name)
        try:
            helper = self._start_helper(
                c.image.id, argv, entrypoint=["python3", "-c", DISK_SCRIPT], detach=True,
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
        return int(self._disk(target, "write", check_path(path), str(int(size_bytes)), tag))

    def list_files(self, *, target: str) -> list[FileInfo]:
        return [FileInfo(path=p, size_bytes=int(s), mtime=float(m)) for p, s, m in self._disk(target, "list")]

    def remove_file(self, *, target: str, path: str) -> bool:
        return bool(self._disk(target, "remove", check_path(path)))
