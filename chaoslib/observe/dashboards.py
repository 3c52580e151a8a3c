"""Grafana dashboard JSON (grafana/) as the one definition of the panels, drawn with matplotlib.

Under Docker, Grafana shows these dashboards; under the native backend there is no
Grafana, so `plot(NAME)` runs each panel's PromQL against Prometheus and draws it, marking
when the fault began and when the page fired.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from ..config import REPO_ROOT
from ..errors import UsageError
from .metrics import Metrics

DASHBOARD_DIR = REPO_ROOT / "grafana" / "dashboards"
_LEGEND = re.compile(r"\{\{\s*(\w+)\s*\}\}")


@dataclass(frozen=True)
class Target:
    expr: str
    legend: str


@dataclass(frozen=True)
class Panel:
    title: str
    kind: str  # timeseries, stat
    unit: str
    targets: tuple[Target, ...]


def names() -> list[str]:
    """The dashboards there are (file stems: golden-signals, saturation, database, logs)."""
    return sorted(p.stem for p in DASHBOARD_DIR.glob("*.json"))


def load(name: str) -> dict:
    """A dashboard's JSON, by file stem or uid."""
    path = DASHBOARD_DIR / f"{name}.json"
    if not path.exists():
        for p in DASHBOARD_DIR.glob("*.json"):
            if json.loads(p.read_text()).get("uid") == name:
                path = p
                break
        else:
            raise UsageError(f"no dashboard {name!r}", field="dashboard", value=name,
                             hint=f"dashboards are {', '.join(names())}")
    return json.loads(path.read_text())


def panels(name: str) -> list[Panel]:
    """The panels of a dashboard with their PromQL targets, in the dashboard's order."""
    out = []
    for p in load(name).get("panels", []):
        targets = tuple(Target(t["expr"], t.get("legendFormat", "")) for t in p.get("targets", []) if t.get("expr"))
        if targets:
            unit = p.get("fieldConfig", {}).get("defaults", {}).get("unit", "")
            out.append(Panel(p.get("title", ""), p.get("type", "timeseries"), unit, targets))
    return out


def _label(legend: str, row: pd.Series) -> str:
    text = _LEGEND.sub(lambda m: str(row.get(m.group(1), "")), legend) if legend else ""
    return text or ",".join(f"{k}={v}" for k, v in row.items() if k not in ("time", "value", "__name__"))


def panel_data(panel: Panel, *, metrics: Metrics | None = None, minutes: float = 15,
               end: float | datetime | None = None, step: float = 5) -> pd.DataFrame:
    """A panel's series as a wide frame: index time, one column per legend."""
    metrics = metrics or Metrics()
    frames = []
    for t in panel.targets:
        df = metrics.query_range(t.expr, minutes=minutes, end=end, step=step)
        if df.empty:
            continue
        label_cols = [c for c in df.columns if c not in ("time", "value")]
        df["series"] = df.apply(lambda r: _label(t.legend, r[label_cols + ["time", "value"]]), axis=1) \
            if label_cols or t.legend else t.expr
        frames.append(df[["time", "series", "value"]])
    if not frames:
        return pd.DataFrame()
    long = pd.concat(frames, ignore_index=True)
    return long.pivot_table(index="time", columns="series", values="value", aggfunc="mean")


def empty_panels(name: str, *, metrics: Metrics | None = None, minutes: float = 5) -> list[str]:
    """Titles (and queries) of panels whose queries return nothing now: a broken panel."""
    metrics = metrics or Metrics()
    empty = []
    for panel in panels(name):
        for t in panel.targets:
            if metrics.query_range(t.expr, minutes=minutes).empty:
                empty.append(f"{panel.title}: {t.expr}")
    return empty


def _scale(unit: str) -> tuple[float, str]:
    return {"bytes": (1 / 2**20, "MiB"), "percentunit": (100.0, "%"), "s": (1000.0, "ms")}.get(unit, (1.0, unit))


def plot(name: str, *, minutes: float = 15, end: float | datetime | None = None, fault_at: float | None = None,
         page_at: float | None = None, metrics: Metrics | None = None, columns: int = 2):
    """Draw every panel of a dashboard; vertical lines mark the fault and the page. Returns the figure."""
    import matplotlib.pyplot as plt

    ps = panels(name)
    rows = max(1, math.ceil(len(ps) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(7 * columns, 2.8 * rows), squeeze=False)
    title = load(name).get("title", name)
    fig.suptitle(f"{title} (last {minutes:g} min)")
    for ax, panel in zip(axes.flat, ps):
        df = panel_data(panel, metrics=metrics, minutes=minutes, end=end)
        factor, unit = _scale(panel.unit)
        if df.empty:
            ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
        else:
            (df * factor).plot(ax=ax, legend=len(df.columns) <= 8)
        for at, label, color in ((fault_at, "fault", "tab:red"), (page_at, "page", "tab:orange")):
            if at is not None:
                ax.axvline(pd.Timestamp(at, unit="s", tz="UTC"), color=color, linestyle="--", label=label)
        ax.set_title(panel.title, fontsize=10)
        ax.set_xlabel("")
        ax.set_ylabel(unit if unit not in ("short", "none", "") else "")
        if ax.get_legend():
            ax.legend(fontsize=7, loc="upper left")
    for ax in list(axes.flat)[len(ps):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig

