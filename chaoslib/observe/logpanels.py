"""The dashboards' Elasticsearch panels, evaluated over the game's own log search where there is no Elasticsearch.

Under Docker, Grafana draws grafana/dashboards/logs.json's two Elasticsearch panels from
Filebeat's index. Natively there is no Elasticsearch (no package, no image on this machine):
the logs are the captured files that `Logs` searches with DuckDB. This module reads such a
panel's Lucene query, in the subset the dashboards use (`field:value`, `field:prefix*`,
`field:(A OR B)`, `field:>=N`, AND, OR, parentheses), and evaluates it over `Logs.search` rows
with Filebeat's field names mapped to the search's columns, so the panel counts and lists the
lines Grafana would.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from chaoslib.errors import UsageError
from chaoslib.observe.dashboards import load
from chaoslib.observe.logs import Logs

if TYPE_CHECKING:  # matplotlib is heavy: loaded when a plot is drawn
    from matplotlib.figure import Figure

#: Filebeat's fields (stack/filebeat/filebeat.yml) -> the log search's columns.
FIELDS = {"container.name": "service", "log.level": "level", "json.status": "status", "message": "message"}
_TOKEN = re.compile(r"\s*(?:(?P<term>[\w.@]+:(?:\([^()]*\)|[^\s()]+))|(?P<op>AND|OR)\b|(?P<paren>[()]))")
#: The gid of a logs panel's line of text (tells a listed log line from the "no data" note).
LOG_LINE_GID = "chaos-log-line"
Predicate = Callable[[pd.DataFrame], pd.Series]


@dataclass(frozen=True)
class LogPanel:
    title: str
    kind: str  # timeseries (lines per container and bucket) or logs (the lines)
    query: str
    limit: int


def panels(name: str | Path) -> list[LogPanel]:
    """A dashboard's Elasticsearch panels, in its order."""
    out = []
    for p in load(name).get("panels", []):
        for t in p.get("targets", []):
            if (t.get("datasource") or p.get("datasource") or {}).get("type") == "elasticsearch":
                limit = next((int(m.get("settings", {}).get("limit", 500)) for m in t.get("metrics", [])
                              if m.get("type") == "logs"), 500)
                out.append(LogPanel(p.get("title", ""), p.get("type", "timeseries"), t.get("query", "*"), limit))
    return out


def _term(text: str) -> Predicate:
    name, value = text.split(":", 1)
    if name not in FIELDS:
        raise UsageError(f"no log field {name!r} natively", field="query", value=text,
                         hint=f"fields: {', '.join(FIELDS)}")
    column = FIELDS[name]
    if value.startswith("("):
        wanted = {v.lower() for v in re.split(r"\s+OR\s+", value.strip("()").strip())}
        return lambda df: df[column].astype("string").str.lower().isin(wanted).fillna(False)
    compare = re.fullmatch(r"(>=|<=|>|<)(-?\d+(?:\.\d+)?)", value)
    if compare:
        op, bound = compare.group(1), float(compare.group(2))
        ops = {">=": pd.Series.ge, "<=": pd.Series.le, ">": pd.Series.gt, "<": pd.Series.lt}
        return lambda df: ops[op](pd.to_numeric(df[column], errors="coerce"), bound).fillna(False)
    if value.endswith("*"):
        return lambda df: df[column].astype("string").str.lower().str.startswith(value[:-1].lower()).fillna(False)
    return lambda df: (df[column].astype("string").str.lower() == value.lower()).fillna(False)


def parse(query: str) -> Predicate:
    """A Lucene query of the subset above as a row filter over `Logs.search` rows."""
    tokens = [(m.lastgroup, m.group(m.lastgroup or 0)) for m in _TOKEN.finditer(query) if m.lastgroup]
    if "".join(v for _, v in tokens).replace(" ", "") != query.replace(" ", ""):
        raise UsageError(f"query outside the supported Lucene subset: {query!r}", field="query", value=query)
    pos = 0

    def joined(op: str, operand: Callable[[], Predicate], any_of: bool) -> Predicate:
        """operand (op operand)*: true where any (OR) or all (AND) of the operands are."""
        nonlocal pos
        parts = [operand()]
        while pos < len(tokens) and tokens[pos] == ("op", op):
            pos += 1
            parts.append(operand())
        if any_of:
            return lambda df: pd.concat([p(df) for p in parts], axis=1).any(axis=1)
        return lambda df: pd.concat([p(df) for p in parts], axis=1).all(axis=1)

    def expr() -> Predicate:
        return joined("OR", conj, True)

    def conj() -> Predicate:
        return joined("AND", atom, False)

    def atom() -> Predicate:
        nonlocal pos
        kind, value = tokens[pos] if pos < len(tokens) else ("end", "")
        pos += 1
        if (kind, value) == ("paren", "("):
            inner = expr()
            if pos >= len(tokens) or tokens[pos] != ("paren", ")"):
                raise bad
            pos += 1
            return inner
        if kind != "term":
            raise bad
        return _term(value)

    bad = UsageError(f"query outside the supported Lucene subset: {query!r}", field="query", value=query)
    predicate = expr()
    if pos != len(tokens):
        raise bad
    return predicate


def lines(panel: LogPanel, logs: Logs, *, minutes: float = 15, until: float | None = None) -> pd.DataFrame:
    """The log lines a panel's query matches over the last `minutes` (rows as `Logs.search` gives them)."""
    df = logs.search(minutes=minutes, until=until, limit=None)
    return df[parse(panel.query)(df)] if not df.empty else df


def counts(rows: pd.DataFrame, *, step: float = 5) -> pd.DataFrame:
    """Matched lines per container (column) and time bucket of `step` seconds (Grafana's date histogram)."""
    if rows.empty:
        return pd.DataFrame()
    return (rows.assign(bucket=rows["time"].dt.floor(f"{int(step)}s"))
            .pivot_table(index="bucket", columns="service", values="line", aggfunc="count", fill_value=0))


def plot(name: str | Path, *, logs: Logs, fig: Figure, minutes: float = 15, step: float = 5) -> Figure:
    """Draw a dashboard's Elasticsearch panels from the log search on `fig` (the caller's: pyplot's or its own).

    timeseries: one line per container of its matched lines per bucket (drawn, in the legend);
    logs: the newest matched lines as text, up to the panel's limit (a line of text each)."""
    ps = panels(name)
    fig.set_size_inches(14, 3 * max(1, len(ps)))
    for ax, panel in zip(fig.subplots(max(1, len(ps)), 1, squeeze=False).flat, ps, strict=False):
        rows = lines(panel, logs, minutes=minutes)
        ax.set_title(panel.title, fontsize=10)
        if rows.empty:
            ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
        elif panel.kind == "logs":
            ax.axis("off")
            newest = rows.sort_values("time").tail(min(panel.limit, 12)).iloc[::-1]
            for i, (t, service, message) in enumerate(zip(newest["time"], newest["service"], newest["message"],
                                                          strict=True)):
                ax.text(0, 1 - (i + 1) / 13, f"{t:%H:%M:%S} {service} {str(message)[:120]}", fontsize=7,
                        family="monospace", transform=ax.transAxes, gid=LOG_LINE_GID)
        else:
            per = counts(rows, step=step)
            for column in per.columns:
                ax.plot(per.index, per[column], label=str(column), linewidth=1.2)
            ax.legend(fontsize=6, loc="upper left")
    fig.tight_layout()
    return fig
