"""Rolling a docker replica to another release: a release file written into its container, then a restart.

The image starts through pollapp.launch, which reads the file that the container's APP_RELEASE_FILE
names (KEY=VALUE lines: APP_RELEASE and the APP_* knobs, pollapp/releases.py) over the environment.
The file is put into the container's writable layer by the Engine API (as root; the app's user
cannot change it), so a plain restart keeps the release, and so do the limits a fault set on the
container: nothing is recreated. A compose recreate starts over on releases.CURRENT. The file is
the truth of what a replica runs; its history of rolls is kept on the host (the native backend's
release log, in the state folder), keyed by the container's id so a recreated one starts afresh.
"""
from __future__ import annotations

import io
import posixpath
import tarfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from chaoslib.backends.base import HistoryEntry, check_release, check_settings
from chaoslib.backends.docker.containers import DockerContainers
from chaoslib.backends.docker.engine import docker_sdk, parse_time
from chaoslib.errors import ServiceError
from chaoslib.native import release_log
from pollapp import releases

if TYPE_CHECKING:  # the docker SDK is loaded when the engine is first used (engine.docker_sdk)
    from docker.models.containers import Container


def _env(c: Container) -> dict[str, str]:
    return dict(e.split("=", 1) for e in c.attrs.get("Config", {}).get("Env") or [] if "=" in e)


def _tar(name: str, text: str) -> bytes:
    """A tar archive of one file, root's and world-readable (the app reads it as its own user)."""
    data = text.encode()
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = len(data), 0o644, int(time.time())
        tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


class DockerReleases(DockerContainers):
    """set_release, release and release_history of the compose replicas."""

    def _release_log(self) -> Path:
        return self.settings.state_dir / "docker-releases.json"

    @staticmethod
    def _log_key(target: str, c: Container) -> str:
        """A replica's key in the release log: its name and container (a recreated container has no rolls)."""
        return f"{target}@{(c.id or '')[:12]}"

    def _release_file_text(self, c: Container) -> tuple[str | None, float | None]:
        """The container's release file and when it was written (None, None: there is none)."""
        path = _env(c).get(releases.FILE_ENV)
        if not path:
            return None, None
        docker = docker_sdk()
        try:
            chunks, stat = c.get_archive(path)
            raw = b"".join(chunks)
        except docker.errors.NotFound:
            return None, None
        except docker.errors.DockerException as e:
            raise self._api_error(f"reading {path} in {c.name}", e) from e
        with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
            member = tar.next()
            f = tar.extractfile(member) if member is not None else None
            text = f.read().decode("utf-8", "replace") if f is not None else ""
        return text, parse_time(str((stat or {}).get("mtime", "")))

    def _release_of(self, c: Container, text: str | None = None) -> tuple[str, dict[str, str]]:
        """What a replica's container runs: its version and knob overrides, as pollapp.launch reads them
        (from its release file, or from `text`, that file as already read)."""
        if text is None:
            text, _at = self._release_file_text(c)
        try:
            env = releases.with_file(_env(c), text)
        except releases.UnknownRelease as e:
            raise ServiceError(c.name or "replica", f"has a release file the app cannot run: {e}",
                               hint="roll it to a known release, or run `chaosctl panic`") from None
        knobs = {var: env[var] for var in releases.KNOB_ENV.values() if env.get(var)}
        return env.get("APP_RELEASE") or releases.CURRENT, knobs

    def release(self, *, target: str) -> str:
        return self._release_of(self._replica(target))[0]

    def release_history(self, *, target: str) -> list[HistoryEntry]:
        """CURRENT since the container was created, then each roll the release log holds; a release file
        written by someone else (the log lost, another state folder) ends it, from when it was written."""
        c = self._replica(target)
        since = parse_time(str(c.attrs.get("Created", ""))) or 0.0
        history = release_log.history(release_log.load(self._release_log()), self._log_key(target, c), since=since)
        text, written = self._release_file_text(c)
        running = self._release_of(c, text)[0]
        if history[-1][1] != running:
            history.append((written or since, running))
        return history

    def set_release(self, *, target: str, release: str, settings: Mapping[str, str] | None = None) -> None:
        """Write the replica's release file (root's, in its container), record the roll, restart it."""
        c = self._replica(target)
        check_release(release)
        overrides = check_settings(settings)
        try:
            if self._release_of(c) == (release, overrides):
                return
        except ServiceError:  # a release file the app cannot run: replaced by this roll
            pass
        path = _env(c).get(releases.FILE_ENV)
        if not path:
            raise ServiceError(target, f"cannot be rolled to {release}: its container has no {releases.FILE_ENV}",
                               hint="recreate it from this docker-compose.yml: `chaosctl up`")
        docker = docker_sdk()
        try:
            if not c.put_archive(posixpath.dirname(path), _tar(posixpath.basename(path),
                                                               releases.render_file(release, overrides))):
                raise ServiceError(target, f"cannot be rolled to {release}: the engine did not write {path}")
            self._release_log().parent.mkdir(parents=True, exist_ok=True)
            # Recorded once the file names the release, started or not (a release that cannot boot crash-loops).
            release_log.append(self._release_log(), self._log_key(target, c), release, time.time(), overrides)
            c.restart(timeout=10)
        except docker.errors.DockerException as e:
            raise self._api_error(target, e) from e
