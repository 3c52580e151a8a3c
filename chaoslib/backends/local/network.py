"""Network faults on the native stack: nftables drop rules by socket owner, netem for latency."""
from __future__ import annotations

from chaoslib import config
from chaoslib.backends.base import DATABASE, LOAD_BALANCER, NetworkRule, check_fraction
from chaoslib.backends.local.state import LocalState
from chaoslib.errors import NotSupported
from chaoslib.kernel import nft
from chaoslib.kernel.netem import NetemShaper
from chaoslib.native.users import uid_of


class LocalNetwork(LocalState):
    """Packet loss and latency between the load balancer, the replicas and the database."""

    def _uid_of(self, source: str) -> int:
        if source == LOAD_BALANCER:
            return uid_of(config.TRAEFIK.user)
        self._check_target(source)
        return uid_of(config.replica_user(config.replica_index(source)))

    def _destination(self, target: str) -> tuple[str, int]:
        if target == DATABASE:
            return config.POSTGRES.host, config.POSTGRES.port
        self._check_target(target)
        return config.replica_address(config.replica_index(target)), config.APP_PORT

    def drop_packets(self, *, key: str, source: str, target: str, fraction: float) -> None:
        fraction = check_fraction(fraction)
        uid = self._uid_of(source)
        daddr, dport = self._destination(target)
        nft.add_drop(key=key, daddr=daddr, dport=dport, uid=uid, percent=max(1, round(fraction * 100)))

    def delay_packets(self, *, key: str, source: str, target: str, delay_ms: int) -> None:
        if not self.features.has_netem:
            raise NotSupported("netem", self.name)
        uid = self._uid_of(source)
        daddr, dport = self._destination(target)
        NetemShaper(self.settings.run_dir / "netem.json").add(key=key, uid=uid, daddr=daddr, dport=dport,
                                                              delay_ms=int(delay_ms))

    def _clear_netem(self) -> None:
        NetemShaper(self.settings.run_dir / "netem.json").clear()

    def remove_network_rules(self, *, key: str) -> int:
        removed = nft.remove(key)
        removed += NetemShaper(self.settings.run_dir / "netem.json").remove(key)
        return removed

    def network_rules(self) -> list[NetworkRule]:
        # keyed as nft reports a rule (a rule may match no uid, or no address and port)
        sources: dict[int | None, str] = {uid_of(config.TRAEFIK.user): LOAD_BALANCER}
        dests: dict[tuple[str | None, int | None], str] = {(config.POSTGRES.host, config.POSTGRES.port): DATABASE}
        for i, name in enumerate(self.targets(), start=1):
            try:
                sources[uid_of(config.replica_user(i))] = name
            except KeyError:
                pass
            dests[(config.replica_address(i), config.APP_PORT)] = name
        return [NetworkRule(key=r.key, source=sources.get(r.uid, str(r.uid)),
                            target=dests.get((r.daddr, r.dport), f"{r.daddr}:{r.dport}"),
                            fraction=r.percent / 100, extra={"packets_dropped": r.packets})
                for r in nft.rules()]
