"""The stack in hand decides where to look: `--backend memory` with CHAOSCTL_BACKEND=local never asks the local
stack."""
from __future__ import annotations

import json
import socket

import pytest

from chaoslib.backends.local import LocalBackend
from chaoslib.backends.memory import MemoryBackend
from chaoslib.cli.main import main
from chaoslib.config import Settings
from chaoslib.game import Game
from chaoslib.stack import Stack


@pytest.fixture
def local_forbidden(monkeypatch):
    """CHAOSCTL_BACKEND names the local stack; building it, or opening any socket, fails the test."""
    monkeypatch.setenv("CHAOSCTL_BACKEND", "local")
    monkeypatch.delenv("CHAOSCTL_FAMILY", raising=False)
    asked: list[str] = []

    def no_local(self, *args, **kwargs):
        asked.append("LocalBackend")
        raise AssertionError("the local backend was built")

    def no_connect(self, address):
        asked.append(f"connect {address}")
        raise AssertionError(f"a connection to {address}")
    monkeypatch.setattr(LocalBackend, "__init__", no_local)
    monkeypatch.setattr(socket.socket, "connect", no_connect)
    return asked


def test_a_whole_game_on_the_memory_backend_never_asks_the_local_stack(local_forbidden, tmp_path):
    """With CHAOSCTL_BACKEND=local set, a game played on a memory stack in hand builds no local backend and
    opens no socket: start, hypothesis, hint, the fix, validation and the score all read the memory stack."""
    stack = Stack(MemoryBackend(Settings(state_dir=tmp_path / "state")))
    stack.up()
    game = Game(stack, autopilot=False)
    game.start(seed=4, families=["disk"], steady_timeout=0)
    assert game.page() is None  # no monitoring on this backend: nothing pages, and nothing was asked
    truth = game.truth()
    game.hypothesis([{"family": family, "targets": targets} for family, targets in truth.items()], evidence="")
    game.hint()
    game.autofix()
    assert game.validate(window_s=0, recover_s=0).passed
    assert game.finish(write_postmortem=True).score.diagnosis_correct
    assert local_forbidden == []


def test_the_command_line_reads_the_backend_it_is_given(local_forbidden, tmp_path, capsys):
    """`chaosctl --backend memory status --json` answers from the memory backend, with CHAOSCTL_BACKEND=local set."""
    # Down (a memory backend starts empty): exit 1, the README's "failed outcome", read from the memory backend.
    assert main(["--backend", "memory", "--state-dir", str(tmp_path / "state"), "status", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["up"] is False
    assert local_forbidden == []


def test_the_guard_sees_the_local_stack_asked(local_forbidden, tmp_path):
    """Control: without --backend the environment's local backend is built, and the fixture sees it."""
    with pytest.raises(AssertionError, match="the local backend was built"):
        main(["--state-dir", str(tmp_path / "state"), "status"])
    assert local_forbidden == ["LocalBackend"]
