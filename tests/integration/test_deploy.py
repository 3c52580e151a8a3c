"""The deploy family on the live native stack: a replica rolled to a faulty release pages, the
detective names deploy on that replica, a restart keeps the release, the rollback ends it, no acknowledged
vote is lost, and panic leaves the footprint as before (the `clean` fixture)."""
from __future__ import annotations

import time

import pytest

from chaoslib.engine.injector import inject
from chaoslib.faults import deploy
from chaoslib.game import detective, steady
from chaoslib.observe.metrics import Metrics
from pollapp import releases

from .helpers import PAGE_WITHIN_S, ledger, paged, votes_in_db, wait_until

pytestmark = pytest.mark.integration


def _on(stack, target: str, version: str) -> bool:
    return stack.backend.probe().version(target) == version


def _verdict(stack, since: float) -> detective.Hypothesis:
    return detective.verdict(stack, metrics=Metrics(stack.endpoint("prometheus")), since=since, timeout=90)


@pytest.mark.parametrize("scenario, params, page, target", [
    ("deploy-bad-votes", {"share": 0.7}, "PollsHighErrorRatio", "app2"),
    ("deploy-slow-reads", {"delay_ms": 4.0}, "PollsSlowResponses", "app3"),
])
def test_a_faulty_release_pages_is_named_and_rolled_back(clean, scenario, params, page, target, capsys):
    stack = clean
    # Rolled on a steady stack, as a game injects (a stack just started is still ramping its traffic up).
    left = steady.wait_until(lambda: steady.quiet_problems(stack, Metrics(stack.endpoint("prometheus"))),
                             timeout=180, interval=2)
    assert not left, left
    since = time.time()
    inject(stack, scenario, targets=[target], params=params)
    version = stack.backend.release(target=target)
    assert not releases.get(version).good
    wait_until(lambda: page in paged(stack, since), timeout=PAGE_WITHIN_S - (time.time() - since),
               interval=1, what=f"{page} within {PAGE_WITHIN_S} s")
    paged_s = time.time() - since
    verdict = _verdict(stack, since)
    named_s = time.time() - since
    assert verdict.said() == (("deploy", (target,)),), verdict.evidence
    p95 = Metrics(stack.endpoint("prometheus")).query(deploy.FAMILY.queries["deploy_p95"].format(w="60s", w1="60s"))
    with capsys.disabled():  # figures for the closing note
        print(f"\n[deploy] {scenario} {params} on {target}: {page} {paged_s:.0f} s after the roll began "
              f"(pages: {sorted(paged(stack, since))}); "
              f"p95 by replica {dict(zip(p95.get('replica', []), p95.get('value', []), strict=True))}; "
              f"the detective named it at {named_s:.0f} s: {verdict.cause}; {verdict.evidence}")

    stack.backend.restart(target=target)
    wait_until(lambda: _on(stack, target, version), timeout=60, what=f"{target} back after a restart")
    assert stack.backend.release(target=target) == version

    assert deploy.rollback(stack, target=target) == releases.CURRENT
    wait_until(lambda: _on(stack, target, releases.CURRENT), timeout=60, what=f"{target} rolled back")
    assert deploy.effect_gone(stack.backend, [target])[0]
    acked = [v["vote_id"] for v in ledger(stack)]
    assert acked and not set(acked) - votes_in_db(acked), "an acknowledged vote is not in the database"
