"""`chaosctl bench footprint --backend docker`: the compose stack's memory per service and per profile.

Each running container's memory as `docker stats` shows it (the cgroup's usage less its inactive
file cache, read through the Engine API), the median of a few samples per compose service. A
long-running service of docker-compose.yml that is not running (on the test machine: the images
that cannot be built or pulled there) counts at its compose memory limit, and the report says so.
Totals per compose profile: `core` (what `docker compose up` starts) and `core + logs` (with
`--profile logs`). footprint_docs.py writes the figures to docs/ and renders the README's paragraph.
"""
from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from chaoslib import config
from chaoslib.backends.docker import DockerBackend
from chaoslib.backends.docker.engine import PROJECT_LABEL, SERVICE_LABEL, docker_sdk
from chaoslib.bench.footprint import sampled
from chaoslib.errors import ServiceError, UsageError
from chaoslib.progress import Progress, no_progress

MIB = 2**20
COMPOSE_FILE = config.REPO_ROOT / "docker-compose.yml"
CORE, LOGS = "core", "logs"
#: The profiles the report totals, each with the compose profiles it starts.
PROFILES = {CORE: (CORE,), f"{CORE} + {LOGS}": (CORE, LOGS)}
#: The log stack, in profile `logs` (also when the compose file does not name the profile yet).
LOG_SERVICES = ("elasticsearch", "kibana", "kibana-setup", "filebeat")
#: The Compose Specification's other place for a memory limit (beside `mem_limit`).
DEPLOY_MEMORY = "deploy.resources.limits.memory"
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class ComposeService:
    """What the report needs of one service of docker-compose.yml."""

    name: str
    profile: str | None  # core, logs, or None: a tool `up` never starts (the helper image)
    limit_bytes: int | None  # mem_limit (or deploy.resources.limits.memory)
    one_shot: bool  # restart "no": it runs once and exits (migrate, kibana-setup)


def parse_size(value: str | int) -> int:
    """Bytes from a compose memory size ("384m", "1g", "1500m", 536870912)."""
    if isinstance(value, int):
        return value
    m = _SIZE.match(str(value))
    if not m:
        raise UsageError(f"not a memory size: {value!r}", field="mem_limit", value=value)
    return int(float(m.group(1)) * 1024 ** " kmgt".index(m.group(2).lower() or " "))


def _dig(spec: dict[str, Any], path: str) -> Any:
    """spec["a"]["b"]... for the dotted `path`, None where a key is missing."""
    node: Any = spec
    for key in path.split("."):
        node = node.get(key) if isinstance(node, dict) else None
    return node


def compose_services(path: Path = COMPOSE_FILE) -> dict[str, ComposeService]:
    """Every service of the compose file with its profile, memory limit and whether it is a one-shot."""
    spec = yaml.safe_load(path.read_text())
    out = {}
    for name, svc in (spec.get("services") or {}).items():
        profiles = svc.get("profiles") or []
        profile = LOGS if LOGS in profiles or name in LOG_SERVICES else (None if profiles else CORE)
        limit = svc.get("mem_limit") or _dig(svc, DEPLOY_MEMORY)
        out[name] = ComposeService(name, profile, parse_size(limit) if limit else None,
                                   str(svc.get("restart", "")).strip('"') == "no")
    return out


def stats_memory(stats: dict[str, Any]) -> int:
    """A container's memory as `docker stats` shows it: usage less the inactive file cache
    (`total_inactive_file` under cgroup v1, `inactive_file` under v2), as the docker CLI computes it."""
    mem = stats.get("memory_stats") or {}
    usage = int(mem.get("usage") or 0)
    detail = mem.get("stats") or {}
    for key in ("total_inactive_file", "inactive_file"):
        if key in detail and int(detail[key]) < usage:
            return usage - int(detail[key])
    return usage


def sample(backend: DockerBackend) -> dict[str, int]:
    """One reading: each running compose service's memory (bytes; its containers summed)."""
    docker = docker_sdk()
    out: dict[str, int] = {}
    for c in backend.client.containers.list(filters={"label": f"{PROJECT_LABEL}={backend.project}"},
                                            ignore_removed=True):
        service = c.labels.get(SERVICE_LABEL)
        if not service:
            continue
        try:
            stats = c.stats(stream=False, one_shot=True)
        except docker.errors.NotFound:  # exited between the list and the read
            continue
        if isinstance(stats, dict):  # stream=False: one decoded reading
            out[service] = out.get(service, 0) + stats_memory(stats)
    return out


def measure(backend: DockerBackend, *, samples: int = 3, interval: float = 3.0,
            progress: Progress = no_progress) -> dict[str, int]:
    """Each running service's median memory (bytes) over `samples` readings `interval` seconds apart."""
    readings = sampled(lambda: sample(backend), samples=samples, interval=interval, progress=progress,
                       describe=lambda r: f"{len(r)} containers, {sum(r.values()) / MIB:.0f} MiB")
    names = sorted({n for r in readings for n in r})
    return {n: int(statistics.median([r[n] for r in readings if n in r])) for n in names}


def engine_of(backend: DockerBackend) -> dict[str, str]:
    """The engine's version, API version and cgroup version, as the report records them."""
    v = backend.client.version()
    info = backend.client.info()
    return {"version": str(v.get("Version", "?")), "api_version": str(v.get("ApiVersion", "?")),
            "cgroup_version": str(info.get("CgroupVersion", "?"))}


def report(measured: dict[str, int], services: dict[str, ComposeService], *, engine: dict[str, str],
           samples: int, interval: float, date: str | None = None) -> dict[str, Any]:
    """The figures as docs/footprint-docker.json holds them: per service (MiB, how it was counted,
    its profile) and per profile (measured, at limits, total; sums of the per-service MiB)."""
    rows: dict[str, dict[str, Any]] = {}
    for name in sorted(set(services) | set(measured)):
        svc = services.get(name, ComposeService(name, CORE, None, False))
        if svc.profile is None and name not in measured:
            continue
        if name in measured:
            source, mib = "measured", round(measured[name] / MIB)
        elif svc.one_shot:
            source, mib = "one-shot", 0
        elif svc.limit_bytes is None:
            raise ServiceError(name, "is not running and has no memory limit to count it at",
                               hint="start the whole stack (`docker compose --profile logs up -d --wait`)")
        else:
            source, mib = "limit", round(svc.limit_bytes / MIB)
        rows[name] = {"profile": svc.profile or CORE, "source": source, "mib": mib,
                      "limit_mib": round(svc.limit_bytes / MIB) if svc.limit_bytes else None}
    totals = {}
    for label, members in PROFILES.items():
        inside = [r for r in rows.values() if r["profile"] in members]
        measured_mib = sum(r["mib"] for r in inside if r["source"] == "measured")
        at_limits = sum(r["mib"] for r in inside if r["source"] == "limit")
        totals[label] = {"measured_mib": measured_mib, "at_limits_mib": at_limits,
                         "total_mib": measured_mib + at_limits}
    return {"date": date or datetime.now(timezone.utc).strftime("%Y-%m-%d"), "engine": engine,
            "method": "docker stats (cgroup usage less inactive file cache), Engine API, median per service",
            "samples": samples, "interval_s": interval, "services": rows, "profiles": totals}


def table(doc: dict[str, Any]) -> str:
    """The report as a table, largest first, and a line per profile (MiB)."""
    lines = [f"{'service':20} {'profile':8} {'MiB':>6}  counted"]
    for name, r in sorted(doc["services"].items(), key=lambda kv: (-kv[1]["mib"], kv[0])):
        how = {"measured": "measured", "limit": "at its compose memory limit (not running here)",
               "one-shot": "one-shot (exits once done)"}[r["source"]]
        lines.append(f"{name:20} {r['profile']:8} {r['mib']:6d}  {how}")
    for label, t in doc["profiles"].items():
        lines.append(f"{label:29} {t['total_mib']:6d}  ({t['measured_mib']} measured + {t['at_limits_mib']} at limits)")
    return "\n".join(lines)
