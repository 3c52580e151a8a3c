"""A drawn dashboard reads to a person: human units, a UTC time axis, the SLO lines, the game's moments.

The figure is inspected, not looked at: axis labels, the horizontal SLO lines (at the game's
own objectives, game/steady.py's SLO), the vertical marks of page, fix and validation, and no
mark of the injection in what Game.observe() draws. Prometheus is a stand-in answering every
range query with two replicas' series; the drawing is real matplotlib, outside pyplot.
"""
from __future__ import annotations

import inspect

import matplotlib
import matplotlib.dates
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from chaoslib.game import observation
from chaoslib.game.steady import SLO
from chaoslib.observe import axes as human
from chaoslib.observe import dashboards
from chaoslib.observe.metrics import Metrics

END = 1_800_000_000.0


class _Prometheus(Metrics):
    """Every range query answers two replicas' flat series on the plot's grid: no server."""

    def __init__(self) -> None:  # no client: nothing to reach
        self.url = "http://prometheus.invalid"

    def query_range(self, promql, *, start=None, end=None, minutes=15, step=5, cut=None):
        times = pd.to_datetime([start + i * step for i in range(int((end - start) // step) + 1)], unit="s", utc=True)
        return pd.DataFrame([{"time": t, "replica": r, "value": v} for t in times
                             for r, v in (("app1", 0.002), ("app2", 0.004))])


@pytest.fixture
def figure():
    before = matplotlib.get_backend()
    marks = {"page": END - 240, "fix": END - 120, "validated": END - 30}
    fig = dashboards.plot("golden-signals", minutes=10, end=END, marks=marks, metrics=_Prometheus(),
                          standalone=True, slo=SLO)
    assert matplotlib.get_backend() == before  # drawn outside pyplot: the player's backend is untouched
    return {ax.get_title(): ax for ax in fig.axes if ax.get_visible()}


def test_y_axes_speak_human_units_not_grafana_ids(figure):
    """requests/s, %, ms on the y axes; no Grafana unit id (reqps, ops, percentunit) anywhere."""
    labels = {title: ax.get_ylabel() for title, ax in figure.items()}
    assert labels["Traffic by replica"] == "requests/s"
    assert labels["Error ratio by replica"] == "%"
    assert labels["Latency by replica"] == "ms"
    assert labels["Votes and polls per second, by replica"] == "per second"
    assert not {"reqps", "ops", "percentunit", "s", "bytes"} & set(labels.values())
    assert human.scale("bytes") == (1 / 2**20, "MiB")


def test_the_time_axis_names_its_zone(figure):
    """Labelled "time (UTC)" and its ticks are UTC clock times (END is 08:00 UTC)."""
    assert {ax.get_xlabel() for ax in figure.values()} == {"time (UTC)"}
    ax = figure["Traffic by replica"]
    FigureCanvasAgg(ax.figure).draw()  # lays the ticks out; no pyplot, no backend change
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert ticks and all(len(t) == 5 and t[2] == ":" for t in ticks), ticks
    assert human.utc_clock(END / 86400) == "08:00"


def test_a_game_just_begun_is_drawn_from_its_start_with_seconds():
    """A plot cut at the game's start (`since`, one minute ago) spans that minute, says so, and ticks in seconds."""
    fig = dashboards.plot("golden-signals", minutes=15, end=END, metrics=_Prometheus(), standalone=True,
                          since=END - 60)
    assert "since this game began: 1.0 of 15 min" in fig._suptitle.get_text()
    ax = next(ax for ax in fig.axes if ax.get_title() == "Traffic by replica")
    FigureCanvasAgg(fig).draw()
    left = matplotlib.dates.num2date(ax.get_xlim()[0]).timestamp()
    assert left == END - 60
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert ticks and all(len(t) == 8 and t[2] == t[5] == ":" for t in ticks), ticks


def test_slo_lines_at_the_games_objectives(figure):
    """A horizontal line at 1 % on the error panels and at 250 ms on the p95 panels, none elsewhere."""
    def slo(title):
        return [(line.get_label(), line.get_ydata()[0]) for line in figure[title].get_lines()
                if line.get_gid() == human.SLO_GID]
    assert slo("Error ratio by replica") == [(f"SLO: {SLO['error_ratio_max'] * 100:g} %", SLO["error_ratio_max"] * 100)]
    assert slo("Latency p50 / p95 / p99") == [("SLO: 250 ms", pytest.approx(SLO["p95_max_s"] * 1000))]
    assert slo("Traffic by replica") == []
    line = next(ln for ln in figure["Error ratio by replica"].get_lines() if ln.get_gid() == human.SLO_GID)
    assert list(line.get_xdata()) == [0, 1]  # spans the axis: horizontal
    assert line not in dashboards.data_lines(figure["Error ratio by replica"])


def test_the_games_moments_are_marked(figure):
    for ax in figure.values():
        marks = {line.get_label() for line in ax.get_lines() if line.get_gid() == dashboards.MARK_GID}
        assert marks == {"page", "fix", "validated"}, ax.get_title()


def test_the_player_plot_never_marks_the_injection():
    """Game.observe().marks() (what .plot draws) offers page, fix and validation: never the fault's start."""
    source = inspect.getsource(observation.Observation.marks)
    assert '"fault"' not in source and "started_at" not in source
    for key in ('"page"', '"fix"', '"validated"'):
        assert key in source
