"""Network faults in containers' namespaces: the kernel's nftables rules and a netem shaper, run by helpers."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TypedDict

from chaoslib import config
from chaoslib.backends.base import DATABASE, LOAD_BALANCER, NetworkRule, check_fraction
from chaoslib.backends.docker.engine import POSTGRES_PORT, PROXY, SERVICE_LABEL
from chaoslib.backends.docker.helpers import DockerHelpers
from chaoslib.errors import FaultError, NotSupported, UsageError
from chaoslib.kernel import nft
from chaoslib.kernel.netem import MARK_BASE

if TYPE_CHECKING:  # the docker SDK is loaded when the engine is first used (engine.docker_sdk)
    from docker.models.containers import Container

#: The latency shaper's own table and packet mark (as the native shaper's).
NETEM_TABLE = "chaos_netem"
NETEM_MARK = MARK_BASE + 1
#: Removes a namespace's latency shaper; prints "gone" when there was one.
NETEM_CLEAR = (f"had=0; nft delete table inet {NETEM_TABLE} 2>/dev/null && had=1; "
               "tc qdisc del dev eth0 root 2>/dev/null; [ $had = 1 ] && echo gone || true")


class _Port(TypedDict):
    dport: int


class Match(_Port, total=False):
    """Where a rule's packets go (or come from), and their port: nft.drop_match's keywords."""

    saddr: str
    daddr: str


class DockerNetwork(DockerHelpers):
    """Packet loss and latency between the load balancer, the replicas and the database."""

    def _placement(self, source: str, target: str) -> tuple[Container, str, Match]:
        """Where a source->target rule lives: (holder container, chain, match fields, dport)."""
        containers = self._containers()
        proxy = containers.get(PROXY)
        db = containers.get(DATABASE)
        if source == LOAD_BALANCER:
            if proxy is None:
                raise FaultError("no load balancer container (service traefik) in the project",
                                 hint="is the stack up? see `chaosctl status`")
            if target == DATABASE:
                if db is None:
                    raise FaultError("no database container (service postgres) in the project")
                return proxy, "output", {"daddr": self._ip(db, proxy), "dport": POSTGRES_PORT}
            dest = self._replica(target)
            return proxy, "output", {"daddr": self._ip(dest, proxy), "dport": config.APP_PORT}
        src = self._replica(source)
        if target == DATABASE:
            if db is None:
                raise FaultError("no database container (service postgres) in the project")
            return db, "input", {"saddr": self._ip(src, db), "dport": POSTGRES_PORT}
        dest = self._replica(target)
        return src, "output", {"daddr": self._ip(dest, src), "dport": config.APP_PORT}

    def drop_packets(self, *, key: str, source: str, target: str, fraction: float) -> None:
        fraction = check_fraction(fraction)
        holder, chain, match = self._placement(source, target)
        args = nft.drop_rule_args(key=key, chain=chain, percent=max(1, round(fraction * 100)), **match)
        script = nft.table_script(("input", "output")) + " ".join(args) + "\n"
        self._helper(holder, 'printf "%s" "$NFT_SCRIPT" | nft -f -', env={"NFT_SCRIPT": script})

    def delay_packets(self, *, key: str, source: str, target: str, delay_ms: int) -> None:
        """Latency as the native shaper does it, in the source's namespace: nft marks the
        packets (table inet chaos_netem, the rule tagged with the key), a prio qdisc sends the
        marked ones to a netem band on eth0. One latency fault per namespace at a time."""
        if not self.features.has_netem:
            raise NotSupported("netem", self.name)
        if not 1 <= int(delay_ms) <= 60_000:
            raise UsageError(f"delay must be between 1 and 60000 ms, got {delay_ms}", field="delay_ms",
                             value=delay_ms)
        holder, chain, match = self._placement(source, target)
        if chain != "output":  # replica -> database: delay the replica's own packets instead
            holder = self._replica(source)
            match = {"daddr": self._ip(self._containers()[DATABASE], holder), "dport": POSTGRES_PORT}
        key = nft.sanitize_key(key)
        words = " ".join(nft.drop_match(**match))
        mark = NETEM_MARK
        script = "\n".join([
            f"nft list table inet {NETEM_TABLE} >/dev/null 2>&1 && {{ echo busy; exit 3; }}",
            "set -e",
            "tc qdisc add dev eth0 root handle 1: prio bands 4 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1",
            f"tc qdisc add dev eth0 parent 1:4 handle 40: netem delay {int(delay_ms)}ms",
            f"tc filter add dev eth0 parent 1: protocol ip handle {mark} fw flowid 1:4",
            f"nft add table inet {NETEM_TABLE}",
            f"nft add chain inet {NETEM_TABLE} output '{{ type filter hook output priority -1; }}'",
            f"nft add rule inet {NETEM_TABLE} output {words} meta mark set {mark} comment '\"{key}\"'",
        ])
        try:
            self._helper(holder, script)
        except FaultError as e:
            if "busy" in str(e):  # another fault's shaper: leave it alone
                raise FaultError("only one latency fault at a time per source",
                                 hint="heal the other one first") from e
            self._helper(holder, NETEM_CLEAR)
            raise

    def _table_json(self, holder: Container) -> dict[str, Any]:
        out = self._sweep_helper(holder, f"nft -j list table {nft.FAMILY} {nft.TABLE} 2>/dev/null || true")
        return json.loads(out) if out.strip() else {}

    def _rules_by_holder(self) -> list[tuple[Container, list[nft.Rule]]]:
        holders = self._holders()
        tables = self._parallel(self._table_json, holders)
        return [(h, nft.parse_rules(t)) for h, t in zip(holders, tables, strict=True)]

    def remove_network_rules(self, *, key: str) -> int:
        removed = 0
        for holder, rules in self._rules_by_holder():
            gone = [r for r in rules if nft.matches_key(r.key, key)]
            if not gone:
                continue
            lines = [f"delete rule {nft.FAMILY} {nft.TABLE} {r.chain} handle {r.handle}" for r in gone]
            if len(gone) == len(rules):
                lines.append(f"delete table {nft.FAMILY} {nft.TABLE}")
            self._helper(holder, 'printf "%s" "$NFT_SCRIPT" | nft -f -', env={"NFT_SCRIPT": "\n".join(lines) + "\n"})
            removed += len(gone)
        return removed + self._remove_netem(key)

    def _remove_netem(self, key: str) -> int:
        if not self.features.has_netem:
            return 0
        removed = 0
        for holder in self._holders():
            out = self._sweep_helper(holder, f"nft -j list table inet {NETEM_TABLE} 2>/dev/null || true")
            rules = nft.parse_rules(json.loads(out)) if out.strip() else []
            if any(nft.matches_key(r.key, key) for r in rules):
                self._helper(holder, NETEM_CLEAR)
                removed += 1
        return removed

    def network_rules(self) -> list[NetworkRule]:
        containers = self._containers(running_only=True)
        by_ip: dict[str, str] = {}
        for service, c in containers.items():
            for ip in self._networks(c).values():
                by_ip[ip] = service

        def name(service: str) -> str:
            return LOAD_BALANCER if service == PROXY else service

        out = []
        for holder, rules in self._rules_by_holder():
            here = holder.labels.get(SERVICE_LABEL) or holder.name or ""
            for r in rules:
                source = name(by_ip.get(r.saddr, r.saddr)) if r.saddr else name(here)
                target = name(by_ip.get(r.daddr, r.daddr)) if r.daddr else name(here)
                out.append(NetworkRule(key=r.key, source=source, target=target, fraction=r.percent / 100,
                                       extra={"packets_dropped": r.packets, "namespace": here, "chain": r.chain}))
        return out
