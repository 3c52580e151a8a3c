"""The player's fixes: what an on-call engineer would do, not `heal`.

Each fix acts on what the player can see and name (a target, a firewall rule, a file, a
limit), never on the hidden fault record. So a wrong fix does not resolve the incident:
restarting does not empty a full disk, and restarting with tiny limits does not help.
Each family's fixes live in its module in chaoslib/faults/ (`faults.fixes()` lists them
all); the read-only views the notebooks use are re-exported here. The game journal
records every fix tried (see game.py) for the score.
"""
from __future__ import annotations

from .faults.catalogue import known_target
from .faults.disk import delete_files, disk_files
from .faults.network import firewall_rules, remove_firewall_rules
from .faults.resources import set_limits
from .stack import Stack

__all__ = ["restart", "firewall_rules", "remove_firewall_rules", "disk_files", "delete_files", "set_limits"]


def restart(stack: Stack, *, target: str) -> None:
    """Restart a target (the first thing everyone tries; it fixes less than one hopes)."""
    stack.backend.restart(target=known_target(stack, target))
