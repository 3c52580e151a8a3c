"""The network family: packet loss or a cut between the load balancer and a replica, or the apps and the database.

Faults are firewall rules (nftables) the backend adds; the player's fix is to find and
remove them. The detective reads the load balancer's view of each server, Traefik's access
log (lost segments make a replica's requests slow) and the database errors each app reports.
"""
from __future__ import annotations

import json
from collections.abc import Collection

import pandas as pd

from chaoslib.backends.base import DATABASE, LOAD_BALANCER, Backend, Probe
from chaoslib.errors import ChaosError
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
from chaoslib.observe.logs import Logs
from chaoslib.stack import Stack

__all__ = ["FAMILY", "NETWORK", "lb_packet_loss", "lb_cutoff", "db_cutoff", "lb_latency", "firewall_rules",
           "remove_firewall_rules", "LOSS_EVIDENCE_S", "SLOW_MS", "SLOW_SHARE", "MIN_REQUESTS", "slow_replicas"]

NETWORK = "network"
#: Packet loss is only named on this much evidence (seconds of the load balancer's view).
LOSS_EVIDENCE_S = 45.0
#: A proxied request slower than this counts as slow; a replica with this share of slow
#: requests (and at least MIN_REQUESTS of them) MORE than the least slow replica shows packet
#: loss on the way to it. Relative, because a loaded machine (or a busy Docker host) makes every
#: replica a little slow, and a draw never hits every replica: the least slow one is the floor.
SLOW_MS, SLOW_SHARE, MIN_REQUESTS = 250.0, 0.08, 10


def slow_replicas(lb_slow: dict[str, float], claimed: Collection[str] = frozenset()) -> set[str]:
    """The replicas not explained otherwise whose share of slow proxied requests stands SLOW_SHARE
    above the least slow one's (above none, when only one is left to compare)."""
    shares = {r: v for r, v in lb_slow.items() if r not in claimed}
    floor = min(shares.values()) if len(shares) >= 2 else 0.0
    return {r for r, share in shares.items() if share >= floor + SLOW_SHARE}


# -- scenarios ------------------------------------------------------------------------------
def lb_packet_loss(backend: Backend, *, key: str, targets: list[str], fraction: float, record_undo: RecordUndo) -> None:
    """Drop a fraction of the packets the load balancer sends to each target replica."""
    for t in targets:
        rule = f"{key}.{t}"
        record_undo({"op": "remove_network_rules", "key": rule})
        backend.drop_packets(key=rule, source=LOAD_BALANCER, target=t, fraction=fraction)


def lb_cutoff(backend: Backend, *, key: str, targets: list[str], record_undo: RecordUndo) -> None:
    """Cut the load balancer off from each target replica entirely."""
    lb_packet_loss(backend, key=key, targets=targets, fraction=1.0, record_undo=record_undo)


def db_cutoff(backend: Backend, *, key: str, targets: list[str], record_undo: RecordUndo) -> None:
    """Cut target replicas off from PostgreSQL, as a firewall change would; exporters keep working."""
    for t in targets:
        rule = f"{key}.{t}"
        record_undo({"op": "remove_network_rules", "key": rule})
        backend.drop_packets(key=rule, source=t, target=DATABASE, fraction=1.0)


def lb_latency(backend: Backend, *, key: str, targets: list[str], delay_ms: int, record_undo: RecordUndo) -> None:
    """Add latency between the load balancer and the targets (only where netem exists)."""
    for t in targets:
        rule = f"{key}.{t}"
        record_undo({"op": "remove_network_rules", "key": rule})
        backend.delay_packets(key=rule, source=LOAD_BALANCER, target=t, delay_ms=int(delay_ms))


SCENARIOS = (
    Scenario("lb-loss", NETWORK, lb_packet_loss, "packet loss between the load balancer and replicas",
             {"fraction": Param(float, 0.05, 0.95, 0.5, "a fraction, e.g. 0.5 for 50 percent",
                               "{value:.0%} of the packets dropped")},
             strength={"easy": Strength("fraction", 0.6, 0.8), "normal": Strength("fraction", 0.45, 0.6),
                       "hard": Strength("fraction", 0.35, 0.45)}),
    Scenario("lb-cutoff", NETWORK, lb_cutoff, "a replica cut off from the load balancer", max_targets=8,
             drawn_alone=True),
    Scenario("db-cutoff", NETWORK, db_cutoff, "replicas cut off from PostgreSQL", easy_everywhere=True,
             second_fault=False),
    Scenario("lb-latency", NETWORK, lb_latency, "added latency between the load balancer and replicas (netem)",
             {"delay_ms": Param(int, 10, 5000, 400, "milliseconds", "{value} ms of added delay")},
             requires=frozenset({"has_netem"}),
             strength={"easy": Strength("delay_ms", 1000, 2000), "normal": Strength("delay_ms", 400, 1000),
                       "hard": Strength("delay_ms", 150, 400)}),
)


# -- is it undone? -----------------------------------------------------------------------------
def effect_gone(backend: Backend, targets: list[str]) -> tuple[bool, str]:
    """No firewall rule of the project touches the targets any more."""
    left = [r for r in backend.network_rules() if {r.source, r.target} & set(targets)]
    return not left, f"{len(left)} firewall rule(s) still affect {', '.join(targets)}"


# -- the player's fixes --------------------------------------------------------------------------
def firewall_rules(stack: Stack) -> pd.DataFrame:
    """The project's firewall rules now in force: key, source, target, drop fraction."""
    rows = [{"key": r.key, "source": r.source, "target": r.target, "drop_fraction": r.fraction}
            for r in stack.backend.network_rules()]
    return pd.DataFrame(rows, columns=["key", "source", "target", "drop_fraction"])


def remove_firewall_rules(stack: Stack, *, target: str) -> int:
    """Undo the firewall change for a target: remove every rule between it and the LB or the database."""
    known_target(stack, target)
    keys = {r.key for r in stack.backend.network_rules()
            if target in (r.source, r.target) and {r.source, r.target} & {LOAD_BALANCER, DATABASE, target}}
    return sum(stack.backend.remove_network_rules(key=k) for k in sorted(keys))


def autofix(stack: Stack, target: str, apply: Apply) -> str:
    """What an engineer does once sure the network is to blame: remove the rules touching the replica."""
    removed = apply(stack, "remove_firewall_rules", target=target)["result"]
    return f"removed {removed} firewall rule(s) affecting {target}"


def _fix_tab(ui: FixUI) -> TabWidgets:
    import ipywidgets as w  # ipywidgets is heavy: loaded only when the fix panel is drawn

    stack, say = ui.stack, ui.say
    target = ui.target_dropdown()
    show, remove = w.Button(description="Show firewall rules"), w.Button(description="Remove firewall rules")

    def show_rules() -> None:
        mine = [r for r in firewall_rules(stack).to_dict("records") if target.value in (r["source"], r["target"])]
        say(f"{target.value}: " + (", ".join(f"{r['source']} -> {r['target']} drops {r['drop_fraction']:.0%}"
                                             for r in mine) or "no firewall rule"))
    ui.action(show, ui.out, show_rules)
    ui.action(remove, ui.out, lambda: say(
        f"removed {ui.apply(stack, 'remove_firewall_rules', target=target.value)['result']} rule(s)"
        f" affecting {target.value}"), busy="removing...")
    return w.VBox([target, w.HBox([show, remove])]), {"show_rules": show, "remove_rules": remove}


# -- the detective's rule ------------------------------------------------------------------------
def slow_by_replica(stack: Stack, since: float) -> dict[str, dict[str, float]]:
    """From Traefik's JSON access log: per replica, the share of requests slower than SLOW_MS.

    Packet loss between the load balancer and a replica shows here first: lost segments are
    retransmitted after 200 ms or more, so that replica's requests get slow while its peers'
    do not. Replicas with fewer than MIN_REQUESTS requests in the window are left out. The
    apps' own log lines saying the database is unreachable are counted here too.
    """
    logs = Logs(backend=stack.backend)
    out: dict[str, dict[str, float]] = {"lb_slow": {}, "db_log_errors": {}}
    try:
        df = logs.search(text="database unreachable", since=since, limit=None)
        if not df.empty:
            out["db_log_errors"] = {str(k): float(v) for k, v in df.groupby("replica").size().items() if k}
    except ChaosError:  # logs are a second opinion; metrics decide
        pass
    try:
        replicas = {s.address: s.name for s in stack.status() if s.kind == "replica" and s.address}
        df = logs.search(service="traefik", text="ServiceAddr", since=since, limit=None)
    except ChaosError:
        return out
    counts: dict[str, list[int]] = {}
    for line in df.get("line", []):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        name = replicas.get(entry.get("ServiceAddr", ""))
        if name is None or "OriginDuration" not in entry:
            continue
        seen = counts.setdefault(name, [0, 0])
        seen[0] += 1
        seen[1] += entry["OriginDuration"] / 1e6 > SLOW_MS
    out["lb_slow"] = {r: slow / total for r, (total, slow) in counts.items() if total >= MIN_REQUESTS}
    return out


def rule(s: Signals, claimed: set[str]) -> Finding | Pending | None:
    """Cut from the database (its errors), else out of the load balancer's rotation or slow behind it."""
    db = sorted((set(r for r, v in s.db_errors.items() if v > 0) | set(s.db_log_errors)) - claimed)
    if db:
        ev = [f"{r}: {s.db_errors.get(r, 0):.0f} database connection errors, "
              f"{s.db_log_errors.get(r, 0):.0f} 'database unreachable' log lines" for r in db]
        return Finding(NETWORK, db, "cut off from the database", ev, 0.8)
    slow = slow_replicas(s.lb_slow, claimed)
    out = sorted(r for r in s.scrape_up if r not in claimed and s.scrape_up[r] >= 0.99 and
                 (s.lb_up.get(r, 1.0) < 0.95 or r in slow))
    if not out:
        return None
    ev = [f"{r}: in the load balancer's rotation {s.lb_up.get(r, 1.0):.0%} of the time, "
          f"{s.lb_slow.get(r, 0.0):.0%} of its proxied requests over {SLOW_MS:.0f} ms, "
          f"yet Prometheus reaches it directly and it has no resource trouble" for r in out]
    if all(s.lb_up.get(r, 1.0) < 0.2 for r in out):
        return Finding(NETWORK, out, "cut off from the load balancer", ev, 0.7)
    if s.window_s < LOSS_EVIDENCE_S:
        # Loss shows as a few failed health checks among many: a short window can miss a
        # replica that suffers it too. Say so rather than name too few targets.
        return Pending(NETWORK, "possible packet loss, evidence still thin",
                       ev + [f"only {s.window_s:.0f} s of evidence; wait for {LOSS_EVIDENCE_S:.0f} s"])
    return Finding(NETWORK, out, "packet loss between the load balancer and the replica", ev, 0.7)


def effect_probe(scenario: str, target: str, probe: Probe) -> EffectCheck:
    """Seen from outside: the load balancer fails to connect to the target, or the target to the database."""
    if scenario == "db-cutoff":
        return lambda: not probe.db_reachable_from(target)
    return lambda: probe.lb_connect_failures(target, 10) > 0


FAMILY = Family(
    name=NETWORK, scenarios=SCENARIOS, effect_gone=effect_gone,
    fixes={"remove_firewall_rules": remove_firewall_rules}, views={"firewall-rules": firewall_rules},
    autofix=autofix, rule=rule, priority=30,
    hint="network: compare the load balancer's view of each server (in rotation? slow?) with Prometheus' "
         "direct scrape, and look for database connection errors.",
    queries={
        "lb_up": "avg by (replica) (avg_over_time(traefik_service_server_up[{w1}]))",
        "scrape_up": "avg by (replica) (avg_over_time(up{{job='pollapp'}}[{w1}]))",
        "db_errors": "sum by (replica) (increase(django_db_new_connection_errors_total[{w}]))",
    },
    gather=slow_by_replica, gathered=("lb_slow", "db_log_errors"), fix_tab=FixTab("Firewall", _fix_tab),
    effect_probe=effect_probe,
)
