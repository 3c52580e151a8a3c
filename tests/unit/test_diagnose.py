"""The detective's rules on hand-made signals (the live trials are in tests/integration)."""
from __future__ import annotations

from chaoslib.faults import FAMILIES
from chaoslib.game.detective import LOSS_EVIDENCE_S, NETWORK, Signals, diagnose


def signals(**kw) -> Signals:
    base = {k: {} for fam in FAMILIES.values() for k in (*fam.queries, *fam.gathered)}
    base["scrape_up"] = {"app1": 1.0, "app2": 1.0, "app3": 1.0}
    base["lb_up"] = {"app1": 1.0, "app2": 1.0, "app3": 1.0}
    base.update(kw)
    return Signals(**base)


def test_healthy_signals_name_nothing():
    """Every replica normal: no family, no target."""
    assert diagnose(signals()).family is None


def test_cut_off_is_named_at_once():
    """A replica out of rotation all along is cut off, even on a short window."""
    h = diagnose(signals(lb_up={"app1": 0.0, "app2": 1.0, "app3": 1.0}, window_s=20))
    assert (h.family, h.targets, h.cause) == (NETWORK, ["app1"], "cut off from the load balancer")


def test_partial_loss_waits_for_enough_evidence():
    """Partial loss on a short window is 'still thin'; on a long one it names every replica that shows it."""
    lb = {"app1": 1.0, "app2": 0.6, "app3": 0.8}
    thin = diagnose(signals(lb_up=lb, window_s=LOSS_EVIDENCE_S - 20))
    assert thin.family is None and "thin" in thin.cause
    h = diagnose(signals(lb_up=lb, window_s=LOSS_EVIDENCE_S + 5))
    assert (h.family, h.targets) == (NETWORK, ["app2", "app3"]) and "packet loss" in h.cause


def test_slow_requests_through_the_proxy_show_loss_without_health_check_failures():
    """A replica whose proxied requests are slow (retransmissions) is named even if it never left rotation."""
    h = diagnose(signals(lb_slow={"app1": 0.0, "app2": 0.3, "app3": 0.01}, window_s=LOSS_EVIDENCE_S + 5))
    assert (h.family, h.targets) == (NETWORK, ["app2"]) and "packet loss" in h.cause


def test_an_unreachable_replica_is_not_a_network_suspect():
    """Slow through the proxy but not scraped either: not blamed on the load balancer's path."""
    h = diagnose(signals(lb_slow={"app2": 0.5}, scrape_up={"app1": 1.0, "app2": 0.2, "app3": 1.0},
                         window_s=LOSS_EVIDENCE_S + 5))
    assert h.family is None


def test_two_faults_on_two_replicas_are_both_named():
    """A full disk on app1 and packet loss on app3 (hard mode): one finding each, neither blamed twice."""
    h = diagnose(signals(disk_used={"app1": 1.0, "app2": 0.1, "app3": 0.1}, disk_errors={"app1": 12},
                         lb_slow={"app1": 0.4, "app3": 0.3}, window_s=LOSS_EVIDENCE_S + 5))
    assert h.said() == (("disk", ("app1",)), ("network", ("app3",)))
    assert h.family == "disk+network" and h.targets == ["app1", "app3"]


def test_a_replica_explained_by_a_stronger_rule_is_not_blamed_again():
    """An OOM-killed replica is slow behind the proxy too: only resources is named for it."""
    h = diagnose(signals(oom_kills={"app2": 3}, memory_limit_mb={"app2": 24}, lb_slow={"app2": 0.5},
                         window_s=LOSS_EVIDENCE_S + 5))
    assert h.said() == (("resources", ("app2",)),)


def test_a_named_fault_waits_while_another_is_still_thin():
    """A CPU-starved replica and early signs of loss elsewhere: the detective waits instead of naming one of two."""
    h = diagnose(signals(cpu_limit={"app1": 0.05, "app2": 1.0, "app3": 1.0},
                         lb_up={"app1": 1.0, "app2": 1.0, "app3": 0.7}, window_s=LOSS_EVIDENCE_S - 15))
    assert not h.named and h.family is None and "thin" in h.cause
    assert [f.family for f in h.findings] == ["resources"]


def test_every_replica_a_little_slow_is_no_packet_loss():
    """A loaded host makes all replicas somewhat slow (10 to 15 % over the mark): that is the floor, not loss."""
    h = diagnose(signals(lb_slow={"app1": 0.14, "app2": 0.12, "app3": 0.10}, window_s=LOSS_EVIDENCE_S + 5))
    assert h.family is None, h.said()


def test_the_rest_slowing_down_behind_a_crashed_replica_is_not_blamed():
    """app1 cannot boot on its full disk; app2 and app3, carrying its load, are a little slow: only disk is named."""
    h = diagnose(signals(disk_used={"app1": 1.0, "app2": 0.01, "app3": 0.01}, scrape_up={"app1": 0.0, "app2": 1.0,
                         "app3": 1.0}, lb_slow={"app2": 0.12, "app3": 0.10}, window_s=LOSS_EVIDENCE_S + 30))
    assert h.said() == (("disk", ("app1",)),)


def test_loss_on_two_replicas_stands_above_a_slow_floor():
    """Over a floor of 12 % slow, the two replicas losing packets (35 and 40 %) are named, the third is not."""
    h = diagnose(signals(lb_slow={"app1": 0.40, "app2": 0.12, "app3": 0.35}, window_s=LOSS_EVIDENCE_S + 5))
    assert h.said() == (("network", ("app1", "app3")),)


def test_an_oom_kill_only_the_engine_saw_is_named():
    """A replica OOM-killed at every start has no cgroup most of the time, so no series: the engine's word names it."""
    h = diagnose(signals(oom_engine={"app1": 3.0}, memory_limit_engine_mb={"app1": 23.0},
                         lb_up={"app1": 0.0, "app2": 1.0, "app3": 1.0}, scrape_up={"app1": 0.1, "app2": 1.0,
                                                                                     "app3": 1.0}))
    assert h.said() == (("resources", ("app1",)),)
    assert h.evidence == ["app1: OOM killed 3 time(s) (says the engine), memory limit 23 MiB"]


def test_a_kill_whose_limit_changed_since_says_so():
    """The engine saw the kill, but the limit was updated after it: the evidence does not guess the limit."""
    h = diagnose(signals(oom_engine={"app2": 1.0}))
    assert h.evidence == ["app2: OOM killed 1 time(s) (says the engine), memory limit at the kill unknown"]


class _Engine:
    """Stands in for a Stack: only its backend's `oom_kills(since=)` (engine_view reads nothing else)."""

    def __init__(self, kills):
        self.kills, self.asked = kills, []
        self.backend = self

    def oom_kills(self, *, since):
        self.asked.append(since)
        return {r: [k for k in ks if k.at >= since] for r, ks in self.kills.items()}


def test_the_engine_counts_only_kills_inside_the_window():
    """Kills before the game's start (an earlier game's, a flag carried through a restart) are not this game's."""
    from chaoslib.backends.base import OomKill
    from chaoslib.faults.resources import engine_view

    mib = 2**20
    engine = _Engine({"app1": [OomKill(at=1000.0, memory_limit_bytes=16 * mib),
                               OomKill(at=1010.0, memory_limit_bytes=16 * mib)],
                      "app2": [OomKill(at=900.0, memory_limit_bytes=512 * mib)],
                      "app3": [OomKill(at=1005.0, memory_limit_bytes=None)]})
    view = engine_view(engine, 950.0)
    assert engine.asked == [950.0]
    assert view["oom_engine"] == {"app1": 2.0, "app3": 1.0}
    assert view["memory_limit_engine_mb"] == {"app1": 16.0}
