"""The hidden draw: seeded, covering every family and variant, shaped by difficulty."""
from __future__ import annotations

from collections import Counter

import pytest

from chaoslib.backends.base import Features
from chaoslib.errors import UsageError
from chaoslib.faults import FAMILIES, SCENARIOS, default_families
from chaoslib.game.draw import DIFFICULTIES, draw

TARGETS = ["app1", "app2", "app3"]
NO_NETEM = Features(has_netem=False)


class TestDraw:
    def test_same_seed_same_fault(self):
        """The same seed and difficulty always draw the same incident."""
        for seed in range(50):
            a = draw(seed=seed, difficulty="normal", targets=TARGETS, features=NO_NETEM)
            b = draw(seed=seed, difficulty="normal", targets=TARGETS, features=NO_NETEM)
            assert a == b

    @pytest.mark.parametrize("families, features", [(None, NO_NETEM), (["all"], NO_NETEM),
                                                    (["all"], Features(has_netem=False, releases=True)),
                                                    (["all"], Features(releases=True, database_sessions=True))])
    def test_every_family_and_variant_is_drawn(self, families, features):
        """Over many seeds every family and variant this machine can run comes up: by default the default
        families' (the seed's three), with `all` every family's (deploy only where releases can be rolled)."""
        seen = Counter()
        for difficulty in DIFFICULTIES:
            for seed in range(200):
                for d in draw(seed=seed, difficulty=difficulty, targets=TARGETS, features=features,
                              families=families):
                    seen[d.scenario] += 1
        pool = set(FAMILIES) if families else set(default_families())
        runnable = {n for n, s in SCENARIOS.items() if not features.lacks(s.requires) and s.family in pool}
        assert set(seen) == runnable
        assert {SCENARIOS[n].family for n in seen} == {f for f in pool if (f != "deploy" or features.releases) and
                                                       (f != "database" or features.database_sessions)}
        assert default_families() == ["network", "disk", "resources"]

    def test_netem_variant_only_with_netem(self):
        """Latency is drawn only where the kernel has netem."""
        names = {d.scenario for s in range(300) for d in draw(seed=s, difficulty="normal", targets=TARGETS,
                                                             features=Features(has_netem=True))}
        assert "lb-latency" in names

    def test_easy_is_one_fault_on_one_replica_or_all_db(self):
        """Easy draws one fault; only a database cut-off hits every replica."""
        for seed in range(100):
            drawn = draw(seed=seed, difficulty="easy", targets=TARGETS, features=NO_NETEM)
            assert len(drawn) == 1
            assert len(drawn[0].targets) == 1 or drawn[0].scenario == "db-cutoff"

    def test_hard_sometimes_overlaps_two_families(self):
        """Hard draws sometimes add a second fault of another family on another replica."""
        doubles = [d for s in range(100) for d in [draw(seed=s, difficulty="hard", targets=TARGETS,
                                                         features=NO_NETEM)] if len(d) == 2]
        assert doubles
        for first, second in doubles:
            assert first.family != second.family
            assert not set(first.targets) & set(second.targets)

    def test_loss_is_subtler_when_harder(self):
        """Packet loss strength shrinks from easy to hard."""
        def fractions(level):
            return [d.params["fraction"] for s in range(400) for d in draw(
                seed=s, difficulty=level, targets=TARGETS, features=NO_NETEM) if d.scenario == "lb-loss"]
        assert min(fractions("easy")) > max(fractions("hard"))

    def test_forced_family(self):
        """A forced family is honoured for every seed."""
        for seed in range(30):
            assert draw(seed=seed, difficulty="normal", targets=TARGETS, features=NO_NETEM,
                        families=["disk"])[0].family == "disk"

    def test_bad_difficulty(self):
        """An unknown difficulty is a clear usage error."""
        with pytest.raises(UsageError, match="difficulty must be one of"):
            draw(seed=1, difficulty="nightmare", targets=TARGETS, features=NO_NETEM)
