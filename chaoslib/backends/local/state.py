"""The local stack's own records: what `up` started (stack.json), its programs, its secret key, its targets."""
from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path

from chaoslib.backends.base import Backend
from chaoslib.errors import UsageError
from chaoslib.kernel.cgroups import Cgroups
from chaoslib.native import release_log
from chaoslib.native.programs import Program, programs
from chaoslib.native.supervisor import Supervisor


class LocalState(Backend):
    """The stack file, the programs it runs, and the checks of a target or service name.

    The base of every local mixin: what they share (LocalBackend sets it) is declared here.
    """

    cgroups: Cgroups
    supervisor: Supervisor

    def _stack_file(self) -> dict | None:
        """The running stack's layout; None when there is none, or none this user may read (the state folder is
        root's and the stack group's: another user sees no stack, and `up` tells it that it needs root)."""
        try:
            return json.loads(self.settings.stack_file.read_text())
        except (FileNotFoundError, PermissionError, ValueError):
            return None

    def _programs(self, running: dict[str, str] | None = None,
                  knobs: dict[str, dict[str, str]] | None = None) -> list[Program]:
        """The stack's programs, each replica on its recorded release and knobs (or `running`'s and `knobs`', to
        render a roll)."""
        if running is None:
            running = release_log.running(release_log.load(self._release_file()), self.settings.replica_names())
        if knobs is None:
            knobs = release_log.knobs(self._release_file())
        return programs(self.settings, secret_key=self._secret_key(), running=running, knobs=knobs)

    def _release_file(self) -> Path:
        return self.settings.run_dir / "releases.json"

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

    def _write_stack_file(self) -> None:
        s = self.settings
        data = {"backend": self.name, "replicas": s.replica_names(), "disk_mb": s.disk_mb, "rps": s.rps,
                "started_at": time.time()}
        tmp = s.stack_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2))
        tmp.replace(s.stack_file)

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
