"""Network faults in memory: rules are records `status` reads (a cut-off replica is unhealthy), no packets move."""
from __future__ import annotations

from chaoslib.backends.base import DATABASE, LOAD_BALANCER, NetworkRule, check_fraction
from chaoslib.backends.memory.lifecycle import MemoryLifecycle
from chaoslib.errors import NotSupported


class MemoryNetwork(MemoryLifecycle):
    """drop_packets/delay_packets/remove_network_rules/network_rules over `self.rules`."""

    def _endpoint(self, name: str, *, other: str) -> str:
        if name != other:
            self._check_target(name)
        return name

    def drop_packets(self, *, key: str, source: str, target: str, fraction: float) -> None:
        fraction = check_fraction(fraction)
        self._endpoint(source, other=LOAD_BALANCER)
        self._endpoint(target, other=DATABASE)
        self.rules.append(NetworkRule(key=key, source=source, target=target, fraction=fraction))

    def delay_packets(self, *, key: str, source: str, target: str, delay_ms: int) -> None:
        raise NotSupported("netem", self.name)  # features.has_netem is False: no latency in memory

    def remove_network_rules(self, *, key: str) -> int:
        kept = [r for r in self.rules if r.key != key]
        removed = len(self.rules) - len(kept)
        self.rules[:] = kept
        return removed

    def network_rules(self) -> list[NetworkRule]:
        return [NetworkRule(r.key, r.source, r.target, r.fraction, dict(r.extra)) for r in self.rules]
