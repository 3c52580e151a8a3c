"""Fixtures for the unit tests that run the library on the in-memory backend."""
from __future__ import annotations

import pytest

from chaoslib.backends.memory import MemoryBackend
from chaoslib.cli import args as cli_args
from chaoslib.cli.main import main
from chaoslib.config import Settings
from chaoslib.stack import Stack


@pytest.fixture
def memory_stack(tmp_path, monkeypatch) -> Stack:
    """A Stack over a MemoryBackend that is up, with its state (registry, game journal) in a tmp dir."""
    monkeypatch.delenv("CHAOSCTL_FAMILY", raising=False)
    stack = Stack(MemoryBackend(Settings(state_dir=tmp_path / "state")))
    stack.up()
    return stack


@pytest.fixture
def cli(memory_stack, monkeypatch, capsys):
    """`chaosctl ARGS` run in this process on the in-memory stack: (exit status, stdout, stderr)."""
    monkeypatch.setattr(cli_args, "Stack", lambda *a, **kw: memory_stack)

    def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err
    return run
