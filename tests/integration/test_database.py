"""The database family on the live native stack: a lock-holding transaction and a filled connection limit
each page, the app's log names the real cause, the detective names the database on every
replica, restarting the replicas changes nothing, ending the holder's sessions (from pg_stat_activity) does,
no acknowledged vote is lost, and panic leaves no session, process or file (the `clean` fixture)."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from chaoslib.backends.base import holder_key
from chaoslib.engine.injector import active_faults, inject, panic
from chaoslib.faults import database
from chaoslib.game import detective
from chaoslib.observe.metrics import Metrics

from .helpers import PAGE_WITHIN_S, all_healthy, ledger, paged, votes_in_db, wait_until

pytestmark = pytest.mark.integration
PAGES = {"PollsHighErrorRatio", "PollsUnavailable", "PollsServerOutOfRotation", "PollsTrafficDrop"}


def _holder_sessions(stack) -> list[str]:
    return [r.application_name for r in stack.backend.db_activity() if holder_key(r.application_name)]


def _logged(stack, text: str) -> bool:
    return any(text in stack.backend.tail_log(service=t, lines=400) for t in stack.targets())


@pytest.mark.parametrize("scenario, params, cause", [
    ("db-lock-hold", {"polls": 14}, "canceling statement due to lock timeout"),
    ("db-conn-exhaust", {}, "remaining connection slots are reserved"),
])
def test_a_database_fault_pages_is_named_and_ended(clean, scenario, params, cause, capsys):
    stack = clean
    targets = stack.targets()
    since = time.time()
    record = inject(stack, scenario, targets=targets, params=params)
    injected_s = time.time() - since
    wait_until(lambda: paged(stack, since) & PAGES, timeout=PAGE_WITHIN_S - (time.time() - since),
               interval=1, what=f"a page within {PAGE_WITHIN_S} s")
    paged_s = time.time() - since
    verdict = detective.verdict(stack, metrics=Metrics(stack.endpoint("prometheus")), since=since, timeout=90)
    named_s = time.time() - since
    assert verdict.said() == (("database", tuple(targets)),), verdict.evidence
    wait_until(lambda: _logged(stack, cause), timeout=20, what=f"'{cause}' in a replica's log")
    m = Metrics(stack.endpoint("prometheus"))
    figures = {q: m.value(q) for q in ('sum(pg_stat_activity_count{job="postgres"})',
                                      'max(pg_stat_activity_max_tx_duration{job="postgres"})')}
    with capsys.disabled():  # figures for the closing note
        print(f"\n[database] {scenario} {params}: injected in {injected_s:.1f} s, paged "
              f"{sorted(paged(stack, since) & PAGES)} {paged_s:.0f} s after it began; the detective named it "
              f"at {named_s:.0f} s: {verdict.cause}; {figures}")

    for t in targets:  # the wrong fix: the holder keeps its sessions, the replicas meet them again
        stack.backend.restart(target=t)
    time.sleep(5)
    assert not database.effect_gone(stack.backend, targets)[0]

    ((app, why),) = database.suspects(stack)
    assert holder_key(app) == record.id, why
    assert database.terminate_backend(stack, application_name=app)
    assert database.effect_gone(stack.backend, targets)[0] and _holder_sessions(stack) == []
    wait_until(lambda: all_healthy(stack), timeout=60, what="every replica healthy once the sessions end")
    acked = [v["vote_id"] for v in ledger(stack)]
    assert acked and not set(acked) - votes_in_db(acked), "an acknowledged vote is not in the database"


def _holder_processes(key: str) -> list[int]:
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"chaoslib.native.db_holder" in cmdline and key.encode() in cmdline:
            found.append(int(proc.name))
    return found


@pytest.mark.parametrize("way", ["panic", "ttl"])
def test_panic_and_the_ttl_end_the_holder_and_nothing_else(clean, way):
    """The holder's process, its sessions and its files go; the replicas' and the exporter's sessions stay."""
    stack = clean
    record = inject(stack, "db-lock-hold", targets=stack.targets(), ttl_s=2 if way == "ttl" else None)
    assert _holder_sessions(stack) and _holder_processes(record.id)
    others = {r.pid for r in stack.backend.db_activity() if r.usename == "exporter"}
    if way == "panic":
        assert f"healed {record.id}" in panic(stack)
    else:
        wait_until(lambda: not active_faults(stack), timeout=20, what="the warden's TTL heal")
    assert _holder_sessions(stack) == [] and _holder_processes(record.id) == []
    assert stack.backend.db_holders() == [] and not (stack.settings.run_dir / "db-holders").exists()
    assert others <= {r.pid for r in stack.backend.db_activity()}, "the exporter's session was ended"
