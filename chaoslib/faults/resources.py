"""The resources family: a tiny CPU quota or a memory limit below the working set, then a restart.

The player raises the replica's limits and restarts it; the detective reads OOM kills,
the CPU quota and CFS throttling per replica.
"""
from __future__ import annotations

from chaoslib.backends.base import DEFAULT_LIMITS, MAX_MEMORY_BYTES, MIN_MEMORY_BYTES, Backend, Limits, Probe
from chaoslib.errors import UsageError
from chaoslib.faults.catalogue import (
    Apply,
    EffectCheck,
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
    TabWidgets,
    known_target,
)
from chaoslib.stack import Stack

__all__ = ["FAMILY", "RESOURCES", "cpu_starve", "memory_starve", "set_limits", "MIN_MEMORY_MB", "MAX_MEMORY_MB",
           "MIN_CPU", "MAX_CPU", "LOW_CPU", "LOW_MEMORY_MB", "HEALTHY_CPU", "HEALTHY_MEMORY_MB"]

RESOURCES = "resources"
#: The memory limits the game sets, fault or fix: inside what every backend accepts, and no lower
#: than a Python app can start in (so a fault bites by OOM kills, not by a refusal to boot).
MIN_MEMORY_MB, MAX_MEMORY_MB = 16, MAX_MEMORY_BYTES // 2**20
MIN_CPU, MAX_CPU = 0.005, 64.0
assert MIN_MEMORY_MB * 2**20 >= MIN_MEMORY_BYTES, "the game's memory floor must be one every backend accepts"
#: Limits under these still count as the fault's effect.
LOW_CPU, LOW_MEMORY_MB = 0.25, 128
#: What the autopilot (and the widget's defaults) set: a replica's healthy limits.
assert DEFAULT_LIMITS.cpu is not None and DEFAULT_LIMITS.memory is not None, "a healthy replica has both limits"
HEALTHY_CPU, HEALTHY_MEMORY_MB = DEFAULT_LIMITS.cpu, DEFAULT_LIMITS.memory // 2**20
#: The detective names a CPU quota under this, or a replica throttled in more than THROTTLED of its periods.
STARVED_CPU, THROTTLED = 0.2, 0.5


# -- scenarios ------------------------------------------------------------------------------
def _cycle_with_limits(backend: Backend, *, targets: list[str], limits: Limits, record_undo: RecordUndo) -> None:
    for t in targets:
        before = backend.get_limits(target=t)
        record_undo({"op": "set_limits", "target": t, "cpu": before.cpu, "memory": before.memory})
        record_undo({"op": "ensure_running", "target": t})
        backend.stop(target=t)
        backend.set_limits(target=t, limits=Limits(cpu=limits.cpu if limits.cpu is not None else before.cpu,
                                                   memory=limits.memory if limits.memory is not None
                                                   else before.memory))
        backend.ensure_running(target=t)


def cpu_starve(backend: Backend, *, key: str, targets: list[str], cpu: float, record_undo: RecordUndo) -> None:
    """Give each target a tiny CPU quota, then cycle it."""
    _cycle_with_limits(backend, targets=targets, limits=Limits(cpu=cpu), record_undo=record_undo)


def memory_starve(backend: Backend, *, key: str, targets: list[str], memory_mb: int, record_undo: RecordUndo) -> None:
    """Set each target's memory limit below its working set, then cycle it: OOM kills follow."""
    _cycle_with_limits(backend, targets=targets, limits=Limits(memory=int(memory_mb) * 1024 * 1024),
                       record_undo=record_undo)


SCENARIOS = (
    Scenario("cpu-starve", RESOURCES, cpu_starve, "a tiny CPU quota, then a restart",
             {"cpu": Param(float, MIN_CPU, 0.5, 0.02, "cores, e.g. 0.02", "a CPU quota of {value:g} cores")},
             strength={"easy": Strength("cpu", 0.01, 0.02), "normal": Strength("cpu", 0.02, 0.05),
                       "hard": Strength("cpu", 0.05, 0.1)}),
    Scenario("memory-starve", RESOURCES, memory_starve, "a memory limit below the working set, then a restart",
             {"memory_mb": Param(int, MIN_MEMORY_MB, 256, 24, "MiB", "a memory limit of {value} MiB")},
             strength={"easy": Strength("memory_mb", 16, 16), "normal": Strength("memory_mb", 20, 28),
                       "hard": Strength("memory_mb", 28, 36)}),
)


def effect_gone(backend: Backend, targets: list[str]) -> tuple[bool, str]:
    """Every target's limits are back to livable (CPU and memory)."""
    low = []
    for t in targets:
        lim = backend.get_limits(target=t)
        low_memory = lim.memory is not None and lim.memory < LOW_MEMORY_MB * 2**20
        if (lim.cpu is not None and lim.cpu < LOW_CPU) or low_memory:
            low.append(t)
    return not low, f"limits of {', '.join(low)} still too low"


# -- the player's fixes --------------------------------------------------------------------------
def set_limits(stack: Stack, *, target: str, cpu: float | None = None, memory_mb: int | None = None,
               restart: bool = True) -> Limits:
    """Set a target's CPU (cores) and memory (MiB) limits, then restart it so they apply cleanly."""
    known_target(stack, target)
    if cpu is None and memory_mb is None:
        raise UsageError("give cpu or memory_mb", field="limits",
                         hint=f"e.g. cpu={HEALTHY_CPU}, memory_mb={HEALTHY_MEMORY_MB}")
    if cpu is not None and not 0.01 <= cpu <= MAX_CPU:
        raise UsageError(f"cpu must be between 0.01 and {MAX_CPU:g} cores, got {cpu}", field="cpu", value=cpu)
    if memory_mb is not None and not MIN_MEMORY_MB <= memory_mb <= MAX_MEMORY_MB:
        raise UsageError(f"memory_mb must be between {MIN_MEMORY_MB} and {MAX_MEMORY_MB}, got {memory_mb}",
                         field="memory_mb", value=memory_mb)
    now = stack.backend.get_limits(target=target)
    limits = Limits(cpu=cpu if cpu is not None else now.cpu,
                    memory=memory_mb * 2**20 if memory_mb is not None else now.memory)
    stack.backend.set_limits(target=target, limits=limits)
    if restart:
        stack.backend.restart(target=target)
    return limits


def autofix(stack: Stack, target: str, apply: Apply) -> str:
    """Give the replica healthy limits and restart it."""
    apply(stack, "set_limits", target=target, cpu=HEALTHY_CPU, memory_mb=HEALTHY_MEMORY_MB)
    return f"set {target}'s limits to {HEALTHY_CPU:g} core(s), {HEALTHY_MEMORY_MB} MiB and restarted it"


def _fix_tab(ui: FixUI) -> TabWidgets:
    import ipywidgets as w  # ipywidgets is heavy: loaded only when the fix panel is drawn

    stack, say = ui.stack, ui.say
    target = ui.target_dropdown()
    cpu = w.FloatText(value=HEALTHY_CPU, description="CPU cores")
    mem = w.IntText(value=HEALTHY_MEMORY_MB, description="Memory MiB")
    button = w.Button(description="Set limits and restart")

    def apply() -> None:
        got = ui.apply(stack, "set_limits", target=target.value, cpu=cpu.value, memory_mb=mem.value)["result"]
        say(f"{target.value}: limits now {got.cpu:g} core(s), {got.memory / 2**20:.0f} MiB; restarted")
    ui.action(button, ui.out, apply, busy="restarting with new limits...")
    return w.VBox([target, cpu, mem, button]), {"set_limits": button}


# -- the detective's rule ------------------------------------------------------------------------
def engine_view(stack: Stack, since: float) -> dict[str, dict[str, float]]:
    """A second opinion from the engine: replicas OOM killed since `since`, and the memory limit at the kill.

    A replica the OOM killer stops at every start spends most of its time waiting for its
    restart, with no cgroup: cAdvisor, like any per-cgroup exporter, drops its series then,
    and Prometheus may never see its OOM counter move. The engine's own events still record
    each kill with its time, so only a kill inside this game's window counts (a flag such as
    Docker's State.OOMKilled outlives a stop and start: an earlier game's kill is not this one's).
    """
    out: dict[str, dict[str, float]] = {"oom_engine": {}, "memory_limit_engine_mb": {}}
    for replica, kills in stack.backend.oom_kills(since=since).items():
        if not kills:
            continue
        out["oom_engine"][replica] = float(len(kills))
        limit = kills[-1].memory_limit_bytes
        if limit:
            out["memory_limit_engine_mb"][replica] = limit / 2**20
    return out


def _oom_evidence(s: Signals, r: str) -> str:
    if s.oom_kills.get(r, 0) > 0:
        limit = s.memory_limit_mb.get(r) or s.memory_limit_engine_mb.get(r)
        kills = f"{s.oom_kills[r]:.0f} OOM kills"
    else:  # the engine's record: the limit in force at the kill, when it can be told
        limit = s.memory_limit_engine_mb.get(r)
        kills = f"OOM killed {s.oom_engine[r]:.0f} time(s) (says the engine)"
    return f"{r}: {kills}, memory limit " + (f"{limit:.0f} MiB" if limit else "at the kill unknown")


def rule(s: Signals, claimed: set[str]) -> Finding | Pending | None:
    """OOM kills first (a memory limit too low), else a tiny CPU quota or heavy throttling."""
    oom = sorted(r for r in {*s.oom_kills, *s.oom_engine}
                 if (s.oom_kills.get(r, 0) > 0 or s.oom_engine.get(r, 0) > 0) and r not in claimed)
    if oom:
        return Finding(RESOURCES, oom, "memory limit too low", [_oom_evidence(s, r) for r in oom], 0.9)
    starved = sorted(r for r, v in s.cpu_limit.items() if v < STARVED_CPU and r not in claimed) or \
        sorted(r for r, v in s.throttled.items() if v > THROTTLED and r not in claimed)
    if not starved:
        return None
    ev = [f"{r}: CPU limit {s.cpu_limit.get(r, float('nan')):.2f} cores, "
          f"throttled {s.throttled.get(r, 0):.0%} of periods" for r in starved]
    return Finding(RESOURCES, starved, "CPU limit too low", ev, 0.85)


def effect_probe(scenario: str, target: str, probe: Probe) -> EffectCheck:
    """Seen from the cgroup: new CFS throttled periods (CPU) or new OOM kills (memory)."""
    if scenario == "cpu-starve":
        base = probe.throttled_periods(target)
        return lambda: probe.throttled_periods(target) > base
    base = probe.oom_kills(target)
    return lambda: probe.oom_kills(target) > base


FAMILY = Family(
    name=RESOURCES, scenarios=SCENARIOS, effect_gone=effect_gone,
    fixes={"set_limits": set_limits}, autofix=autofix, rule=rule, priority=20, gather=engine_view,
    gathered=("oom_engine", "memory_limit_engine_mb"),
    hint="resources: look at each replica's CPU quota and throttling, its memory against its limit, "
         "and OOM kills and restarts.",
    queries={
        "oom_kills": "sum by (replica) (increase(container_oom_events_total[{w}]))",
        "throttled": "sum by (replica) (rate(container_cpu_cfs_throttled_periods_total{{replica!=''}}[{w1}]))"
                     " / (sum by (replica) (rate(container_cpu_cfs_periods_total{{replica!=''}}[{w1}])) > 0)",
        "cpu_limit": "max by (replica) (container_spec_cpu_quota / container_spec_cpu_period)",
        "memory_ratio": "max by (replica) (replica:memory_working_set:ratio_limit)",
        "memory_limit_mb": "max by (replica) (container_spec_memory_limit_bytes) / 1048576",
        "restarts": "sum by (replica) (increase(chaos_process_restarts_total[{w}]))",
    },
    fix_tab=FixTab("Limits", _fix_tab), effect_probe=effect_probe,
)
