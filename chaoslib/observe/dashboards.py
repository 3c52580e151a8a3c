"""Grafana dashboard JSON (grafana/) as the one definition of the panels, drawn with matplotlib.

Under Docker, Grafana shows these dashboards; under the native backend there is no
Grafana, so `plot(NAME)` runs each panel's PromQL against Prometheus and draws it, marking
when the fault began and when the page fired.
"""
from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from chaoslib.config import REPO_ROOT
from chaoslib.errors import UsageError
from chaoslib.observe import axes as human
from chaoslib.observe import fallback
from chaoslib.observe.metrics import Metrics, timestamp

if TYPE_CHECKING:  # matplotlib is heavy: loaded when a plot is drawn
    from matplotlib.figure import Figure

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


def load(name: str | Path) -> dict:
    """A dashboard's JSON, by file stem or uid (or a Path: a dashboard file outside grafana/)."""
    if isinstance(name, Path):
        return json.loads(name.read_text())
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


def panels(name: str | Path) -> list[Panel]:
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


def grid(*, minutes: float = 15, end: float | datetime | None = None, step: float = 5,
         since: float | None = None) -> tuple[float, float]:
    """One time grid (start, end) on whole steps, shared by every query of a plot.

    Taken once per plot, not once per query: Prometheus answers a range query at
    start + k * step, so queries on the same grid return the same timestamps and a panel's
    series line up after the pivot (a query taken at its own `now` would not share one).
    `since` cuts the grid's start (a game's views begin at its start: nothing of the game before),
    keeping at least one step.
    """
    end_ts = timestamp(end, time.time())
    end_ts = math.floor(end_ts / step) * step
    start_ts = end_ts - minutes * 60
    if since is not None and since > start_ts:
        start_ts = min(math.ceil(since / step) * step, end_ts - step)
    return start_ts, end_ts


def _series(metrics: Metrics, target: Target, expr: str, start: float, end: float, step: float,
            cut: float | None = None) -> pd.DataFrame:
    """One query's samples in long form (time, series, value), each series named by the target's legend."""
    df = metrics.query_range(expr, start=start, end=end, step=step, cut=cut)
    if df.empty:
        return df
    label_cols = [c for c in df.columns if c not in ("time", "value")]
    df["series"] = df.apply(lambda r: _label(target.legend, r[label_cols + ["time", "value"]]), axis=1) \
        if label_cols or target.legend else target.expr
    return df[["time", "series", "value"]]


def panel_data(panel: Panel, *, metrics: Metrics, minutes: float = 15,
               end: float | datetime | None = None, step: float = 5, since: float | None = None) -> pd.DataFrame:
    """A panel's series as a wide frame: index time (one grid for all its queries), one column per legend.

    `df.attrs["synthetic"]` lists the columns made up only by an `or ... * 0` fallback
    (see observe.fallback): the query without its fallback has no line for them. They are
    the panel's zeros, not its data. `since` cuts the start (see grid), and no window of the
    panel's queries reads a sample before it (a count over 5 min counts since the cut).
    """
    start_ts, end_ts = grid(minutes=minutes, end=end, step=step, since=since)
    frames, synthetic = [], []
    for t in panel.targets:
        df = _series(metrics, t, t.expr, start_ts, end_ts, step, cut=since)
        if df.empty:
            continue
        frames.append(df)
        if fallback.has_fallback(t.expr):
            real = _series(metrics, t, fallback.real(t.expr), start_ts, end_ts, step, cut=since)
            lined = {s for s, g in real.groupby("series")
                     if _consecutive(g.sort_values("time")["value"].to_numpy(dtype=float))} if not real.empty else set()
            synthetic += sorted(set(df["series"]) - lined)
    if not frames:
        return pd.DataFrame()
    long = pd.concat(frames, ignore_index=True)
    wide = long.pivot_table(index="time", columns="series", values="value", aggfunc="mean", dropna=False)
    wide.attrs["synthetic"] = synthetic
    return wide


def empty_panels(name: str, *, metrics: Metrics, minutes: float = 5) -> list[str]:
    """Titles (and queries) of panels whose queries return nothing now: a broken panel."""
    empty = []
    for panel in panels(name):
        for t in panel.targets:
            if metrics.query_range(t.expr, minutes=minutes).empty:
                empty.append(f"{panel.title}: {t.expr}")
    return empty


#: The vertical marks a plot can carry, in the order of an incident, with their colours.
MARKS = {"fault": "tab:red", "page": "tab:orange", "fix": "tab:green", "validated": "tab:blue"}
#: The gid of a mark's line: tells a mark from a data line (tests and the postmortem use it).
MARK_GID = "chaos-mark"
#: The gid of a line of zeros made up by a query's `or ... * 0` fallback (drawn dotted, never counted as data).
SYNTHETIC_GID = "chaos-fallback-zeros"


def plot(name: str | Path, *, minutes: float = 15, end: float | datetime | None = None, fault_at: float | None = None,
         page_at: float | None = None, marks: dict[str, float | None] | None = None,
         metrics: Metrics, columns: int = 2, step: float = 5, standalone: bool = False,
         slo: Mapping[str, float] | None = None, since: float | None = None,
         since_what: str = "this game began") -> Figure:
    """Draw every panel of a dashboard on one time grid; vertical lines mark the incident. Returns the figure.

    `marks` maps a label (fault, page, fix, validated, or any other) to a Unix time;
    `fault_at` and `page_at` are shorthands for the first two; `slo` (game/steady.py's SLO) draws the
    objectives on the panels of their quantity. `standalone=True` draws on a
    figure of its own, outside pyplot, so saving it (the postmortem) never touches the
    player's plotting backend. `since` cuts every panel's start (a game's plots begin at its start);
    `since_what` says in the title what happened then.
    """
    ps = panels(name)
    rows = max(1, math.ceil(len(ps) / columns))
    size = (7 * columns, 2.8 * rows)
    if standalone:
        from matplotlib.figure import Figure  # matplotlib is heavy: loaded when a plot is drawn

        fig = Figure(figsize=size)
        axes = fig.subplots(rows, columns, squeeze=False)
    else:
        import matplotlib.pyplot as plt  # matplotlib is heavy: loaded when a plot is drawn

        fig, axes = plt.subplots(rows, columns, figsize=size, squeeze=False)
    start_ts, end_ts = grid(minutes=minutes, end=end, step=step, since=since)
    # A mark up to one step past the grid's end (the grid ends on a whole step) is still drawn.
    every = {k: v for k, v in {"fault": fault_at, "page": page_at, **(marks or {})}.items()
             if v is not None and start_ts <= v <= end_ts + step}
    right = max([end_ts, *every.values()])
    title = load(name).get("title", name)
    shown = (end_ts - start_ts) / 60
    fig.suptitle(f"{title} (last {minutes:g} min)" if shown >= minutes else
                 f"{title} (since {since_what}: {shown:.1f} of {minutes:g} min)")
    for ax, panel in zip(axes.flat, ps, strict=False):  # the grid may have spare axes
        df = panel_data(panel, metrics=metrics, minutes=minutes, end=end_ts, step=step, since=since)
        factor = human.scale(panel.unit)[0]
        synthetic = df.attrs.get("synthetic", [])
        if df.empty or set(df.columns) <= set(synthetic):
            ax.text(0.5, 0.5, "no data" if df.empty else "no series yet (shown as 0)", ha="center", va="center",
                    transform=ax.transAxes)
        for column in df.columns:
            made_up = column in synthetic
            ax.plot(df.index, df[column] * factor, label=f"{column} (none yet: 0)" if made_up else str(column),
                    linewidth=1.2, linestyle=":" if made_up else "-", gid=SYNTHETIC_GID if made_up else None)
        for label, at in every.items():
            ax.axvline(pd.Timestamp(at, unit="s", tz="UTC"), color=MARKS.get(label, "tab:gray"),
                       linestyle="--", label=label, gid=MARK_GID)
        ax.set_title(panel.title, fontsize=10)
        ax.set_xlim(pd.Timestamp(start_ts, unit="s", tz="UTC"), pd.Timestamp(right, unit="s", tz="UTC"))
        # Human units, a UTC time axis and the objectives `slo` sets (observe/axes.py).
        human.style(ax, unit=panel.unit, exprs=[t.expr for t in panel.targets], slo=slo)
        ax.tick_params(axis="x", labelsize=7)
        if ax.get_lines():
            ax.legend(fontsize=6, loc="upper left", ncol=max(1, math.ceil(len(ax.get_lines()) / 6)))
    for ax in list(axes.flat)[len(ps):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def data_lines(ax) -> list:
    """The lines of an axis that draw data (not the incident's marks)."""
    return [line for line in ax.get_lines() if line.get_gid() != MARK_GID and not human.is_guide(line)]


def synthetic(line) -> bool:
    """True for a line of zeros made up by a fallback (see panel_data): a panel without data."""
    return line.get_gid() == SYNTHETIC_GID


def drawn(line) -> bool:
    """True when a line shows data: two or more consecutive finite points, not a fallback's zeros."""
    return not synthetic(line) and _consecutive(np.asarray(line.get_ydata(), dtype=float))


def _consecutive(y: np.ndarray) -> bool:
    finite = np.isfinite(y)
    return bool(len(y) > 1 and (finite[1:] & finite[:-1]).any())
