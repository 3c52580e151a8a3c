"""Only root and the stack's own users reach its control endpoints (nftables, by socket owner).

Prometheus, Alertmanager, the pager, the exporters and PostgreSQL listen on loopback, which
every local user can reach. The table `inet chaos_lockdown` (separate from the faults'
`inet chaos`, which `panic` deletes) rejects a new connection to each of them unless the
connecting socket belongs to root or to a user the stack itself runs as (`meta skuid`).
It exists from `up` to `down`.
"""
from __future__ import annotations

import shutil
import subprocess

from chaoslib import config
from chaoslib.errors import PrerequisiteError
from chaoslib.native.users import uid_of

TABLE = "chaos_lockdown"


def rules_for_endpoints() -> list[tuple[config.Infra, list[str]]]:
    """Each guarded endpoint and the users (besides root) allowed to connect to it."""
    replicas = [config.replica_user(i) for i in range(1, config.MAX_REPLICAS + 1)]
    return [
        (config.PROMETHEUS, ["chaossvc"]),
        (config.ALERTMANAGER, ["chaossvc"]),
        (config.PAGER, ["chaossvc"]),
        (config.SATURATION_EXPORTER, ["chaossvc"]),
        (config.POSTGRES_EXPORTER, ["chaossvc"]),
        (config.TRAEFIK_METRICS, ["chaossvc"]),
        (config.POSTGRES, ["chaosdb", "chaossvc", *replicas]),
    ]


def _uids(users: list[str]) -> list[int]:
    found = [0]
    for user in users:
        try:
            found.append(uid_of(user))
        except KeyError:  # a replica user not created yet: nobody has that uid
            pass
    return sorted(set(found))


def script() -> str:
    """The nft script that (re)creates the table, atomically (one transaction)."""
    rules = []
    for infra, users in rules_for_endpoints():
        allowed = ", ".join(str(u) for u in _uids(users))
        rules.append(f"    ip daddr {infra.host} tcp dport {infra.port} tcp flags & (syn | ack) == syn "
                     f'meta skuid != {{ {allowed} }} reject with tcp reset comment "{infra.name}"')
    body = "\n".join(rules)
    return (f"add table inet {TABLE}\n"
            f"delete table inet {TABLE}\n"
            f"table inet {TABLE} {{\n  chain output {{\n    type filter hook output priority 0; policy accept;\n"
            f"{body}\n  }}\n}}\n")


def _nft(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    exe = shutil.which("nft")
    if exe is None:
        raise PrerequisiteError("nft not found", hint="apt-get install nftables")
    return subprocess.run([exe, *args], input=stdin, capture_output=True, text=True, timeout=10)


def apply() -> None:
    """Create or refresh the lockdown table."""
    proc = _nft("-f", "-", stdin=script())
    if proc.returncode != 0:
        raise PrerequisiteError(f"cannot install the lockdown rules: {proc.stderr.strip()}",
                                hint="is nftables available? (apt-get install nftables)")


def remove() -> bool:
    """Delete the table (idempotent); True if it existed."""
    if _nft("list", "table", "inet", TABLE).returncode != 0:
        return False
    _nft("delete", "table", "inet", TABLE)
    return True
