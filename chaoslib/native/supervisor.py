"""Talk to the native stack's supervisord over its unix socket (XML-RPC)."""
from __future__ import annotations

import http.client
import os
import signal
import socket as _socket
import subprocess
import sys
import time
import xmlrpc.client
from pathlib import Path
from typing import Any

from chaoslib.errors import ServiceError
from chaoslib.native.pids import alive, is_ours

#: supervisord process states (see REFERENCE.md).
RUNNING, STARTING, BACKOFF, STOPPED, EXITED, FATAL = "RUNNING", "STARTING", "BACKOFF", "STOPPED", "EXITED", "FATAL"


class _UnixConnection(http.client.HTTPConnection):
    """HTTP over supervisord's unix socket."""

    def __init__(self, path: str) -> None:
        super().__init__("localhost")
        self._path = path

    def connect(self) -> None:
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class _UnixTransport(xmlrpc.client.Transport):
    """XML-RPC over a unix socket, one connection per call.

    What supervisor.xmlrpc.SupervisorTransport does, without importing the supervisor
    package: the saturation exporter, which asks for start times on every scrape, is
    4 MiB smaller without it (issue #15).
    """

    def __init__(self, path: str) -> None:
        super().__init__()
        self._path = path

    def make_connection(self, host):  # noqa: D102 - xmlrpc.client protocol
        self.close()
        self._connection = host, _UnixConnection(self._path)
        return self._connection[1]

    def single_request(self, host, handler, request_body, verbose=False):  # noqa: D102
        try:
            return super().single_request(host, handler, request_body, verbose)
        finally:
            self.close()  # the answer is read whole: hang up now, not when collected


class Supervisor:
    """A thin client over supervisord's XML-RPC interface, with errors made readable."""

    def __init__(self, socket: Path, config: Path) -> None:
        self.socket = socket
        self.config = config

    def _proxy(self) -> Any:
        transport = _UnixTransport(str(self.socket))
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)

    def running(self) -> bool:
        """True when supervisord answers on its socket."""
        if not self.socket.exists():
            return False
        try:
            return self._proxy().supervisor.getState()["statename"] == "RUNNING"
        except (OSError, xmlrpc.client.Error):
            return False

    def start_daemon(self, *, timeout: float = 15.0) -> None:
        """Start supervisord (it daemonizes) and wait until it answers."""
        exe = Path(sys.executable).with_name("supervisord")
        cmd = [str(exe) if exe.exists() else "supervisord", "-c", str(self.config)]
        try:
            subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=timeout)
        except subprocess.CalledProcessError as e:
            raise ServiceError("supervisord", f"did not start: {(e.stderr or e.stdout).strip()}") from e
        deadline = time.monotonic() + timeout
        while not self.running():
            if time.monotonic() > deadline:
                raise ServiceError("supervisord", "did not answer on its socket")
            time.sleep(0.1)

    def reload(self) -> None:
        """Apply a changed config: add new programs, remove gone ones (supervisorctl update)."""
        proxy = self._proxy()
        try:
            added, changed, removed = proxy.supervisor.reloadConfig()[0]
            for name in removed:
                _drop(proxy, name)
            for name in changed:
                _drop(proxy, name)
                proxy.supervisor.addProcessGroup(name)
            for name in added:
                proxy.supervisor.addProcessGroup(name)
        except xmlrpc.client.Fault as e:
            raise ServiceError("supervisord", f"reload failed: {e.faultString}") from e

    def update(self, name: str) -> bool:
        """Apply a changed config to one program only (stop, remove, add it back stopped); True when it changed.

        The other programs keep running with the config they started with, whatever else differs.
        """
        proxy = self._proxy()
        try:
            added, changed, _removed = proxy.supervisor.reloadConfig()[0]
            if name not in changed and name not in added:
                return False
            if name in changed:
                _drop(proxy, name)
            proxy.supervisor.addProcessGroup(name)
            return True
        except xmlrpc.client.Fault as e:
            raise ServiceError(name, f"config update failed: {e.faultString}") from e

    def info(self, name: str | None = None) -> Any:
        """Process info for one program, or all of them."""
        proxy = self._proxy()
        try:
            return proxy.supervisor.getProcessInfo(name) if name else proxy.supervisor.getAllProcessInfo()
        except xmlrpc.client.Fault as e:
            raise ServiceError(name or "supervisord", e.faultString) from e
        except OSError as e:
            raise ServiceError("supervisord", f"not reachable: {e}", hint="is the stack up? run `chaosctl up`") from e

    def start(self, name: str, *, wait: bool = False) -> None:
        try:
            self._proxy().supervisor.startProcess(name, wait)
        except xmlrpc.client.Fault as e:
            if "ALREADY_STARTED" not in e.faultString:
                raise ServiceError(name, f"could not start: {e.faultString}") from e

    def stop(self, name: str) -> None:
        try:
            self._proxy().supervisor.stopProcess(name, True)
        except xmlrpc.client.Fault as e:
            if "NOT_RUNNING" not in e.faultString:
                raise ServiceError(name, f"could not stop: {e.faultString}") from e

    def restart(self, name: str) -> None:
        self.stop(name)
        self.start(name)

    def stop_all(self) -> None:
        try:
            self._proxy().supervisor.stopAllProcesses(True)
        except (OSError, xmlrpc.client.Error):
            pass

    def signal(self, name: str, sig: signal.Signals) -> None:
        try:
            self._proxy().supervisor.signalProcess(name, sig.name.replace("SIG", ""))
        except xmlrpc.client.Fault as e:
            raise ServiceError(name, f"could not signal: {e.faultString}") from e

    def shutdown(self, *, timeout: float = 30.0) -> None:
        """Stop every program and supervisord itself; wait for it to exit."""
        pidfile = self.socket.parent / "supervisord.pid"
        pid = None
        try:
            pid = int(pidfile.read_text().strip())
        except (FileNotFoundError, ValueError):
            pass
        if self.running():
            self.stop_all()
            try:
                self._proxy().supervisor.shutdown()
            except (OSError, xmlrpc.client.Error):
                pass
        # A stale pid file may name a pid the kernel has given to another program since.
        if pid and is_ours(pid, "supervisord", str(self.config)):
            deadline = time.monotonic() + timeout
            while alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if alive(pid) and is_ours(pid, "supervisord", str(self.config)):
                os.kill(pid, signal.SIGKILL)


def _drop(proxy: Any, name: str) -> None:
    """Stop a program group (already stopped is fine) and remove it from supervisord."""
    try:
        proxy.supervisor.stopProcessGroup(name)
    except xmlrpc.client.Fault:
        pass
    proxy.supervisor.removeProcessGroup(name)
