"""Backend: the whole contract, one mixin per area, that every concrete backend subclasses."""
from __future__ import annotations

from .disks import DiskPrimitives
from .lifecycle import LifecyclePrimitives
from .limits import LimitPrimitives
from .logs import LogPrimitives
from .network import NetworkPrimitives
from .probes import ProbePrimitives
from .safety import SafetyPrimitives


class Backend(LifecyclePrimitives, NetworkPrimitives, DiskPrimitives, LimitPrimitives, LogPrimitives,
              SafetyPrimitives, ProbePrimitives):
    """The contract. Subclasses override every primitive; the base raises NotImplementedError."""
