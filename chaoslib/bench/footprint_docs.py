"""The docker footprint's figures on paper: docs/footprint-docker.json and .md, and the README's paragraph.

The README's Docker memory paragraph is `readme_paragraph(json)` word for word (a unit test holds
the two equal), so the README says what the last `chaosctl bench footprint --backend docker` measured.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from chaoslib import config

DOCS = config.REPO_ROOT / "docs"
JSON_NAME, MD_NAME = "footprint-docker.json", "footprint-docker.md"
#: How the README names a service (else its compose name).
LABELS = {"postgres": "PostgreSQL", "traefik": "Traefik", "prometheus": "Prometheus", "locust": "Locust",
          "alertmanager": "Alertmanager", "pager": "the pager", "postgres-exporter": "postgres-exporter",
          "disks": "`disks`", "grafana": "Grafana", "cadvisor": "cAdvisor", "elasticsearch": "Elasticsearch",
          "kibana": "Kibana", "filebeat": "Filebeat"}
#: Docker gets a profile's total times this, rounded up to whole GiB.
HEADROOM = 1.5


def _listing(rows: list[tuple[str, dict[str, Any]]]) -> str:
    """"app1 97 MiB, PostgreSQL 87 and ...": largest first, the unit on the first figure only."""
    ordered = sorted(rows, key=lambda kv: (-kv[1]["mib"], kv[0]))
    items = [f"{LABELS.get(name, name)} {r['mib']:,}{' MiB' if i == 0 else ''}" for i, (name, r) in enumerate(ordered)]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def give_docker_gib(total_mib: int) -> int:
    """What to give Docker for a profile: its total and half as much again, in whole GiB."""
    return math.ceil(total_mib * HEADROOM / 1024)


def readme_paragraph(doc: dict[str, Any]) -> str:
    """The README's memory paragraph, rendered from the report (one line; the README wraps it)."""
    rows = doc["services"].items()
    measured = [(n, r) for n, r in rows if r["source"] == "measured"]
    core, everything = doc["profiles"]["core"], doc["profiles"]["core + logs"]
    text = (f"**Memory, per profile**, measured by `chaosctl bench footprint --backend docker` on Docker Engine "
            f"{doc['engine']['version']} on {doc['date']} (every service healthy under the steady load; "
            f"`docker stats`, the median of {doc['samples']} samples; "
            f"[docs/footprint-docker.md](docs/footprint-docker.md)): **the core game takes {core['total_mib']:,} MiB, "
            f"with `--profile logs` {everything['total_mib']:,} MiB; give Docker {give_docker_gib(core['total_mib'])} "
            f"GiB, or {give_docker_gib(everything['total_mib'])} GiB with the log stack.** "
            f"The services that ran there take {sum(r['mib'] for _, r in measured):,} MiB together "
            f"({_listing(measured)}).")
    parts = []
    for label, profile in (("the core", "core"), ("`logs`", "logs")):
        at_limit = [(n, r) for n, r in rows if r["source"] == "limit" and r["profile"] == profile]
        if at_limit:
            parts.append(f"{_listing(at_limit)} in {label} ({sum(r['mib'] for _, r in at_limit):,} MiB)")
    if parts:
        text += " The ones that cannot run there count at their compose memory limits: " + "; ".join(parts) + "."
    return text


def markdown(doc: dict[str, Any]) -> str:
    """docs/footprint-docker.md: the figures, the engine, the date, how they were taken."""
    e = doc["engine"]
    lines = ["# Memory of the Docker stack", "",
             f"`chaosctl bench footprint --backend docker` on {doc['date']}, Docker Engine {e['version']} "
             f"(API {e['api_version']}, cgroup v{e['cgroup_version']}); {doc['method']}, "
             f"{doc['samples']} samples {doc['interval_s']:g} s apart, the stack healthy under its steady load. "
             f"The figures are in [{JSON_NAME}]({JSON_NAME}); the README's paragraph is rendered from it.", "",
             "| profile | measured MiB | at limits MiB | total MiB |", "| --- | ---: | ---: | ---: |"]
    lines += [f"| {label} | {t['measured_mib']:,} | {t['at_limits_mib']:,} | {t['total_mib']:,} |"
              for label, t in doc["profiles"].items()]
    lines += ["", "| service | profile | MiB | counted |", "| --- | --- | ---: | --- |"]
    how = {"measured": "measured", "limit": "at its compose memory limit (not run here)",
           "one-shot": "one-shot, exits once done"}
    lines += [f"| {name} | {r['profile']} | {r['mib']:,} | {how[r['source']]} |"
              for name, r in sorted(doc["services"].items(), key=lambda kv: (kv[1]["profile"], -kv[1]["mib"], kv[0]))]
    lines += ["", "Services counted at their limits cannot run on the machine that measured (no image of theirs",
              "can be built or pulled there: see tests/docker/compose_env.py); a limit is what the service may",
              "take, not what it takes. `docker stats` counts the container's active page cache too, so a",
              "figure moves between runs with what the container has read (a binary, Prometheus's blocks).",
              "Re-measure on a running stack with",
              "`chaosctl bench footprint --backend docker` (it rewrites both files), then copy",
              "the paragraph it prints into the README's Docker section.", ""]
    return "\n".join(lines)


def write_docs(doc: dict[str, Any], out: Path = DOCS) -> list[Path]:
    """Write the JSON and the markdown into `out`; the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / JSON_NAME, out / MD_NAME]
    paths[0].write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    paths[1].write_text(markdown(doc))
    return paths


def load(path: Path = DOCS / JSON_NAME) -> dict[str, Any]:
    """The committed report."""
    doc: dict[str, Any] = json.loads(path.read_text())
    return doc
