"""The alert rules of stack/prometheus/rules/alerts.yml, as data.

The notebooks and the game use this to list what can page and what only opens a ticket,
without duplicating the rules: the YAML file Prometheus loads is the single source.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, TypedDict

import yaml

from chaoslib.config import REPO_ROOT

ALERTS_FILE = REPO_ROOT / "stack" / "prometheus" / "rules" / "alerts.yml"


#: One alerting rule: name, group, PromQL, hold time ("for"), labels and annotations.
#: (Functional form because `for` is a Python keyword.)
AlertRule = TypedDict("AlertRule", {
    "name": str, "group": str, "expr": str, "for": str,
    "labels": dict[str, str], "annotations": dict[str, str],
})


def load_alerts(path: Path = ALERTS_FILE) -> list[AlertRule]:
    """Every alerting rule in `path` (recording rules are skipped), in file order.

    `for` is the rule's hold time ("0s" when absent); `expr` is stripped of surrounding space.
    """
    doc: dict[str, Any] = yaml.safe_load(path.read_text()) or {}
    rules: list[AlertRule] = []
    for group in doc.get("groups", []):
        for rule in group.get("rules", []):
            if "alert" not in rule:
                continue
            rules.append({
                "name": rule["alert"], "group": group["name"], "expr": str(rule["expr"]).strip(),
                "for": str(rule.get("for", "0s")), "labels": dict(rule.get("labels", {})),
                "annotations": dict(rule.get("annotations", {}))})
    return rules


def paging_alerts(path: Path = ALERTS_FILE) -> list[AlertRule]:
    """The alerts that page (label severity=page): user-facing symptoms only."""
    return [a for a in load_alerts(path) if a["labels"].get("severity") == "page"]


def ticket_alerts(path: Path = ALERTS_FILE) -> list[AlertRule]:
    """The alerts that only open a ticket (severity=ticket): causes, for diagnosis."""
    return [a for a in load_alerts(path) if a["labels"].get("severity") == "ticket"]
