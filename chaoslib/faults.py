"""The fault catalogue: every scenario is data plus a composition of backend primitives.

A scenario action is a plain function with keyword arguments, as Chaos Toolkit's
extensions write actions. It receives the backend and a `journal` callback, and records
the undo step for each change *before* making it (write-ahead), so an injection cut short
by a crash still leaves a complete recipe for `panic` and the warden.

Written only against `Backend`: each backend gets every scenario for free.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Callable

from .backends.base import DATABASE, LOAD_BALANCER, Backend, Limits
from .errors import UsageError

#: Records one undo step (a primitive name and its keyword arguments).
Journal = Callable[[dict], None]

NETWORK, DISK, RESOURCES = "network", "disk", "resources"
FAMILIES = (NETWORK, DISK, RESOURCES)


@dataclass(frozen=True)
class Param:
    """A scenario parameter: its type, its allowed range and its default."""

    kind: type
    low: float
    high: float
    default: float
    help: str = ""

    def parse(self, name: str, raw: Any) -> Any:
        try:
            value = self.kind(raw)
        except (TypeError, ValueError) as e:
            raise UsageError(f"parameter {name} must be a {self.kind.__name__}, got {raw!r}",
                             field=name, value=raw) from e
        if not self.low <= value <= self.high:
            raise UsageError(f"parameter {name} must be between {self.low} and {self.high}, got {value}",
                             field=name, value=value, hint=self.help)
        return value


@dataclass(frozen=True)
class Scenario:
    """One variant of a fault family."""

    name: str
    family: str
    action: Callable[..., None]
    description: str
    params: dict[str, Param] = field(default_factory=dict)
    min_targets: int = 1
    max_targets: int = 9
    #: Flags of backends.base.Features this scenario needs.
    requires: frozenset[str] = frozenset()


# -- actions: network ------------------------------------------------------------------
def lb_packet_loss(backend: Backend, *, key: str, targets: list[str], fraction: float, journal: Journal) -> None:
    """Drop a fraction of the packets the load balancer sends to each target replica."""
    for t in targets:
        rule = f"{key}.{t}"
        journal({"op": "remove_network_rules", "key": rule})
        backend.drop_packets(key=rule, source=LOAD_BALANCER, target=t, fraction=fraction)


def lb_cutoff(backend: Backend, *, key: str, targets: list[str], journal: Journal) -> None:
    """Cut the load balancer off from each target replica entirely."""
    lb_packet_loss(backend, key=key, targets=targets, fraction=1.0, journal=journal)


def db_cutoff(backend: Backend, *, key: str, targets: list[str], journal: Journal) -> None:
    """Cut target replicas off from PostgreSQL, as a firewall change would; exporters keep working."""
    for t in targets:
        rule = f"{key}.{t}"
        journal({"op": "remove_network_rules", "key": rule})
        backend.drop_packets(key=rule, source=t, target=DATABASE, fraction=1.0)


def lb_latency(backend: Backend, *, key: str, targets: list[str], delay_ms: int, journal: Journal) -> None:
    """Add latency between the load balancer and the targets (only where netem exists)."""
    for t in targets:
        rule = f"{key}.{t}"
        journal({"op": "remove_network_rules", "key": rule})
        backend.delay_packets(key=rule, source=LOAD_BALANCER, target=t, delay_ms=int(delay_ms))


# -- actions: disk ------------------------------------------------------------------------
#: Plausible places for what fills an app's disk: forgotten upload parts, a rotated journal
#: nobody compresses, a core dump, an export a cron job left behind.
JUNK_PLACES = (
    "cache/uploads/upload-{n}.part",
    "journal/archive/events-2026{n:04d}.jsonl.old",
    "tmp/core.gunicorn.{n}",
    "exports/polls-export-{n}.csv",
)


def junk_path(key: str) -> str:
    """A plausible path for a fault's junk file, derived from its key (repeatable)."""
    rng = random.Random(key)
    return rng.choice(JUNK_PLACES).format(n=rng.randrange(1000, 9999))


def disk_fill(backend: Backend, *, key: str, targets: list[str], journal: Journal) -> None:
    """Fill each target's disk with junk until writes fail with ENOSPC."""
    for t in targets:
        path = junk_path(f"{key}.{t}")
        journal({"op": "remove_file", "target": t, "path": path})
        usage = backend.disk_usage(target=t)
        backend.write_file(target=t, path=path, size_bytes=usage.size_bytes, tag=key)


def disk_crashloop(backend: Backend, *, key: str, targets: list[str], journal: Journal) -> None:
    """Fill the disk, then restart the replica: it cannot boot on a full disk (crash loop)."""
    disk_fill(backend, key=key, targets=targets, journal=journal)
    for t in targets:
        journal({"op": "ensure_running", "target": t})
        backend.restart(target=t)


# -- actions: resources -----------------------------------------------------------------------
def _cycle_with_limits(backend: Backend, *, targets: list[str], limits: Limits, journal: Journal) -> None:
    for t in targets:
        before = backend.get_limits(target=t)
        journal({"op": "set_limits", "target": t, "cpu": before.cpu, "memory": before.memory})
        journal({"op": "ensure_running", "target": t})
        backend.stop(target=t)
        backend.set_limits(target=t, limits=Limits(cpu=limits.cpu if limits.cpu is not None else before.cpu,
                                                   memory=limits.memory if limits.memory is not None
                                                   else before.memory))
        backend.ensure_running(target=t)


def cpu_starve(backend: Backend, *, key: str, targets: list[str], cpu: float, journal: Journal) -> None:
    """Give each target a tiny CPU quota, then cycle it."""
    _cycle_with_limits(backend, targets=targets, limits=Limits(cpu=cpu), journal=journal)


def memory_starve(backend: Backend, *, key: str, targets: list[str], memory_mb: int, journal: Journal) -> None:
    """Set each target's memory limit below its working set, then cycle it: OOM kills follow."""
    _cycle_with_limits(backend, targets=targets, limits=Limits(memory=int(memory_mb) * 1024 * 1024),
                       journal=journal)


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("lb-loss", NETWORK, lb_packet_loss,
             "packet loss between the load balancer and replicas",
             {"fraction": Param(float, 0.05, 0.95, 0.5, "a fraction, e.g. 0.5 for 50 percent")}),
    Scenario("lb-cutoff", NETWORK, lb_cutoff, "a replica cut off from the load balancer", max_targets=8),
    Scenario("db-cutoff", NETWORK, db_cutoff, "replicas cut off from PostgreSQL"),
    Scenario("lb-latency", NETWORK, lb_latency, "added latency between the load balancer and replicas (netem)",
             {"delay_ms": Param(int, 10, 5000, 400, "milliseconds")}, requires=frozenset({"has_netem"})),
    Scenario("disk-full", DISK, disk_fill, "replicas' disks filled with junk"),
    Scenario("disk-crashloop", DISK, disk_crashloop, "a full disk, then a restart that cannot boot"),
    Scenario("cpu-starve", RESOURCES, cpu_starve, "a tiny CPU quota, then a restart",
             {"cpu": Param(float, 0.005, 0.5, 0.02, "cores, e.g. 0.02")}),
    Scenario("memory-starve", RESOURCES, memory_starve, "a memory limit below the working set, then a restart",
             {"memory_mb": Param(int, 4, 256, 24, "MiB")}),
)}


def scenario(name: str) -> Scenario:
    """The scenario called `name`, or a clear error listing the known ones."""
    try:
        return SCENARIOS[name]
    except KeyError:
        raise UsageError(f"unknown scenario {name!r}", field="scenario", value=name,
                         hint=f"scenarios are {', '.join(SCENARIOS)}") from None


def validate(backend: Backend, name: str, targets: list[str], params: dict[str, Any]) -> tuple[Scenario, list[str], dict]:
    """Check a request completely before anything changes; return it normalised."""
    sc = scenario(name)
    missing = backend.features.lacks(sc.requires)
    if missing:
        raise UsageError(f"scenario {name} needs {', '.join(sorted(missing))}, which this machine lacks",
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
