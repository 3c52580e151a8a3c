"""Backends come from one table of dotted paths: each loads, an unknown name is a one-line usage error."""
from __future__ import annotations

import pytest

from chaoslib.backends import BACKENDS, backend_class, load
from chaoslib.backends.base import Backend
from chaoslib.errors import UsageError


def test_an_unknown_backend_names_the_known_ones():
    with pytest.raises(UsageError) as e:
        backend_class("nope")
    line = e.value.one_line()
    assert "\n" not in line and "'nope'" in line
    assert all(name in line for name in BACKENDS)


@pytest.mark.parametrize("name", sorted(BACKENDS))
def test_each_backend_class_loads_from_the_table(name):
    cls = backend_class(name)
    assert issubclass(cls, Backend) and cls.name == name
    assert f"{cls.__module__}.{cls.__qualname__}" == BACKENDS[name]


def test_the_environment_chooses_the_default(monkeypatch, tmp_path):
    monkeypatch.setenv("CHAOSCTL_BACKEND", "docker")
    monkeypatch.setenv("CHAOSCTL_STATE_DIR", str(tmp_path))
    assert load().name == "docker"
    monkeypatch.setenv("CHAOSCTL_BACKEND", "nope")
    with pytest.raises(UsageError):
        load()


def test_a_missing_primitive_names_itself():
    with pytest.raises(NotImplementedError, match=r"Backend must implement Backend\.disk_usage\(\)"):
        Backend().disk_usage(target="app1")
