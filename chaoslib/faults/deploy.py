"""The deploy family: one or two replicas rolled to a faulty release (failing votes, or an N+1 on reads).

Most outages follow a change: here a release (pollapp/releases.py) rolled to part of the fleet.
The release survives a restart; the player's fix is to roll the replica back, after reading each
replica's release history. The detective lines a version change up with that replica's symptom.
"""
from __future__ import annotations

from collections import Counter

import pandas as pd

from chaoslib.backends.base import Backend, Probe
from chaoslib.errors import ChaosError, UsageError
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
from pollapp import releases

__all__ = ["FAMILY", "DEPLOY", "deploy_bad_votes", "deploy_slow_reads", "rollback", "release_history",
           "previous_release", "ERROR_RATIO", "SLOW_P95_S"]

DEPLOY = "deploy"
#: A rolled replica with this share of its requests failing, or this p95, shows its release's symptom.
ERROR_RATIO, SLOW_P95_S = 0.05, 0.25
#: Seconds of evidence after which a release change with no symptom is named anyway (weakly).
SYMPTOM_WAIT_S = 60.0
_APP = 'job="pollapp",view!~"livez|healthz|prometheus-django-metrics"'


# -- scenarios ------------------------------------------------------------------------------
def _roll(backend: Backend, *, targets: list[str], release: str, settings: dict[str, str],
          record_undo: RecordUndo) -> None:
    for t in targets:
        record_undo({"op": "set_release", "target": t, "release": backend.release(target=t)})
        backend.set_release(target=t, release=release, settings=settings)


def deploy_bad_votes(backend: Backend, *, key: str, targets: list[str], share: float,
                     record_undo: RecordUndo) -> None:
    """Roll each target to the release whose new vote serializer fails `share` of the votes with a 500."""
    _roll(backend, targets=targets, release=releases.FAULTY_VOTES,
          settings={"APP_VOTE_ERROR_SHARE": f"{share:g}"}, record_undo=record_undo)


def deploy_slow_reads(backend: Backend, *, key: str, targets: list[str], delay_ms: float,
                      record_undo: RecordUndo) -> None:
    """Roll each target to the release that re-reads every choice's count (an N+1 query, `delay_ms` each)."""
    _roll(backend, targets=targets, release=releases.SLOW_READS,
          settings={"APP_TALLY_QUERIES": "1", "APP_TALLY_DELAY_MS": f"{delay_ms:g}"}, record_undo=record_undo)


SCENARIOS = (
    Scenario("deploy-bad-votes", DEPLOY, deploy_bad_votes,
             f"release {releases.FAULTY_VOTES} rolled to replicas: its new vote serializer fails a share of "
             f"votes with a 500 (KeyError: 'weight')",
             {"share": Param(float, 0.05, 1.0, 0.7, "a share of the votes, e.g. 0.7",
                             "{value:.0%} of its votes failing")},
             min_targets=1, max_targets=2, requires=frozenset({"releases"}),
             # Votes are a third of the traffic and a replica a third of that: the load balancer's error
             # ratio is about share / 9, and it pages over 5 %, so the hardest share stays above 0.5.
             strength={"easy": Strength("share", 0.85, 1.0), "normal": Strength("share", 0.65, 0.8),
                       "hard": Strength("share", 0.55, 0.65)}),
    Scenario("deploy-slow-reads", DEPLOY, deploy_slow_reads,
             f"release {releases.SLOW_READS} rolled to replicas: it re-reads each choice's count, an N+1 query "
             f"on every read",
             # The default is normal's middle, as the other scenarios' are: what a normal game draws on average.
             {"delay_ms": Param(float, 0.5, 50.0, 4.0, "milliseconds per extra query",
                                "{value:g} ms per extra query")},
             min_targets=1, max_targets=2, requires=frozenset({"releases"}),
             # A list of the latest 50 polls reads every choice again (~150 queries): 2 ms each is ~0.4 s.
             strength={"easy": Strength("delay_ms", 5.0, 8.0), "normal": Strength("delay_ms", 3.0, 5.0),
                       "hard": Strength("delay_ms", 2.0, 3.0)}),
)


def effect_gone(backend: Backend, targets: list[str]) -> tuple[bool, str]:
    """Every target runs a good release again."""
    bad = [f"{t} ({v})" for t in targets if not releases.get(v := backend.release(target=t)).good]
    return not bad, f"{', '.join(bad)} still on a faulty release"


# -- the player's fixes --------------------------------------------------------------------------
def previous_release(stack: Stack, target: str) -> str:
    """The release a target ran before its current one (its history), or a one-line error when it has none."""
    history = [v for _, v in stack.backend.release_history(target=known_target(stack, target))]
    earlier = [v for v in history[:-1] if v != history[-1]] if history else []
    if not earlier:
        raise UsageError(f"{target} has run only {history[-1] if history else 'one release'} since the stack "
                         f"started: there is nothing to roll back to", field="target", value=target,
                         hint="look at the release-history view")
    return earlier[-1]


def rollback(stack: Stack, *, target: str, release: str | None = None) -> str:
    """Roll a target back to the release it ran before (or to `release`); returns the release it runs now."""
    version = release or previous_release(stack, target)
    stack.backend.set_release(target=known_target(stack, target), release=version)
    return version


def release_history(stack: Stack, *, target: str | None = None) -> pd.DataFrame:
    """Each replica's releases since the stack started (or one target's), oldest first, with their notes.

    A backend that cannot roll releases (Features.releases) has no history: an empty frame that says so.
    """
    names = [known_target(stack, target)] if target else stack.targets()
    columns = ["replica", "since", "version", "revision", "notes", "running"]
    if not stack.backend.features.releases:
        empty = pd.DataFrame(columns=columns)
        empty.attrs["note"] = f"the {stack.backend.name} backend does not roll releases: each replica runs its image's"
        return empty
    rows = []
    for name in names:
        history = stack.backend.release_history(target=name)
        for i, (since, version) in enumerate(history):
            rel = releases.RELEASES.get(version)
            rows.append({"replica": name, "since": pd.Timestamp(since, unit="s", tz="UTC"), "version": version,
                         "revision": rel.revision if rel else "", "notes": rel.summary if rel else "",
                         "running": i == len(history) - 1})
    return pd.DataFrame(rows, columns=columns)


def autofix(stack: Stack, target: str, apply: Apply) -> str:
    """Roll the replica back to the release it ran before."""
    done = apply(stack, "rollback", target=target)["result"]
    return f"rolled {target} back to release {done}"


def _fix_tab(ui: FixUI) -> TabWidgets:
    import ipywidgets as w  # ipywidgets is heavy: loaded only when the fix panel is drawn

    stack, say = ui.stack, ui.say
    target = ui.target_dropdown()
    show, back = w.Button(description="Show release history"), w.Button(description="Roll back")

    def show_history() -> None:
        rows = release_history(stack, target=target.value).to_dict("records")
        say(f"{target.value}: " + " -> ".join(f"{r['version']} since {r['since']:%H:%M:%S}" for r in rows))
    ui.action(show, ui.out, show_history)
    ui.action(back, ui.out, lambda: say(
        f"rolled {target.value} back to release {ui.apply(stack, 'rollback', target=target.value)['result']}"),
        busy="rolling back...")
    return w.VBox([target, w.HBox([show, back])]), {"show_history": show, "rollback": back}


# -- the detective's rule ------------------------------------------------------------------------
def rolls(stack: Stack, since: float) -> dict[str, dict[str, float]]:
    """From the release history a player reads: each replica's rolls since `since`, and who runs a release
    its peers do not (1.0)."""
    out: dict[str, dict[str, float]] = {"deploy_rolls": {}, "deploy_off_peers": {}}
    if not stack.backend.features.releases:  # a backend that cannot roll has no history to read
        return out
    try:
        running = {t: stack.backend.release(target=t) for t in stack.targets()}
        for t in running:
            # The first entry is the stack's start on CURRENT, not a roll.
            n = sum(1 for at, _ in stack.backend.release_history(target=t)[1:] if at >= since)
            if n:
                out["deploy_rolls"][t] = float(n)
    except ChaosError:  # a backend without releases has nothing to say
        return out
    common = Counter(running.values()).most_common()
    if len(common) > 1 and common[0][1] > common[1][1]:
        out["deploy_off_peers"] = {t: 1.0 for t, v in running.items() if v != common[0][0]}
    return out


def rule(s: Signals, claimed: set[str]) -> Finding | Pending | None:
    """Replicas whose release changed in the window (else that differ from their peers'), with their symptom."""
    changed = sorted(r for r in {*s.deploy_rolls, *s.deploy_versions} if r not in claimed and
                     (s.deploy_rolls.get(r, 0) > 0 or s.deploy_versions.get(r, 0) >= 2))
    # Peers are a weaker witness (two replicas of three rolled are the majority): only without a change seen.
    changed = changed or sorted(r for r, v in s.deploy_off_peers.items() if v > 0 and r not in claimed)
    if not changed:
        return None
    erring = [r for r in changed if s.deploy_errors.get(r, 0.0) >= ERROR_RATIO]
    slow = [r for r in changed if s.deploy_p95.get(r, 0.0) >= SLOW_P95_S]
    ev = [f"{r}: its release changed ({s.deploy_rolls.get(r, 0):.0f} roll(s) in this window); "
          f"{s.deploy_errors.get(r, 0.0):.0%} of its requests fail, p95 {s.deploy_p95.get(r, 0.0) * 1000:.0f} ms"
          for r in changed]
    if erring or slow:
        cause = "a faulty release: " + " and ".join(
            [w for w, hit in (("votes fail with 500s", erring), ("reads are slow", slow)) if hit])
        return Finding(DEPLOY, changed, cause, ev, 0.85)
    if s.window_s < SYMPTOM_WAIT_S:
        return Pending(DEPLOY, "a release changed; its symptom not seen yet", ev)
    return Finding(DEPLOY, changed, "a release change (no clear symptom)", ev, 0.5)


def effect_probe(scenario: str, target: str, probe: Probe) -> EffectCheck:
    """Seen as its scraper sees it: the replica answers on the faulty release."""
    version = releases.FAULTY_VOTES if scenario == "deploy-bad-votes" else releases.SLOW_READS
    return lambda: probe.version(target) == version


FAMILY = Family(
    name=DEPLOY, scenarios=SCENARIOS, effect_gone=effect_gone,
    fixes={"rollback": rollback}, views={"release-history": release_history}, autofix=autofix, rule=rule,
    priority=5, gather=rolls, gathered=("deploy_rolls", "deploy_off_peers"),
    hint="deploy: look at which release each replica runs and when it changed, against that replica's "
         "errors and latency.",
    queries={
        "deploy_versions": "count by (replica) (count_over_time(pollapp_build_info{{job='pollapp'}}[{w}]))",
        "deploy_errors": f"sum by (replica) (rate(django_http_responses_total_by_status_view_method_total"
                         f"{{{{{_APP},status=~'5..'}}}}[{{w1}}])) / (sum by (replica) (rate("
                         f"django_http_requests_total_by_view_transport_method_total{{{{{_APP}}}}}[{{w1}}])) > 0)",
        "deploy_p95": f"histogram_quantile(0.95, sum by (replica, le) (rate("
                      f"django_http_requests_latency_seconds_by_view_method_bucket{{{{{_APP}}}}}[{{w1}}])))",
    },
    fix_tab=FixTab("Releases", _fix_tab), effect_probe=effect_probe, default_draw=False,
)
