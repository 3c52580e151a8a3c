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

from chaoslib.errors import FaultError, PrerequisiteError

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
    saddr: str | None = None
    chain: str = CHAIN


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


def table_script(chains: tuple[str, ...] = (CHAIN,)) -> str:
    """The `nft -f` text that creates the project's table with base chains named after their hooks."""
    body = "".join(f"  chain {c} {{ type filter hook {c} priority 0; policy accept; }}\n" for c in chains)
    return f"table {FAMILY} {TABLE} {{\n{body}}}\n"


def _ensure_table() -> None:
    _nft("-f", "-", stdin=table_script())


def sanitize_key(key: str) -> str:
    if not key or not all(c.isalnum() or c in "-_." for c in key):
        raise FaultError(f"invalid rule key {key!r}")
    return key


def drop_match(*, daddr: str | None = None, dport: int, uid: int | None = None,
               saddr: str | None = None, percent: int = 100) -> list[str]:
    """The match of a drop rule, as nft words: [skuid] [saddr] [daddr] tcp dport [numgen]."""
    if not 1 <= percent <= 100:
        raise FaultError(f"percent must be 1..100, got {percent}")
    match = []
    if uid is not None:
        match.append(f"meta skuid {int(uid)}")
    if saddr is not None:
        match.append(f"ip saddr {saddr}")
    if daddr is not None:
        match.append(f"ip daddr {daddr}")
    match.append(f"tcp dport {int(dport)}")
    if percent < 100:
        match.append(f"numgen random mod 100 < {int(percent)}")
    return " ".join(match).split()


def drop_rule_args(*, key: str, chain: str = CHAIN, **match) -> list[str]:
    """The arguments of `nft add rule ...` for a drop rule tagged with `key` (see drop_match)."""
    key = sanitize_key(key)
    return ["add", "rule", FAMILY, TABLE, chain, *drop_match(**match), "counter", "drop", "comment", f'"{key}"']


def add_drop(*, key: str, daddr: str, dport: int, uid: int | None, percent: int) -> None:
    """Drop `percent` % of TCP packets to daddr:dport sent by sockets of `uid` (all if None)."""
    args = drop_rule_args(key=key, daddr=daddr, dport=dport, uid=uid, percent=percent)
    _ensure_table()
    _nft(*args)


def rules() -> list[Rule]:
    """The rules of the project's table (empty when the table does not exist)."""
    if not table_exists():
        return []
    return parse_rules(json.loads(_nft("-j", "list", "table", FAMILY, TABLE)))


def parse_rules(data: dict) -> list[Rule]:
    """Rules from the output of `nft -j list table inet chaos` (any chain)."""
    out: list[Rule] = []
    for item in data.get("nftables", []):
        rule = item.get("rule")
        if not rule:
            continue
        uid = daddr = dport = saddr = None
        percent, packets = 100, 0
        for expr in rule.get("expr", []):
            m = expr.get("match")
            if m:
                left = m.get("left", {})
                if left.get("meta", {}).get("key") == "skuid":
                    uid = int(m["right"])
                elif left.get("payload", {}).get("field") == "daddr":
                    daddr = str(m["right"])
                elif left.get("payload", {}).get("field") == "saddr":
                    saddr = str(m["right"])
                elif left.get("payload", {}).get("field") == "dport":
                    dport = int(m["right"])
                elif "numgen" in left:
                    percent = int(m["right"])
            if "counter" in expr:
                packets = int(expr["counter"].get("packets", 0))
        out.append(Rule(handle=int(rule["handle"]), key=rule.get("comment", ""), uid=uid, daddr=daddr,
                        dport=dport, percent=percent, packets=packets, saddr=saddr,
                        chain=rule.get("chain", CHAIN)))
    return out


def matches_key(rule_key: str, key: str) -> bool:
    """A fault's key owns its own rules and its per-target ones (`key.<target>`)."""
    return rule_key == key or rule_key.startswith(key + ".")


def remove(key: str) -> int:
    """Remove every rule tagged `key` (or `key.<anything>`); drop the table when it becomes empty."""
    removed = 0
    for rule in rules():
        if matches_key(rule.key, key):
            _nft("delete", "rule", FAMILY, TABLE, rule.chain, "handle", str(rule.handle))
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
