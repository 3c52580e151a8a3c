"""What every chaosctl sub-command reads from its arguments: the run settings and the stack they name."""
from __future__ import annotations

import argparse
from pathlib import Path

from chaoslib.config import Settings
from chaoslib.stack import Stack


def settings_of(args: argparse.Namespace) -> Settings:
    """Settings with --state-dir and --rps applied when given."""
    s = Settings()
    if getattr(args, "state_dir", None):
        s.state_dir = Path(args.state_dir).resolve()
    if getattr(args, "rps", None) is not None:
        s.rps = args.rps
    return s


def stack_of(args: argparse.Namespace) -> Stack:
    """The stack on the backend --backend names (default: CHAOSCTL_BACKEND, else the default backend)."""
    return Stack(args.backend, settings=settings_of(args))
