"""Other hosts get nothing: every socket the live stack listens on is on loopback, and each is a published endpoint.

Read from the kernel's own tables (/proc/net/tcp, tcp6, udp, udp6), each socket mapped to the
processes holding it (/proc/PID/fd), so a service that binds 0.0.0.0 or opens a port nobody
listed fails here, whatever its configuration file says.
"""
from __future__ import annotations

import ipaddress
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from .helpers import wait_until

pytestmark = pytest.mark.integration
#: TCP LISTEN; an unconnected (bound, not connected) UDP socket.
LISTENING = {"tcp": "0A", "tcp6": "0A", "udp": "07", "udp6": "07"}
#: The service that owns each endpoint, where its name differs from the endpoint's.
OWNER = {"app": "traefik", "traefik_metrics": "traefik"}
#: Published by name but not run natively (logs are the captured files): nothing may listen there for the stack.
NOT_NATIVE = {"elasticsearch"}


@dataclass(frozen=True)
class Listener:
    """One listening socket: protocol, local address and the pids holding it."""

    proto: str
    host: str
    port: int
    pids: frozenset[int]

    @property
    def loopback(self) -> bool:
        ip = ipaddress.ip_address(self.host)
        mapped = getattr(ip, "ipv4_mapped", None)
        return bool((mapped or ip).is_loopback)

    def __str__(self) -> str:
        return f"{self.proto} {self.host}:{self.port} (pids {sorted(self.pids)})"


def _address(hex_address: str) -> tuple[str, int]:
    """/proc/net's "0100007F:1F90": the address in host byte order, 32 bits at a time, then the port."""
    addr, port = hex_address.split(":")
    raw = b"".join(int(addr[i:i + 8], 16).to_bytes(4, "little") for i in range(0, len(addr), 8))
    return socket.inet_ntop(socket.AF_INET if len(raw) == 4 else socket.AF_INET6, raw), int(port, 16)


def _socket_owners() -> dict[int, set[int]]:
    """Socket inode -> the pids holding it."""
    owners: dict[int, set[int]] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fds = list((proc / "fd").iterdir())
        except OSError:  # the process ended, or a kernel thread
            continue
        for fd in fds:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                owners.setdefault(int(target[8:-1]), set()).add(int(proc.name))
    return owners


def listening_sockets() -> list[Listener]:
    """Every TCP and UDP socket listening on this host (this network namespace)."""
    owners = _socket_owners()
    found = []
    for proto, state in LISTENING.items():
        for line in Path(f"/proc/net/{proto}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] != state:
                continue
            host, port = _address(fields[1])
            if port:
                found.append(Listener(proto, host, port, frozenset(owners.get(int(fields[9]), ()))))
    return found


def _holders(pids: frozenset[int], service_of: dict[int, str]) -> list[str]:
    """Each pid as "pid service/command" for a failure message."""
    def comm(pid: int) -> str:
        try:
            return Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            return "?"
    return [f"{pid} {service_of.get(pid, 'not the stack')}/{comm(pid)}" for pid in sorted(pids)]


def test_every_listening_socket_of_the_stack_is_on_loopback(live_stack, figures):
    """README (Security): "Only the player gets the game's powers: other local users, other hosts and a
    compromised replica get nothing"; docs/security.md: "Another host on the network | no | nothing: every
    service listens on loopback only (127.0.1.N, 127.0.2.x, 127.0.0.1)".

    Controls first: a socket bound here on 0.0.0.0 is seen, owned by this process and not loopback, and
    every endpoint the stack publishes is seen listening, held by its own service. Then every socket held
    by a stack process, or on a stack address (127.0.1.x, 127.0.2.x), is on loopback and is a published
    endpoint of the service holding it.
    """
    published = {(urlsplit(url).hostname, urlsplit(url).port): name for name, url in live_stack.endpoints().items()}
    owners = {OWNER.get(name, name.replace("_", "-")) for name in published.values() if name not in NOT_NATIVE}
    # A service healthy inside supervisord's startsecs is not RUNNING yet (nor among service_pids): wait for each.
    wait_until(lambda: owners <= live_stack.backend.service_pids().keys(), timeout=30,
               what=f"{sorted(owners)} running under supervisord")
    with socket.create_server(("0.0.0.0", 0)) as wildcard:
        wildcard_port = wildcard.getsockname()[1]
        listeners = listening_sockets()
    control = [s for s in listeners if s.port == wildcard_port and s.proto == "tcp"]
    assert [(s.host, s.loopback, os.getpid() in s.pids) for s in control] == [("0.0.0.0", False, True)], control

    service_of = {pid: name for name, pids in live_stack.backend.service_pids().items() for pid in pids}
    by_address = {(s.host, s.port): s for s in listeners if s.proto.startswith("tcp")}
    missing = [name for (host, port), name in published.items() if name not in NOT_NATIVE
               and not (by_address.get((host, port)) and OWNER.get(name, name.replace("_", "-"))
                        in {service_of.get(pid) for pid in by_address[(host, port)].pids})]
    assert not missing, ("published endpoints not listening, or held by another process: "
                         + "; ".join(f"{name} at {by_address.get(where)} held by "
                                     f"{_holders(by_address[where].pids, service_of) if where in by_address else '-'}"
                                     for where, name in published.items() if name in missing))

    stack_addresses = (ipaddress.ip_network("127.0.1.0/24"), ipaddress.ip_network("127.0.2.0/24"))
    ours = [s for s in listeners if s.pids & service_of.keys()
            or any(ipaddress.ip_address(s.host) in net for net in stack_addresses if ":" not in s.host)]
    figures.append(f"loopback only: {len(ours)} listening sockets of the stack ({len(listeners)} on the host), "
                   f"{sum(not s.loopback for s in ours)} off loopback")
    assert ours, "no socket of the stack found: the reader sees nothing"
    off_loopback = [str(s) for s in ours if not s.loopback]
    assert not off_loopback, f"stack sockets reachable from other hosts: {off_loopback}"
    unknown = [f"{s} held by {_holders(s.pids, service_of)}" for s in ours
               if not (s.proto.startswith("tcp") and (s.host, s.port) in published
                       and published[(s.host, s.port)] not in NOT_NATIVE)]
    assert not unknown, f"stack sockets that are no published endpoint: {unknown}"
