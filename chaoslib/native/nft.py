"""The project's own nftables table: packet loss and cut-offs without netem.

Everything lives in one table, `inet chaos`, that exists only while a fault needs it:
with no fault in force the host's ruleset is exactly what it was. Each rule carries the
fault's key as its comment, so a fault removes exactly its own rules.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass

from ..errors import FaultError, PrerequisiteError

TABLE = "chaos"
FAMILY = "inet"
CHAIN = "output"


@dataclass
class Rule:
    """One rule of the table, as parsed back from `nft -j`."""

    handle: int
    key: str
    uid: int | None
    daddr: str | None
    dport: int | None
    percent: int  # 100 = every packet
    packets: int


def _nft(*args: str, stdin: str | None = None) -> str:
    exe = shutil.which("nft")
    if exe is None:
        raise PrerequisiteError("nft not found", hint="install the 'nftables' package (apt-get install nftables)")
    try:
        proc = subprocess.run([exe, *args], input=stdin, capture_output=True, text=True, timeout=10, check=True)
    except subprocess.CalledProcessError as e:
        raise FaultError(f"nft {' '.join(args)} failed: {e.stderr.strip() or e.stdout.strip()}") from e
    except subprocess.TimeoutExpired as e:
        raise FaultError("nft timed out") from e
    return proc.stdout


def table_exists() -> bool:
    exe = shutil.which("nft")
    if exe is None:
        return False
    proc = subprocess.run([exe, "list", "table", FAMILY, TABLE], capture_output=True, text=True)
    return proc.returncode == 0


def ruleset() -> str:
    """The whole host ruleset, as text (for before/after comparisons)."""
    return _nft("list", "ruleset")


def _ensure_table() -> None:
    _nft("-f", "-", stdin=(
        f"table {FAMILY} {TABLE} {{\n"
        f"  chain {CHAIN} {{ type filter hook output priority 0; policy accept; }}\n"
        f"}}\n"))


def _sanitize_key(key: str) -> str:
    if not key or not all(c.isalnum() or c in "-_." for c in key):
        raise FaultError(f"invalid rule key {key!r}")
    return key


def add_drop(*, key: str, daddr: str, dport: int, uid: int | None, percent: int) -> None:
    """Drop `percent` % of TCP packets to daddr:dport sent by sockets of `uid` (all if None)."""
    key = _sanitize_key(key)
    if not 1 <= percent <= 100:
        raise FaultError(f"percent must be 1..100, got {percent}")
    match = []
    if uid is not None:
        match.append(f"meta skuid {int(uid)}")
    match.append(f"ip daddr {daddr} tcp dport {int(dport)}")
    if percent < 100:
        match.append(f"numgen random mod 100 < {int(percent)}")
    _ensure_table()
    _nft("add", "rule", FAMILY, TABLE, CHAIN, *" ".join(match).split(), "counter", "drop",
         "comment", f'"{key}"')


def rules() -> list[Rule]:
    """The rules of the project's table (empty when the table does not exist)."""
    if not table_exists():
        return []
    data = json.loads(_nft("-j", "list", "table", FAMILY, TABLE))
    out: list[Rule] = []
    for item in data.get("nftables", []):
        rule = item.get("rule")
        if not rule:
            continue
        uid = daddr = dport = None
        percent, packets = 100, 0
        for expr in rule.get("expr", []):
            m = expr.get("match")
            if m:
                left = m.get("left", {})
                if left.get("meta", {}).get("key") == "skuid":
                    uid = int(m["right"])
                elif left.get("payload", {}).get("field") == "daddr":
                    daddr = str(m["right"])
                elif left.get("payload", {}).get("field") == "dport":
                    dport = int(m["right"])
                elif "numgen" in left:
                    percent = int(m["right"])
            if "counter" in expr:
                packets = int(expr["counter"].get("packets", 0))
        out.append(Rule(handle=int(rule["handle"]), key=rule.get("comment", ""), uid=uid, daddr=daddr,
                        dport=dport, percent=percent, packets=packets))
    return out


def remove(key: str) -> int:
    """Remove every rule tagged `key` (or `key.<anything>`); drop the table when it becomes empty."""
    removed = 0
    for rule in rules():
        if rule.key == key or rule.key.startswith(key + "."):
            _nft("delete", "rule", FAMILY, TABLE, CHAIN, "handle", str(rule.handle))
            removed += 1
    if table_exists() and not rules():
        delete_table()
    return removed


def delete_table() -> bool:
    """Delete the whole table (idempotent); True if it existed."""
    if not table_exists():
        return False
    _nft("delete", "table", FAMILY, TABLE)
    return True
