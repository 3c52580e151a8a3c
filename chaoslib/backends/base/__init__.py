"""The backend contract: the small, honest primitives every backend implements.

Written the way Django writes database backends: this package holds the contract, one
module per area (lifecycle, network, disks, limits, logs, safety), the concrete backends
(local/, docker/) sit beside it with the same module names, and the rest of chaoslib
(faults, fixes, the game, the notebooks) is written only against `Backend`. A primitive a
backend must provide raises NotImplementedError naming itself; `features` (a Features of
commented booleans) says what a backend can do on this machine (e.g. has_netem only where
the kernel has the netem qdisc).
"""
from .backend import Backend
from .contract import Contract
from .disks import DiskPrimitives
from .features import Features
from .lifecycle import LifecyclePrimitives
from .limits import LimitPrimitives
from .logs import LogPrimitives
from .network import NetworkPrimitives
from .probes import Probe, ProbePrimitives
from .safety import SafetyPrimitives
from .types import (DATABASE, DEFAULT_LIMITS, LOAD_BALANCER, MAX_MEMORY_BYTES, MIN_MEMORY_BYTES, check_limits, check_memory, DiskUsage, FileInfo, Limits, NetworkRule, Progress, ServiceStatus,
                    check_fraction, names, no_progress)

__all__ = ["DATABASE", "LOAD_BALANCER", "Backend", "Contract", "DiskPrimitives", "DiskUsage", "Features", "FileInfo",
           "DEFAULT_LIMITS", "MAX_MEMORY_BYTES", "MIN_MEMORY_BYTES", "check_limits", "check_memory", "LifecyclePrimitives", "LimitPrimitives", "Limits", "LogPrimitives", "NetworkPrimitives", "NetworkRule",
           "Probe", "ProbePrimitives", "Progress", "SafetyPrimitives", "ServiceStatus", "check_fraction", "names",
           "no_progress"]
