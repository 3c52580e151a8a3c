"""The database family: a long transaction holding the hottest polls' row locks, or the connection limit filled.

Both are shared trouble: every replica meets it, and no replica is to blame. A fault starts a
*holder* (a client of PostgreSQL: backends/base/database.py) whose sessions a player finds in
pg_stat_activity (the `db-activity` view) and ends (`terminate_backend`); restarting the replicas
changes nothing. The detective reads the same view: an old transaction left idle, or one client
other than the replicas holding most of the connection slots.
"""
from __future__ import annotations

import pandas as pd

from chaoslib.backends.base import Backend, DbSession, Probe, holder_key
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
)
from chaoslib.stack import Stack

__all__ = ["FAMILY", "DATABASE", "db_lock_hold", "db_conn_exhaust", "db_activity", "terminate_backend",
           "suspects", "LONG_TX_S", "FULL_RATIO"]

DATABASE = "database"
#: A transaction left idle this long is a suspect (a vote's own transaction lasts milliseconds).
LONG_TX_S = 10.0
#: Slots used past this share of max_connections, most by one client other than the replicas: exhausted.
FULL_RATIO = 0.9
#: The roles whose sessions are the stack's own plumbing (the monitoring's, the superuser's).
_PLUMBING = {"exporter", "postgres"}
_COLUMNS = ["pid", "application_name", "usename", "state", "xact_age_s", "wait_event", "blocked_by", "query"]


# -- scenarios ------------------------------------------------------------------------------
def db_lock_hold(backend: Backend, *, key: str, targets: list[str], polls: int, record_undo: RecordUndo) -> None:
    """A batch job's transaction locks the choices of the `polls` hottest polls and sits idle: votes on them
    wait for the lock and fail after the app's lock timeout; reads never wait."""
    record_undo({"op": "stop_db_holder", "key": key})
    backend.start_db_holder(key=key, kind="locks", amount=polls)


def db_conn_exhaust(backend: Backend, *, key: str, targets: list[str], free: int, record_undo: RecordUndo) -> None:
    """A client's pool opens every connection slot but `free` and keeps them idle; the replicas' connections
    are recycled, so each must reconnect and is refused ("remaining connection slots are reserved for
    non-replication superuser connections": PostgreSQL's answer once only the superusers' slots are left)."""
    record_undo({"op": "stop_db_holder", "key": key})
    backend.start_db_holder(key=key, kind="idle", amount=free)


_SHARED = dict(min_targets=1, max_targets=9, requires=frozenset({"database_sessions"}), everywhere=True,
               second_fault=False)
SCENARIOS = (
    Scenario("db-lock-hold", DATABASE, db_lock_hold,
             "a batch job's transaction holds row locks on the hottest polls and sits idle: votes on them wait "
             "and fail with 'canceling statement due to lock timeout'",
             {"polls": Param(int, 1, 50, 20, "how many of the 50 listed polls, the most voted first",
                             "{value} of the 50 hottest polls locked")},
             # Votes are a third of the traffic, spread over the 50 listed polls: the load balancer's error
             # ratio is about polls / 150, and it pages over 5 %, so the hardest draw locks 12 or more.
             strength={"easy": Strength("polls", 35, 45), "normal": Strength("polls", 20, 30),
                       "hard": Strength("polls", 12, 16)}, **_SHARED),  # type: ignore[arg-type]
    Scenario("db-conn-exhaust", DATABASE, db_conn_exhaust,
             "a client's connection pool filled max_connections with idle sessions: the replicas' new "
             "connections are refused ('remaining connection slots are reserved for non-replication superuser "
             "connections')",
             {"free": Param(int, 0, 3, 0, "connection slots left free (0: every new connection fails)",
                            "{value} slot(s) left free")}, **_SHARED),  # type: ignore[arg-type]
)


def _suspects(rows: list[DbSession], replicas: set[str], max_connections: int) -> list[tuple[str, str]]:
    """(application_name, why) of the clients that are neither a replica nor the stack's plumbing and block
    others' locks, hold an old idle transaction or most of the connection slots (pg_stat_activity as a player
    reads it)."""
    foreign = [r for r in rows if r.application_name not in replicas and r.usename not in _PLUMBING]
    blockers = {pid for r in rows for pid in r.blocked_by}
    out: dict[str, str] = {}
    for r in foreign:
        idle_tx = r.state.startswith("idle in transaction")
        if idle_tx and (r.xact_age_s >= LONG_TX_S or r.pid in blockers):
            waiting = sum(1 for w in rows if r.pid in w.blocked_by)
            out.setdefault(r.application_name, f"transaction open {r.xact_age_s:.0f} s, idle (pid {r.pid}), "
                                               f"{waiting} session(s) waiting for its locks")
    by_app: dict[str, int] = {}
    for r in foreign:
        by_app[r.application_name] = by_app.get(r.application_name, 0) + 1
    full = len(rows) >= FULL_RATIO * max_connections
    for app, n in by_app.items():
        if full and n >= max_connections / 2:
            out.setdefault(app, f"{n} of {max_connections} connection slots")
    return sorted(out.items())


def effect_gone(backend: Backend, targets: list[str]) -> tuple[bool, str]:
    """No session of a holder is left in the database (its process may linger, holding nothing)."""
    left = sorted({r.application_name for r in backend.db_activity() if holder_key(r.application_name)})
    return not left, f"the sessions of {', '.join(left)} are still open: {', '.join(targets)} still meet them"


# -- the player's view and fix ---------------------------------------------------------------------
def db_activity(stack: Stack) -> pd.DataFrame:
    """pg_stat_activity of the app's database: pid, client, role, state, transaction age, wait, the sessions
    it waits for, query; the oldest transaction first (empty on a backend that cannot read them)."""
    if not stack.backend.features.database_sessions:  # a backend that cannot read them: an empty view
        return pd.DataFrame([], columns=_COLUMNS)
    rows = [r.to_dict() for r in stack.backend.db_activity()]
    return pd.DataFrame(rows, columns=_COLUMNS)


def terminate_backend(stack: Stack, *, pid: int | None = None, application_name: str | None = None) -> list[int]:
    """End one database session (pg_terminate_backend by pid) or every session of a client (by
    application_name); the pids ended."""
    if (pid is None) == (application_name is None):
        raise UsageError("name the session to end: a pid or an application_name", field="pid",
                         hint="look at the db-activity view")
    try:
        number = None if pid is None else int(pid)
    except (TypeError, ValueError):
        raise UsageError(f"pid must be a number, got {pid!r}", field="pid", value=pid,
                         hint="look at the db-activity view") from None
    return stack.backend.terminate_db_backend(pid=number, application_name=application_name)


def suspects(stack: Stack) -> list[tuple[str, str]]:
    """The clients the database's activity points at (what the autopilot and the rule end or name)."""
    return _suspects(stack.backend.db_activity(), set(stack.targets()), stack.backend.db_max_connections())


def autofix(stack: Stack, target: str, apply: Apply) -> str:
    """End every session of each client the activity points at (once: the next replica finds none left)."""
    found = suspects(stack)
    if not found:
        return "no database session left to end"
    done = [f"{app} ({len(apply(stack, 'terminate_backend', application_name=app)['result'])} session(s))"
            for app, _ in found]
    return f"ended the database sessions of {', '.join(done)}"


def _fix_tab(ui: FixUI) -> TabWidgets:
    import ipywidgets as w  # ipywidgets is heavy: loaded only when the fix panel is drawn

    stack, say = ui.stack, ui.say
    sessions = w.Select(description="Sessions", rows=8, layout=w.Layout(width="95%"))
    show, end_one = w.Button(description="Show sessions"), w.Button(description="End session")
    end_app = w.Button(description="End all of its client")
    rows: dict[int, str] = {}

    def list_sessions() -> None:
        table = stack.backend.db_activity()
        rows.clear()
        rows.update({r.pid: r.application_name for r in table})
        sessions.options = [(f"{r.pid}  {r.application_name or '-'}  {r.state}  tx {r.xact_age_s:.0f} s  "
                             f"{r.wait_event}  {'blocked by ' + str(list(r.blocked_by)) if r.blocked_by else ''}  "
                             f"{r.query[:60]}", r.pid) for r in table]
        say(f"{len(table)} session(s), the oldest transaction first")
    ui.action(show, ui.out, list_sessions, busy="reading pg_stat_activity...")

    def chosen() -> int:
        if sessions.value is None:
            raise UsageError("select a session first", field="pid", hint="press Show sessions")
        return int(sessions.value)

    ui.action(end_one, ui.out, lambda: say(
        f"ended {ui.apply(stack, 'terminate_backend', pid=chosen())['result']}"), busy="ending...")
    ui.action(end_app, ui.out, lambda: say(
        f"ended {ui.apply(stack, 'terminate_backend', application_name=rows[chosen()])['result']}"),
        busy="ending...")
    return (w.VBox([show, sessions, w.HBox([end_one, end_app])]),
            {"show_sessions": show, "terminate_pid": end_one, "terminate_application": end_app})


# -- the detective's rule ------------------------------------------------------------------------
def activity(stack: Stack, since: float) -> dict[str, dict[str, float]]:
    """From pg_stat_activity as a player reads it: the suspect clients (1.0 a long idle transaction, 2.0 most
    of the slots), and the replicas every database trouble reaches."""
    out: dict[str, dict[str, float]] = {"db_long_tx": {}, "db_hogs": {}, "db_replicas": {}}
    if not stack.backend.features.database_sessions:
        return out
    rows = stack.backend.db_activity()
    out["db_replicas"] = {t: float(sum(1 for r in rows if r.application_name == t)) for t in stack.targets()}
    for app, why in _suspects(rows, set(out["db_replicas"]), stack.backend.db_max_connections()):
        if why.startswith("transaction"):
            out["db_long_tx"][app] = max((r.xact_age_s for r in rows if r.application_name == app), default=0.0)
        else:
            out["db_hogs"][app] = float(sum(1 for r in rows if r.application_name == app))
    return out


def rule(s: Signals, claimed: set[str]) -> Finding | Pending | None:
    """A client holding an old idle transaction, or most connection slots: every replica is reached."""
    if not s.db_long_tx and not s.db_hogs:
        return None
    replicas = sorted(r for r in s.db_replicas if r not in claimed)
    ev = [f"{app}: a transaction open {age:.0f} s and idle, others wait for its locks"
          for app, age in s.db_long_tx.items()]
    ev += [f"{app}: {n:.0f} idle connections" for app, n in s.db_hogs.items()]
    ev += [f"{r}: {s.database_errors.get(r, 0):.0f} database errors, "
           f"{s.database_conn_errors.get(r, 0):.0f} refused connections" for r in replicas
           if s.database_errors.get(r, 0) or s.database_conn_errors.get(r, 0)]
    causes = (["a long transaction holds row locks: votes wait and time out"] if s.db_long_tx else []) + \
             (["the connection limit is full of idle sessions: new connections are refused"] if s.db_hogs else [])
    return Finding(DATABASE, replicas, "; ".join(causes), ev, 0.85) if replicas else None


def effect_probe(scenario: str, target: str, probe: Probe) -> EffectCheck:
    """Seen from outside the app: votes wait for the holder's locks, or the replica fails its health check."""
    if scenario == "db-lock-hold":
        return lambda: probe.db_lock_waits() > 0
    return lambda: not probe.healthy(target)


FAMILY = Family(
    name=DATABASE, scenarios=SCENARIOS, effect_gone=effect_gone,
    fixes={"terminate_backend": terminate_backend}, views={"db-activity": db_activity}, autofix=autofix, rule=rule,
    priority=3, gather=activity, gathered=("db_long_tx", "db_hogs", "db_replicas"),
    hint="database: look at the database's sessions (pg_stat_activity): who holds connections, and which "
         "transaction has been open the longest.",
    queries={
        "database_errors": "sum by (replica) (increase(django_db_errors_total{{job='pollapp'}}[{w}]))",
        "database_conn_errors": "sum by (replica) (increase(django_db_new_connection_errors_total"
                                "{{job='pollapp'}}[{w}]))",
    },
    fix_tab=FixTab("Database", _fix_tab), effect_probe=effect_probe, default_draw=False,
)
