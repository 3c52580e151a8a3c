"""The restart fix: the first thing everyone tries, and one that fixes less than one hopes.

Every other player's fix lives in its family's module (`faults.fixes()` lists them all). A fix
acts on what the player can see and name (a target, a firewall rule, a file, a limit), never
on the hidden fault record, so a wrong fix does not resolve the incident: restarting does not
empty a full disk, and restarting with tiny limits does not help.
"""
from __future__ import annotations

from chaoslib.faults.catalogue import known_target
from chaoslib.stack import Stack


def restart(stack: Stack, *, target: str) -> None:
    """Restart a target (the first thing everyone tries; it fixes less than one hopes)."""
    stack.backend.restart(target=known_target(stack, target))
