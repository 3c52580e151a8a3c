"""Backend: the whole contract, one mixin per area, that every concrete backend subclasses."""
from __future__ import annotations

from chaoslib.backends.base.database import DatabasePrimitives
from chaoslib.backends.base.disks import DiskPrimitives
from chaoslib.backends.base.lifecycle import LifecyclePrimitives
from chaoslib.backends.base.limits import LimitPrimitives
from chaoslib.backends.base.logs import LogPrimitives
from chaoslib.backends.base.network import NetworkPrimitives
from chaoslib.backends.base.probes import ProbePrimitives
from chaoslib.backends.base.releases import ReleasePrimitives
from chaoslib.backends.base.safety import SafetyPrimitives


class Backend(LifecyclePrimitives, NetworkPrimitives, DiskPrimitives, LimitPrimitives, LogPrimitives,
              SafetyPrimitives, ProbePrimitives, ReleasePrimitives, DatabasePrimitives):
    """The contract. Subclasses override every primitive; the base raises NotImplementedError."""
