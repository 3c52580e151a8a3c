"""Added latency with netem, only where the kernel has it (never depended on).

Detection builds a throw-away network namespace with a dummy link and tries to attach a
netem qdisc to it, so the host's own interfaces are never touched by the probe. Shaping
marks the fault's packets with nftables and steers only marked packets on `lo` into a
netem band of a prio qdisc; everything else keeps flowing unshaped.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from chaoslib.errors import FaultError

MARK_BASE = 0xC4A0


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=10)


@lru_cache(maxsize=1)
def detect_netem() -> bool:
    """True when this kernel can attach a netem qdisc (probed in a private namespace)."""
    if os.geteuid() != 0 or not shutil.which("tc") or not shutil.which("ip"):
        return False
    ns = f"chaos-probe-{os.getpid()}"
    if _run("ip", "netns", "add", ns).returncode != 0:
        return False
    try:
        if _run("ip", "-n", ns, "link", "add", "probe0", "type", "dummy").returncode != 0:
            return False
        _run("ip", "-n", ns, "link", "set", "probe0", "up")
        return _run("tc", "-n", ns, "qdisc", "add", "dev", "probe0", "root", "netem", "delay", "1ms").returncode == 0
    finally:
        _run("ip", "netns", "del", ns)


def qdiscs(dev: str) -> str:
    """The qdiscs of a device as `tc` shows them (the latency fault adds a prio and a netem on lo)."""
    if not shutil.which("tc"):
        return ""
    return _run("tc", "qdisc", "show", "dev", dev).stdout


class NetemShaper:
    """Latency rules on lo: nft marks a fault's packets, a netem band delays them."""

    TABLE = "chaos_netem"

    def __init__(self, state: Path) -> None:
        self.state = state

    def _load(self) -> dict:
        try:
            return json.loads(self.state.read_text())
        except (FileNotFoundError, ValueError):
            return {}

    def _save(self, data: dict) -> None:
        if data:
            self.state.write_text(json.dumps(data))
        else:
            self.state.unlink(missing_ok=True)

    def add(self, *, key: str, uid: int, daddr: str, dport: int, delay_ms: int) -> None:
        data = self._load()
        if data:
            raise FaultError("only one latency fault at a time", hint="heal the other one first")
        mark = MARK_BASE + 1
        steps = [
            ["tc", "qdisc", "add", "dev", "lo", "root", "handle", "1:", "prio", "bands", "4",
             "priomap", "1", "2", "2", "2", "1", "2", "0", "0", "1", "1", "1", "1", "1", "1", "1", "1"],
            ["tc", "qdisc", "add", "dev", "lo", "parent", "1:4", "handle", "40:", "netem", "delay", f"{delay_ms}ms"],
            ["tc", "filter", "add", "dev", "lo", "parent", "1:", "protocol", "ip", "handle", str(mark), "fw",
             "flowid", "1:4"],
        ]
        nft_script = (f"table inet {self.TABLE} {{ chain output {{ type filter hook output priority -1; "
                      f"meta skuid {uid} ip daddr {daddr} tcp dport {dport} meta mark set {mark} }} }}")
        self._save({key: {"mark": mark, "qdisc": False}})
        for i, cmd in enumerate(steps):
            proc = _run(*cmd)
            if proc.returncode != 0:
                self.clear()
                raise FaultError(f"netem setup failed: {proc.stderr.strip()}")
            if i == 0:
                # Only now is lo's root qdisc ours: a failed `add` (one was there) must not delete it.
                self._save({key: {"mark": mark, "qdisc": True}})
        proc = subprocess.run(["nft", "-f", "-"], input=nft_script, capture_output=True, text=True)
        if proc.returncode != 0:
            self.clear()
            raise FaultError(f"netem marking failed: {proc.stderr.strip()}")

    def remove(self, key: str) -> int:
        data = self._load()
        if key not in data:
            return 0
        self.clear()
        return 1

    def clear(self) -> bool:
        """Remove the shaper (qdisc and marking table); True when there was one."""
        data = self._load()
        had = bool(data)
        if had:
            if any(isinstance(v, dict) and v.get("qdisc", True) for v in data.values()):
                _run("tc", "qdisc", "del", "dev", "lo", "root", "handle", "1:", "prio")
            _run("nft", "delete", "table", "inet", self.TABLE)
            self._save({})
        return had
