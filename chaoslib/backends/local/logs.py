"""Logs of the native stack: the files supervisord captures, and the load generator's ledger."""
from __future__ import annotations

import json
import os
from pathlib import Path

from chaoslib.backends.local.state import LocalState


class LocalLogs(LocalState):
    """Captured log files, a service's last lines, a line written into them, the vote ledger."""

    def log_files(self) -> dict[str, list[Path]]:
        out: dict[str, list[Path]] = {}
        if not self.settings.log_dir.exists():
            return out
        for p in sorted(self.settings.log_dir.glob("*.log*")):
            service = p.name.split(".log")[0]
            out.setdefault(service, []).append(p)
        return out

    def write_log_line(self, *, service: str, line: str) -> None:
        """Append the line to the service's captured log file (supervisord appends to it too)."""
        self._check_service(service)
        self.settings.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.settings.log_dir / f"{service}.log", "a", encoding="utf-8") as f:
            f.write(line.rstrip("\n") + "\n")

    def _pace_file(self) -> Path:
        return self.settings.data_dir / "loadgen" / "pace.json"

    def set_load_factor(self, *, factor: float) -> None:
        """Write the pace Locust reads each second (chaoslib/loadgen/locustfile.py); 1 removes the file."""
        path = self._pace_file()
        if factor == 1:
            path.unlink(missing_ok=True)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps({"factor": factor}))
        os.chmod(tmp, 0o644)  # Locust runs as the services' user
        os.replace(tmp, path)

    def load_factor(self) -> float:
        try:
            return float(json.loads(self._pace_file().read_text())["factor"])
        except (OSError, ValueError, KeyError, TypeError):
            return 1.0

    def vote_ledger(self) -> list[dict] | None:
        path = self.settings.data_dir / "loadgen" / "ledger.jsonl"
        try:
            lines = path.read_text().splitlines()
        except FileNotFoundError:
            return []
        out = []
        for line in lines:
            try:
                out.append(json.loads(line))
            except ValueError:  # a line cut by a crash of the load generator
                continue
        return out

    def tail_log(self, *, service: str, lines: int = 20) -> str:
        path = self.settings.log_dir / f"{service}.log"
        try:
            with open(path, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - 64 * 1024))
                return "\n".join(f.read().decode("utf-8", "replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""
