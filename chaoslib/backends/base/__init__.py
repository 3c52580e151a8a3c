"""The backend contract: the small, honest primitives every backend implements.

Written the way Django writes database backends: this package holds the contract, one
module per area (lifecycle, network, disks, limits, logs, safety, releases, database), the concrete backends
(local/, docker/) sit beside it with the same module names, and the rest of chaoslib
(faults, fixes, the game, the notebooks) is written only against `Backend`. A primitive a
backend must provide raises NotImplementedError naming itself; `features` (a Features of
commented booleans) says what a backend can do on this machine (e.g. has_netem only where
the kernel has the netem qdisc).
"""
from chaoslib.backends.base.backend import Backend
from chaoslib.backends.base.contract import Contract
from chaoslib.backends.base.database import (
    HOLDER_KINDS,
    DatabasePrimitives,
    DbSession,
    check_holder,
    check_one_session,
    holder_key,
    holder_name,
    no_session,
)
from chaoslib.backends.base.disks import DiskPrimitives
from chaoslib.backends.base.features import Features
from chaoslib.backends.base.lifecycle import LifecyclePrimitives
from chaoslib.backends.base.limits import LimitPrimitives
from chaoslib.backends.base.logs import LogPrimitives
from chaoslib.backends.base.network import NetworkPrimitives
from chaoslib.backends.base.probes import Probe, ProbePrimitives
from chaoslib.backends.base.releases import HistoryEntry, ReleasePrimitives, check_release, check_settings
from chaoslib.backends.base.safety import SafetyPrimitives
from chaoslib.backends.base.types import (
    DATABASE,
    DEFAULT_LIMITS,
    LOAD_BALANCER,
    MAX_MEMORY_BYTES,
    MIN_MEMORY_BYTES,
    DiskUsage,
    FileInfo,
    Limits,
    NetworkRule,
    OomKill,
    Progress,
    ServiceStatus,
    check_fraction,
    check_limits,
    check_memory,
    names,
    no_progress,
)

__all__ = ["DATABASE", "LOAD_BALANCER", "Backend", "Contract", "DiskPrimitives", "DiskUsage", "Features", "FileInfo",
           "DEFAULT_LIMITS", "MAX_MEMORY_BYTES", "MIN_MEMORY_BYTES", "check_limits", "check_memory",
           "LifecyclePrimitives", "LimitPrimitives", "Limits", "LogPrimitives", "NetworkPrimitives", "NetworkRule",
           "OomKill",
           "Probe", "ProbePrimitives", "Progress", "SafetyPrimitives", "ServiceStatus", "check_fraction", "names",
           "no_progress", "HistoryEntry", "ReleasePrimitives", "check_release", "check_settings",
           "HOLDER_KINDS", "DatabasePrimitives", "DbSession", "check_holder", "check_one_session", "holder_key",
           "holder_name", "no_session"]
