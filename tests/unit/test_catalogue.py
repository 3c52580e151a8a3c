"""The fault catalogue: one module per family, assembled in chaoslib.faults, looped over by everything else."""
from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

import chaoslib
from chaoslib import faults
from chaoslib.backends.base import Features
from chaoslib.errors import UsageError
from chaoslib.faults import Family, Finding, Scenario
from chaoslib.game.draw import draw

LIB = Path(chaoslib.__file__).parent
#: herrings.py holds the red herrings (benign scenarios, faults.BENIGN): not a family.
FAMILY_MODULES = [m.name for m in pkgutil.iter_modules([str(LIB / "faults")])
                  if m.name not in ("catalogue", "restart", "herrings")]


class TestModules:
    def test_each_family_module_exports_its_family(self):
        """network, disk, resources, deploy and database each export a FAMILY (in __all__) named like the module."""
        assert sorted(FAMILY_MODULES) == ["database", "deploy", "disk", "network", "resources"]
        for name in FAMILY_MODULES:
            module = importlib.import_module(f"chaoslib.faults.{name}")
            assert "FAMILY" in module.__all__ and isinstance(module.FAMILY, Family)
            assert module.FAMILY.name == name and faults.FAMILIES[name] is module.FAMILY

    def test_strengths_are_within_their_parameters_ranges(self):
        """Every strength the draw can give is a parameter of its scenario, inside the range inject accepts."""
        for sc in faults.SCENARIOS.values():
            for level, spec in sc.strength.items():
                assert level in faults.DIFFICULTIES
                param = sc.params[spec.param]
                assert param.low <= spec.low <= spec.high <= param.high, (sc.name, level)

    def test_no_library_module_outside_faults_names_a_family(self):
        """The game, draw, scoring, widgets, detective and benchmarks name no family: they loop over the catalogue."""
        modules = [p for package in ("game", "engine", "bench", "cli") for p in (LIB / package).glob("*.py")]
        assert len(modules) > 10
        for module in modules:
            text = module.read_text()
            for family in faults.FAMILIES:
                assert f'"{family}"' not in text and f"'{family}'" not in text, (module.name, family)

    def test_fix_names_are_unique(self):
        """No two families offer a fix of the same name (the journal names fixes)."""
        names = [n for fam in faults.FAMILIES.values() for n in fam.fixes] + ["restart"]
        assert len(names) == len(set(names)) and set(faults.fixes()) == set(names)


class TestLookups:
    def test_unknown_names_are_one_line_errors(self):
        """An unknown family, scenario or fix is an error listing the known ones."""
        for lookup, name, known in ((faults.family, "cosmic", "families are network, disk, resources"),
                                    (faults.scenario, "solar-flare", "scenarios are lb-loss"),
                                    (faults.fix, "pray", "fixes are restart, remove_firewall_rules")):
            with pytest.raises(UsageError) as e:
                lookup(name)
            assert name in e.value.one_line() and known in e.value.one_line()

    def test_a_family_can_be_added_for_a_block_and_is_gone_after(self):
        """registered() adds a family and its scenarios to every lookup, and removes them after."""
        toy = Family(name="toy", scenarios=(Scenario("toy-spill", "toy", lambda *a, **k: None, "a toy"),),
                     effect_gone=lambda backend, targets: (True, ""), fixes={"mop": lambda stack, *, target: 1},
                     autofix=lambda stack, target, apply: "mopped", rule=lambda s, claimed: None, priority=50,
                     hint="toy: look at the floor")
        with faults.registered(toy):
            assert faults.family("toy") is toy and faults.scenario("toy-spill").family == "toy"
            assert "mop" in faults.fixes()
            assert draw(seed=1, difficulty="normal", targets=["app1", "app2", "app3"], features=Features(),
                        families=["toy"])[0].scenario == "toy-spill"
        assert "toy" not in faults.FAMILIES and "toy-spill" not in faults.SCENARIOS and "mop" not in faults.fixes()

    def test_a_family_cannot_be_added_twice(self):
        """A second family of the same name is refused, and the first stays."""
        with pytest.raises(UsageError, match="already in the catalogue"):
            with faults.registered(faults.FAMILIES["disk"]):
                pass
        assert "disk" in faults.FAMILIES and "disk-full" in faults.SCENARIOS

    def test_a_finding_compares_by_family_and_sorted_replicas(self):
        """Two findings naming the same replicas in another order are the same finding."""
        assert Finding("disk", ["app3", "app1"]).key() == Finding("disk", ["app1", "app3"]).key()
