"""The backend contract, run against the local (native) backend on the live stack."""
from __future__ import annotations

import pytest

from chaoslib.native.probes import OutsideProbe as LocalProbe

from .contract import (
    DatabaseContract,
    DiskContract,
    LimitsContract,
    LimitsRealEffects,
    NetworkContract,
    NetworkRealEffects,
    ProcessContract,
    ReleaseContract,
    ResetContract,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def backend(live_stack):
    yield live_stack.backend
    live_stack.backend.reset_faults()


@pytest.fixture
def probe(backend):
    return LocalProbe(backend)


class TestLocalProcesses(ProcessContract):
    pass


class TestLocalNetwork(NetworkContract):
    pass


class TestLocalNetworkRealEffects(NetworkRealEffects):
    pass


class TestLocalDisk(DiskContract):
    pass


class TestLocalLimits(LimitsContract):
    pass


class TestLocalLimitsRealEffects(LimitsRealEffects):
    pass


class TestLocalReset(ResetContract):
    pass


class TestLocalDatabase(DatabaseContract):
    pass


class TestLocalReleases(ReleaseContract):
    pass
