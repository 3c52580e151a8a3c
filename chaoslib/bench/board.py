"""The leaderboard's players and seeds: the `Agent` protocol, the two baseline agents, and the board's seed sets.

An agent is any callable that takes an `AgentSession` and plays one game to its end (finish or give
up), seeing only what a person on call sees. Two baselines stand on the board: the `detective` (the
game's own rule agent) and `one-rule` (the replica with the most errors, its family from the loudest
firing alert), so a trivial rule is shown not to win. Seeds come in two sets: a published practice
set, derived from a public label, and a held-out set derived with HMAC-SHA256 from a secret that is
not in the repository (config.board_secret), so nobody can tune an agent to the board's games.
"""
from __future__ import annotations

import hashlib
import hmac
import importlib
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from chaoslib import config
from chaoslib.agents import AgentSession
from chaoslib.errors import ChaosError, UsageError
from chaoslib.faults.disk import DISK
from chaoslib.faults.network import NETWORK
from chaoslib.faults.resources import HEALTHY_CPU, HEALTHY_MEMORY_MB, RESOURCES
from chaoslib.game import Game

__all__ = ["Agent", "Detective", "OneRule", "BUILT_IN", "PRACTICE", "HELD_OUT", "NO_FAULT", "load_agent",
           "repair", "seed", "seeds", "for_game"]

#: The two seed sets, and the label of the no-fault rounds among the families.
PRACTICE, HELD_OUT, NO_FAULT = "practice", "held-out", "no-fault"
#: Seeds are drawn below this (a seed a person can type).
SEED_SPACE = 1_000_000


@runtime_checkable
class Agent(Protocol):
    """Plays one game to its end through `session` (record an answer, fix, validate, then finish or give up)."""

    def __call__(self, session: AgentSession) -> None: ...


def for_game(agent: Agent, game: Game) -> Agent:
    """The agent to play `game`: a house agent (one with `for_game`) is handed the game; any other as it is."""
    bind = getattr(agent, "for_game", None)
    return bind(game) if callable(bind) else agent


# -- seeds ----------------------------------------------------------------------------------------
def seed(board: str, family: str, index: int, *, secret: str | None = None) -> int:
    """The `index`-th seed of `family` ("no-fault" for the no-fault rounds) in the practice or held-out set.

    Practice: sha256("practice:FAMILY:INDEX"), published (anyone may replay it). Held-out:
    HMAC-SHA256(secret, "held-out:FAMILY:INDEX"): without the secret nobody can derive it.
    """
    label = f"{board}:{family}:{index}".encode()
    if board == PRACTICE:
        digest = hashlib.sha256(label).digest()
    elif board == HELD_OUT:
        if not secret:
            raise UsageError("the held-out board needs its secret (CHAOS_BOARD_SECRET)", field="board", value=board,
                             hint="set CHAOS_BOARD_SECRET, or play --board practice")
        digest = hmac.new(secret.encode(), label, hashlib.sha256).digest()
    else:
        raise UsageError(f"board must be {PRACTICE} or {HELD_OUT}, got {board!r}", field="board", value=board)
    return int.from_bytes(digest[:8], "big") % SEED_SPACE


def seeds(board: str, family: str, count: int, *, secret: str | None = None) -> list[int]:
    """The first `count` seeds of `family` in the set `board`."""
    return [seed(board, family, i, secret=secret) for i in range(count)]


def board_of(asked: str | None) -> tuple[str, str | None]:
    """The set to play and its secret: `asked`, else held-out when CHAOS_BOARD_SECRET is set, else practice."""
    secret = config.board_secret()
    chosen = asked or (HELD_OUT if secret else PRACTICE)
    if chosen == HELD_OUT and not secret:
        raise UsageError("the held-out board needs CHAOS_BOARD_SECRET (it is not in the repository)", field="board",
                         value=chosen, hint="set it, or play --board practice")
    return chosen, secret if chosen == HELD_OUT else None


# -- what both baselines do once they have named something ------------------------------------------
def repair(session: AgentSession, family: str, target: str) -> None:
    """The family's fix for one replica, through the player's fixes (a disk: delete what is not the app's, restart)."""
    if family == NETWORK:
        session.apply_fix("remove_firewall_rules", {"target": target})
    elif family == RESOURCES:
        session.apply_fix("set_limits", {"target": target, "cpu": HEALTHY_CPU, "memory_mb": HEALTHY_MEMORY_MB})
    elif family == DISK:
        files = session.view("disk-files", {"target": target})["rows"]
        junk = [f["path"] for f in files if not config.is_app_file(str(f.get("path", "")))]
        if junk:
            session.apply_fix("delete_files", {"target": target, "paths": junk})
        session.apply_fix("restart", {"target": target})


def answer(session: AgentSession, findings: dict[str, list[str]], *, evidence: str, recover_s: float) -> None:
    """Record `findings` (or "no fault" when empty), fix each, validate once, and finish."""
    if not findings:
        session.declare_no_fault(evidence=evidence)
        session.finish()
        return
    session.hypothesis([{"family": f, "targets": t} for f, t in findings.items()], evidence=evidence)
    for family, targets in findings.items():
        for target in targets:
            try:
                repair(session, family, target)
            except ChaosError:  # a fix that fails is journalled (and costs points): go on to validate
                pass
    session.validate(recover_s=recover_s)
    session.finish()


# -- the baselines ------------------------------------------------------------------------------------
class Detective:
    """The game's rule agent on the board: detective_verdict -> hypothesis -> its families' fixes -> validate.

    A house agent: the harness hands it the `Game` (for_game) because the detective lives behind the
    façade, but the detective reads only what a player sees (saturation and golden signals, the load
    balancer's view, restarts, logs, the engine's status) and never the truth; it acts through the
    `AgentSession` like any other agent. When it names nothing it answers "no fault".
    """

    def __init__(self, *, timeout_s: float = 90.0, recover_s: float = 120.0, game: Game | None = None) -> None:
        self.timeout_s, self.recover_s, self.game = timeout_s, recover_s, game

    def for_game(self, game: Game) -> Detective:
        return Detective(timeout_s=self.timeout_s, recover_s=self.recover_s, game=game)

    def __call__(self, session: AgentSession) -> None:
        if self.game is None:
            raise UsageError("the detective plays with the game in hand (the board hands it over)")
        verdict = self.game.detective_verdict(timeout=self.timeout_s)
        findings = {f["family"]: f["targets"] for f in verdict.to_dict()["findings"]}
        answer(session, findings, evidence="; ".join(verdict.evidence)[:500], recover_s=self.recover_s)


#: Which family a cause alert (severity ticket) speaks of; symptom alerts (pages) name no family. (A rule agent
#: knows the families as a person on call does: a new family is one it never names.)
ALERT_FAMILY = {"DiskAlmostFull": DISK, "DiskWriteErrors": DISK, "MemoryNearLimit": RESOURCES,
                "OOMKilled": RESOURCES, "CPUThrottled": RESOURCES, "CrashLooping": RESOURCES,
                "ReplicaDown": NETWORK, "DatabaseUnreachable": NETWORK, "PollsServerOutOfRotation": NETWORK}
#: Words of a replica's status detail and the family they speak of (the fallback without monitoring).
DETAIL_FAMILY = {DISK: ("no space", "disk full", "enospc"), RESOURCES: ("oom", "cpu throttled", "memory"),
                 NETWORK: ("cut off", "unreachable", "rotation")}
#: The golden signal "errors" per replica (5xx responses a second over 5 minutes).
ERRORS = ('sum by (replica) (rate(django_http_responses_total_by_status_view_method_total{job="pollapp",'
          'status=~"5..",view!~"prometheus-django-metrics|livez|healthz"}[5m]))')


class OneRule:
    """One rule, through the AgentSession only, as a person on call would apply it: wait for the page (as long as
    the detective looks, `timeout_s`; none: "no fault"), give the cause alerts up to `settle_s` to fire, then blame
    the replica with the most errors (PromQL on the golden signal "errors"; without monitoring, the first
    unhealthy replica in the status), its family from the loudest firing alert (the cause alert firing on the most
    series; without one, that replica's status detail). Nothing to blame: "no fault"."""

    def __init__(self, *, recover_s: float = 120.0, timeout_s: float = 90.0, settle_s: float = 20.0,
                 interval_s: float = 2.0) -> None:
        self.recover_s, self.timeout_s, self.settle_s, self.interval_s = recover_s, timeout_s, settle_s, interval_s

    def _wait(self, session: AgentSession) -> None:
        """Until the page (at most timeout_s), then until a cause alert fires (at most settle_s more)."""
        session.alerts()  # a backend without monitoring pages nobody: this raises, and nothing is waited for
        deadline = time.monotonic() + self.timeout_s
        while session.page() is None:
            if time.monotonic() >= deadline:
                return
            time.sleep(self.interval_s)
        deadline = time.monotonic() + self.settle_s
        while time.monotonic() < deadline and not any(
                a.get("state") == "firing" and a.get("alertname") in ALERT_FAMILY for a in session.alerts()["rows"]):
            time.sleep(self.interval_s)

    def __call__(self, session: AgentSession) -> None:
        try:
            self._wait(session)
        except ChaosError:  # no monitoring on this backend (nothing pages): the status alone, now
            pass
        rows = session.status()["services"]["rows"]
        sick = [r for r in rows if r.get("kind") == "replica" and not r.get("healthy", True)]
        replica, family = None, None
        try:
            errors = [s for s in session.query(ERRORS)["series"] if (s["value"] or 0) > 0
                      and s["labels"].get("replica")]
            if errors:
                replica = max(errors, key=lambda s: s["value"])["labels"]["replica"]
            firing = Counter(ALERT_FAMILY[a["alertname"]] for a in session.alerts()["rows"]
                             if a.get("state") == "firing" and a.get("alertname") in ALERT_FAMILY)
            family = firing.most_common(1)[0][0] if firing else None
        except ChaosError:  # no monitoring on this backend: the status details alone
            pass
        if replica is None and sick:
            replica = sick[0]["name"]
        if replica is not None and family is None:
            detail = next((str(r.get("detail", "")).lower() for r in rows if r.get("name") == replica), "")
            family = next((f for f, words in DETAIL_FAMILY.items() if any(w in detail for w in words)), None)
        findings = {family: [replica]} if replica and family else {}
        answer(session, findings, evidence=f"most errors on {replica}; loudest alert: {family}" if findings
               else "no replica stands out, nothing fires", recover_s=self.recover_s)


#: The built-in agents by name.
BUILT_IN: dict[str, Callable[[], Agent]] = {"detective": Detective, "one-rule": OneRule}


def load_agent(name: str) -> Agent:
    """A built-in agent (detective, one-rule), or any `package.module:callable` (a callable taking an AgentSession;
    a class or factory there is called once, with no argument, when what it gives back is the agent)."""
    if name in BUILT_IN:
        return BUILT_IN[name]()
    module_name, sep, attr = name.partition(":")
    if not sep or not module_name or not attr:
        raise UsageError(f"unknown agent {name!r}", field="agent", value=name,
                         hint=f"built-in agents are {', '.join(BUILT_IN)}, or give package.module:callable")
    try:
        found: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as e:
        raise UsageError(f"cannot load agent {name!r}: {e}", field="agent", value=name) from None
    if isinstance(found, type):
        found = found()
    if not callable(found):
        raise UsageError(f"agent {name!r} is not callable", field="agent", value=name)
    agent: Agent = found
    return agent
