"""How a drawn panel reads to a person: human units, a time axis that names its zone, the SLO lines.

Grafana's unit ids (`reqps`, `ops`, `percentunit`, `s`, `bytes`) become the words a y axis
shows (requests/s, per second, %, ms, MiB); the time axis says it is UTC; a panel that draws
a quantity the game holds an objective on (the error ratio, the 95th percentile latency) gets
the objective as a dotted horizontal line (gid SLO_GID), so the eye sees when it was broken.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # matplotlib is heavy: loaded when a plot is drawn
    from matplotlib.axes import Axes

__all__ = ["UNITS", "SLO_GID", "TIME_LABEL", "scale", "slo_lines", "style"]

#: Grafana unit id -> (factor applied to the values, the y axis's label).
UNITS: dict[str, tuple[float, str]] = {
    "reqps": (1.0, "requests/s"), "ops": (1.0, "per second"), "percentunit": (100.0, "%"),
    "percent": (1.0, "%"), "s": (1000.0, "ms"), "ms": (1.0, "ms"), "bytes": (1 / 2**20, "MiB"),
    "short": (1.0, ""), "none": (1.0, ""), "": (1.0, ""),
}
#: The gid of an SLO line: tells it from a data line and from the incident's marks.
SLO_GID = "chaos-slo"
TIME_LABEL = "time (UTC)"
#: matplotlib's date epoch (its rcParams["date.epoch"] default since 3.3): date numbers count days from it.
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
#: Which objective a panel's query is about: a recording rule's name in its PromQL -> the SLO key.
_SLO_OF = {"errors:ratio": "error_ratio_max", "latency_seconds:p95": "p95_max_s"}


def scale(unit: str) -> tuple[float, str]:
    """(factor, label) for a Grafana unit id; an unknown id is shown as it is."""
    return UNITS.get(unit, (1.0, unit))


def slo_lines(exprs: list[str], unit: str, slo: Mapping[str, float]) -> list[tuple[str, float]]:
    """(label, y in the axis's units) of each objective the panel's queries draw, e.g. ("SLO: 1 %", 1.0)."""
    factor, label = scale(unit)
    out = []
    for needle, key in _SLO_OF.items():
        if key in slo and any(needle in e for e in exprs):
            y = slo[key] * factor
            out.append((f"SLO: {y:g} {label}".rstrip(), y))
    return out


def style(ax: Axes, *, unit: str, exprs: list[str], slo: Mapping[str, float] | None = None) -> None:
    """Label the axes in human units and UTC, and draw the objectives `slo` sets on this panel's quantity."""
    ax.set_ylabel(scale(unit)[1])
    ax.set_xlabel(TIME_LABEL, fontsize=7)
    # The zone the label names, whatever rcParams["timezone"] says; seconds on a short window (a game just begun).
    left, right = ax.get_xlim()
    ax.xaxis.set_major_formatter(utc_clock_seconds if (right - left) * 1440 < SECONDS_UNDER_MIN else utc_clock)
    for label, y in slo_lines(exprs, unit, slo or {}):
        ax.axhline(y, color="tab:red", linestyle=":", linewidth=1.2, label=label, gid=SLO_GID)


def utc_clock(x: float, _pos: Any = None) -> str:
    """A tick of a date axis as HH:MM in UTC (x: matplotlib's date number, days since its 1970 epoch)."""
    return (EPOCH + timedelta(days=float(x))).strftime("%H:%M")


#: Under this many minutes on the time axis, its ticks show seconds (HH:MM:SS).
SECONDS_UNDER_MIN = 5


def utc_clock_seconds(x: float, _pos: Any = None) -> str:
    """A tick of a short date axis as HH:MM:SS in UTC."""
    return (EPOCH + timedelta(days=float(x))).strftime("%H:%M:%S")


def is_guide(line: Any) -> bool:
    """True for a line drawn to guide the eye (an SLO line), not data."""
    return bool(line.get_gid() == SLO_GID)
