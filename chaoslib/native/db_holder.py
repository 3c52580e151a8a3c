"""A database fault's holder: a client of PostgreSQL that holds row locks, or every free connection slot.

Run as `python -m chaoslib.native.db_holder --key f-1a2b3c --kind locks|idle --amount N --name APP`
with PGHOST/PGPORT/PGDATABASE/PGUSER/PGPASSWORD in its environment (never a password on its
command line). Every connection it opens carries application_name APP, so undo ends exactly its
sessions. It never reconnects: once a player ends its sessions, the trouble is over (it exits).

- locks: one transaction that, every second, locks the choices of the N most-voted polls among
  the 50 the app lists (where the votes go; new polls push old ones out), SKIP LOCKED so it never
  waits itself, and stays idle in between: votes on those rows wait for the app's lock timeout.
- idle: connections until the server refuses (FULL), the app's own connections
  (its role, not ours) ended so each replica must reconnect and is refused; then N closed again
  to leave that many slots free, and the rest held idle (a pool's health check every few seconds).
"""
from __future__ import annotations

import argparse
import signal
import sys
import time
from types import FrameType

import psycopg

#: The app lists the latest 50 polls; the load generator votes among them.
LISTED = 50
#: How long the idle holder races the replicas for the slots they free.
FILL_S = 20.0
#: What the server answers a client when every slot it may take is used (the rest are the superusers').
FULL = ("remaining connection slots are reserved", "too many clients")
#: How often the idle holder checks its sessions (it exits once none is left: it never reconnects).
PING_S = 5.0
LOCK_SQL = """
SELECT c.id FROM polls_choice c WHERE c.question_id IN (
  SELECT q.id FROM (SELECT id FROM polls_question ORDER BY pub_date DESC, id DESC LIMIT %(listed)s) q
  JOIN polls_choice v ON v.question_id = q.id GROUP BY q.id ORDER BY sum(v.votes) DESC, q.id LIMIT %(n)s)
FOR UPDATE OF c SKIP LOCKED
"""
OTHERS_SQL = """
SELECT pid FROM pg_stat_activity WHERE usename = current_user AND backend_type = 'client backend'
  AND application_name <> %(name)s AND pid <> pg_backend_pid()
"""
_stop = False


def _on_term(signum: int, frame: FrameType | None) -> None:
    global _stop
    _stop = True


def _connect(name: str) -> psycopg.Connection:
    return psycopg.connect(application_name=name, connect_timeout=3)


def hold_locks(name: str, n: int) -> int:
    """Lock the hottest polls' choices in one open transaction until stopped or ended from outside."""
    conn = _connect(name)
    try:
        while not _stop:
            conn.execute(LOCK_SQL, {"listed": LISTED, "n": n}).fetchall()
            time.sleep(1.0)
    except psycopg.OperationalError as e:  # its session was ended: the locks are gone, and so is it
        print(f"session ended: {str(e).strip().splitlines()[0] if str(e) else e}", flush=True)
    return 0


def hold_idle(name: str, free: int) -> int:
    """Take every free slot and the ones the app's recycled connections free; keep them idle."""
    conns: list[psycopg.Connection] = []
    deadline = time.monotonic() + FILL_S
    while not _stop and time.monotonic() < deadline:
        try:
            conns.append(psycopg.connect(application_name=name, connect_timeout=3, autocommit=True))
            continue
        except psycopg.OperationalError as e:
            if not any(m in str(e) for m in FULL):
                raise
        if not conns:
            time.sleep(0.2)
            continue
        others = [r[0] for r in conns[0].execute(OTHERS_SQL, {"name": name}).fetchall()]
        if not others:
            break  # every slot a client may take is ours
        for pid in others:
            conns[0].execute("SELECT pg_terminate_backend(%s)", (pid,))
    for c in conns[:free]:
        c.close()
    conns = conns[free:]
    print(f"holding {len(conns)} idle connection(s)", flush=True)
    checked = time.monotonic()
    while not _stop and conns:
        time.sleep(0.5)
        if time.monotonic() - checked >= PING_S:  # a pool's health check: drop the sessions ended from outside
            conns, checked = [c for c in conns if _alive(c)], time.monotonic()
    print(f"{'stopped' if _stop else 'every session was ended'}: exiting", flush=True)
    return 0


def _alive(conn: psycopg.Connection) -> bool:
    try:
        conn.execute("SELECT 1")
        return True
    except psycopg.OperationalError:
        return False


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--key", required=True)
    p.add_argument("--kind", choices=("locks", "idle"), required=True)
    p.add_argument("--amount", type=int, default=0)
    p.add_argument("--name", required=True)
    args = p.parse_args(argv)
    signal.signal(signal.SIGTERM, _on_term)
    signal.signal(signal.SIGINT, _on_term)
    return hold_locks(args.name, args.amount) if args.kind == "locks" else hold_idle(args.name, args.amount)


if __name__ == "__main__":
    sys.exit(main())
