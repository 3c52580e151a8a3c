"""The contract's network primitives: drop or delay packets between services, tagged by fault."""
from __future__ import annotations

from chaoslib.backends.base.contract import Contract
from chaoslib.backends.base.types import NetworkRule


class NetworkPrimitives(Contract):
    """Packet loss and latency between the load balancer, the replicas and the database."""

    def drop_packets(self, *, key: str, source: str, target: str, fraction: float) -> None:
        """Drop `fraction` (0 < f <= 1) of the packets from `source` to `target`, tagged with `key`."""
        raise self._missing("drop_packets")

    def delay_packets(self, *, key: str, source: str, target: str, delay_ms: int) -> None:
        """Add latency between `source` and `target` (needs the "netem" feature)."""
        raise self._missing("delay_packets")

    def remove_network_rules(self, *, key: str) -> int:
        """Remove every network rule tagged with `key`; return how many were removed."""
        raise self._missing("remove_network_rules")

    def network_rules(self) -> list[NetworkRule]:
        """The network fault rules currently in force."""
        raise self._missing("network_rules")
