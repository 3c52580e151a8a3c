"""The one list of skips a run may have, and why; any other skip fails the run (see conftest.py).

Under `CI` or as root ("strict"), a test that cannot run for a reason the project controls (a tool
`make deps` installs, dockerd, a Dockerfile) fails with that reason instead of skipping:
`skip_or_fail` does that, and entries marked `unprivileged_only` are not allowed in a strict run.
"""
from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class Allowed:
    """A skip that may happen: tests whose node id matches `nodeid`, with a reason matching `reason`."""

    nodeid: str  # fnmatch pattern over the node id ("tests/host/*")
    reason: str  # regular expression searched in the skip's reason
    why: str  # why this skip is not hiding a failure
    unprivileged_only: bool = False  # allowed only outside CI and as a normal user


ALLOWED: list[Allowed] = [
    Allowed("tests/*::test_latency_delays_the_load_balancer",
            r"^this kernel has no netem qdisc: the latency fault cannot run here$",
            "this kernel has no netem qdisc: the latency fault cannot run here"),
    Allowed("tests/*::test_latency_refused_without_netem",
            r"^this kernel has netem: test_latency_delays_the_load_balancer runs instead$",
            "the refusal without netem cannot be seen where the kernel has netem; the delay test runs instead"),
    Allowed("tests/docker/test_docker.py::TestScenarios::test_inject_and_heal_every_scenario[[]lb-latency[]]",
            r"^the docker backend lacks has_netem on this machine$",
            "this kernel has no netem qdisc: the latency fault cannot run here (in the docker helper either)"),
    Allowed("tests/*", r"the native stack needs root",
            "the live stack binds loopback addresses, nftables and cgroups: root only", unprivileged_only=True),
    Allowed("tests/host/*", r"kernel primitives need root",
            "nftables, cgroups and tmpfs mounts need root", unprivileged_only=True),
    Allowed("tests/webapp/*", r"mounting a tmpfs needs root",
            "a real tmpfs as the replica's disk needs root", unprivileged_only=True),
    Allowed("tests/docker/*", r"starting one needs root",
            "no Docker Engine answers and only root may start one", unprivileged_only=True),
    Allowed("tests/unit/test_owner_lockdown.py::test_lockdown_script_is_valid_nft",
            r"^nft -c needs CAP_NET_ADMIN and this kernel refuses a user namespace",
            "a normal user checks the script in its own user and network namespace; where the kernel "
            "refuses those, only root can check it (and does, in every strict run)", unprivileged_only=True),
    Allowed("tests/static/test_unprivileged.py::*", r"^creating a throwaway user needs root",
            "this test runs the fast suite as a throwaway unprivileged user; a normal user's run already is one",
            unprivileged_only=True),
    Allowed("tests/*", r"is not installed",
            "a tool `make deps` installs (as root) is missing: a normal user's partial setup",
            unprivileged_only=True),
]


def strict() -> bool:
    """True under CI or as root: what the project controls must be present, so it fails, not skips."""
    return bool(os.environ.get("CI")) or os.geteuid() == 0


def skip_or_fail(reason: str) -> None:
    """Fail the test with `reason` in a strict run (CI, root); skip it otherwise."""
    if strict():
        pytest.fail(f"{reason} (no skip under CI or as root)", pytrace=False)
    pytest.skip(reason)


def allowed(nodeid: str, reason: str, *, strict_run: bool) -> Allowed | None:
    """The allow-list entry that permits this skip, or None."""
    for entry in ALLOWED:
        if entry.unprivileged_only and strict_run:
            continue
        if fnmatch.fnmatchcase(nodeid, entry.nodeid) and re.search(entry.reason, reason):
            return entry
    return None
