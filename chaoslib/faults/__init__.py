"""The fault catalogue: one module per family (network, disk, resources, deploy, database), assembled here.

A family module exports a `Family` (see catalogue.py): its scenarios, their strengths per
difficulty, the check that its effect is gone, the player's fixes and their widget tab, the
detective's rule with its priority, its hint and its benchmark probe. Everything else (the
draw, the game, scoring, widgets, the detective, the benchmarks) loops over `FAMILIES`.
A new family is one module here plus its tests; `registered()` adds one for a test only.
The draw's default is the seed's three families (`default_families()`): a family with
`default_draw=False` (deploy, database) is drawn only when asked for by name or with `all`.
The red herrings (herrings.py) are benign scenarios kept apart, in `BENIGN`: never a family.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from chaoslib.backends.base import Backend
from chaoslib.errors import UsageError
from chaoslib.faults import database, deploy, disk, herrings, network, resources
from chaoslib.faults.catalogue import (
    DIFFICULTIES,
    Apply,
    Family,
    Finding,
    FixTab,
    FixUI,
    Param,
    Pending,
    RecordUndo,
    Scenario,
    Signals,
    Strength,
    known_target,
)
from chaoslib.faults.restart import restart

__all__ = ["FAMILIES", "SCENARIOS", "BENIGN", "DIFFICULTIES", "Apply", "Family", "Finding", "FixTab", "FixUI",
           "RecordUndo", "Signals", "Param", "Pending",
           "Scenario", "Strength", "family", "scenario", "validate", "fix", "fixes", "registered", "known_target",
           "by_priority", "default_families"]

#: Every family by name, in the order the draw picks from.
FAMILIES: dict[str, Family] = {}
#: Every scenario of every family by name.
SCENARIOS: dict[str, Scenario] = {}
#: The red herrings by name (faults/herrings.py): benign scenarios injected like faults, never the answer.
BENIGN: dict[str, Scenario] = {s.name: s for s in herrings.SCENARIOS}


def _add(fam: Family) -> None:
    if fam.name in FAMILIES:
        raise UsageError(f"fault family {fam.name!r} is already in the catalogue", field="family", value=fam.name)
    clash = [s.name for s in fam.scenarios if s.name in SCENARIOS]
    if clash:
        raise UsageError(f"scenario {clash[0]!r} of {fam.name} is already in the catalogue", field="scenario",
                         value=clash[0])
    if any(s.family != fam.name for s in fam.scenarios):
        raise UsageError(f"every scenario of {fam.name} must name it as its family", field="family", value=fam.name)
    FAMILIES[fam.name] = fam
    SCENARIOS.update({s.name: s for s in fam.scenarios})


def _remove(name: str) -> None:
    fam = FAMILIES.pop(name)
    for s in fam.scenarios:
        SCENARIOS.pop(s.name, None)


for _family in (network.FAMILY, disk.FAMILY, resources.FAMILY, deploy.FAMILY, database.FAMILY):
    _add(_family)


@contextmanager
def registered(fam: Family) -> Iterator[Family]:
    """Add a family to the catalogue for the duration of a block (a test's toy family)."""
    _add(fam)
    try:
        yield fam
    finally:
        _remove(fam.name)


def family(name: str) -> Family:
    """The family called `name`, or a clear error listing the known ones (never a silent default)."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise UsageError(f"unknown fault family {name!r}", field="family", value=name,
                         hint=f"families are {', '.join(FAMILIES)}") from None


def default_families() -> list[str]:
    """The families a draw picks from when none is asked for (the seed's three), in catalogue order."""
    return [name for name, fam in FAMILIES.items() if fam.default_draw]


def by_priority() -> list[Family]:
    """The families in the order the detective asks them (most specific evidence first)."""
    return sorted(FAMILIES.values(), key=lambda f: f.priority)


def scenario(name: str) -> Scenario:
    """The scenario (or red herring) called `name`, or a clear error listing the known ones."""
    try:
        return SCENARIOS[name] if name in SCENARIOS else BENIGN[name]
    except KeyError:
        raise UsageError(f"unknown scenario {name!r}", field="scenario", value=name,
                         hint=f"scenarios are {', '.join(SCENARIOS)}") from None


def fixes() -> dict[str, Callable[..., Any]]:
    """Every player's fix by name: each family's, and a restart (which fixes less than one hopes)."""
    out: dict[str, Callable[..., Any]] = {"restart": restart}
    for fam in FAMILIES.values():
        out.update(fam.fixes)
    return out


def fix(name: str) -> Callable[..., Any]:
    """The player's fix called `name`, or a one-line error listing them."""
    known = fixes()
    if name not in known:
        raise UsageError(f"unknown fix {name!r}", field="fix", value=name, hint=f"fixes are {', '.join(known)}")
    return known[name]


def validate(backend: Backend, name: str, targets: list[str],
             params: dict[str, Any]) -> tuple[Scenario, list[str], dict[str, Any]]:
    """Check a request completely before anything changes; return it normalised."""
    sc = scenario(name)
    missing = backend.features.lacks(sc.requires)
    if missing:
        raise UsageError(f"scenario {name} needs {', '.join(sorted(missing))}, which the {backend.name} backend "
                         "lacks here",
                         field="scenario", value=name, hint="pick another scenario")
    known = backend.targets()
    if not targets:
        raise UsageError(f"scenario {name} needs at least one --target", field="target",
                         hint=f"targets are {', '.join(known)}")
    for t in targets:
        if t not in known:
            raise UsageError(f"unknown target {t!r}", field="target", value=t, hint=f"targets are {', '.join(known)}")
    if len(set(targets)) != len(targets):
        raise UsageError("a target is named twice", field="target", value=targets)
    if not sc.min_targets <= len(targets) <= min(sc.max_targets, len(known)):
        raise UsageError(f"scenario {name} takes {sc.min_targets} to {min(sc.max_targets, len(known))} targets, "
                         f"got {len(targets)}", field="target", value=targets)
    unknown = set(params) - set(sc.params)
    if unknown:
        allowed = ", ".join(sc.params) or "none"
        raise UsageError(f"unknown parameter {sorted(unknown)[0]!r} for {name}", field="param",
                         value=sorted(unknown)[0], hint=f"its parameters: {allowed}")
    clean = {k: p.parse(k, params.get(k, p.default)) for k, p in sc.params.items()}
    return sc, list(targets), clean
