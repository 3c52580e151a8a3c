"""Search the captured logs into pandas with DuckDB, the way Kibana searches Filebeat's.

Every service's output is captured to files (one per service, rotated). DuckDB reads them
as lines, parses the JSON ones with its JSON functions and keeps the others as plain
text: a line that is not JSON is never dropped. Lines without a time of their own (a
traceback's continuation, a plain-text log) take the time of the line before them; those
before any stamped line (a summary printed without times) have none and match a window only
if they may have been written in it (the file's first stamp, or its last write, is not earlier).

A search of a recent window (the usual "last 15 minutes") is fast: each file is read only
from a line stamped shortly before the window (found by probing a few lines, see
`window_offset`), every line's time is parsed first, and the other fields only of the
lines the time and text filters keep. The result is the one reading every line gives.
"""
from __future__ import annotations

import functools
import os
import re
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from chaoslib.errors import ObserveError, UsageError

#: What a search of files handed over (not a backend's) says of where its lines come from.
GIVEN_FILES = ("files", "logs from the files given")

LEVELS = ("debug", "info", "warning", "error", "critical")
COLUMNS = ["time", "service", "replica", "level", "logger", "message", "request_id", "method", "path", "status",
           "duration_ms", "exc", "is_json", "line", "file"]

# A timestamp at the start of a plain line (PostgreSQL, supervisord; Locust's in brackets) or a logfmt ts= field.
_PLAIN_TIME = r"^\[?(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:\.\d+)?)"
_LOGFMT_TIME = r"ts=(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?)"
_LOGFMT_LEVEL = r"level=(\w+)"

#: The JSON keys a line's time comes from, then those of its other fields: each list is
#: extracted with one parse of the line, the fields only for the lines the time filter keeps.
_TIME_KEYS = ("time", "StartUTC")
_KEYS = ("level", "logger", "message", "msg", "replica", "request_id", "method", "RequestMethod",
         "path", "RequestPath", "status", "DownstreamStatus", "duration_ms", "Duration", "exception", "exc")
_K = {k: f"v[{i + 1}]" for i, k in enumerate(_KEYS)}
#: The JSON time values of a line (NULL for a line that is not JSON).
_TIME_VALUES = f"CASE WHEN json_valid(line) THEN json_extract_string(line, {list(_TIME_KEYS)!r}) END"
#: A line's own time: its JSON time, else a timestamp at its start, else a logfmt ts=.
#: (Each regular expression runs only on a line that can match it: CASE is evaluated lazily.)
_OWN_TIME = f"""COALESCE(
      TRY_CAST(tv[1] AS TIMESTAMPTZ),
      TRY_CAST(tv[2] AS TIMESTAMPTZ),
      CASE WHEN substr(line, 1, 1) BETWEEN '0' AND '9' OR substr(line, 1, 1) = '[' THEN
        TRY_CAST(NULLIF(regexp_extract(line, '{_PLAIN_TIME}', 1), '') AS TIMESTAMPTZ) END,
      CASE WHEN contains(line, 'ts=') THEN
        TRY_CAST(NULLIF(regexp_extract(line, '{_LOGFMT_TIME}', 1), '') AS TIMESTAMPTZ) END)"""

# {lines}: each file's non-empty lines (file, service, n, line), n growing along a file.
# {early}: the filters on time and text, applied before the fields are parsed.
_SQL = f"""
WITH lines AS ({{lines}}
), stamped AS (
  SELECT file, service, mtime, n, line, json_valid(line) AS is_json, {_TIME_VALUES} AS tv
  FROM lines
), owned AS (
  SELECT file, service, mtime, n, line, is_json, {_OWN_TIME} AS own_time FROM stamped
), inherited AS (  -- a line without a time takes the time of the line before: sort only what that needs
  SELECT file, n, COALESCE(own_time, last_value(own_time IGNORE NULLS) OVER (PARTITION BY file ORDER BY n
             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)) AS time,
         first_value(own_time IGNORE NULLS) OVER (PARTITION BY file ORDER BY n
             ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS first_stamp FROM owned
), timed AS (  -- a line before any stamp was written at or before the file's first stamp (else its last write)
  SELECT o.file, o.service, o.n, o.line, o.is_json, i.time,
         CASE WHEN i.time IS NULL THEN COALESCE(i.first_stamp, to_timestamp(o.mtime)) END AS bound
  FROM owned o JOIN inherited i ON o.file = i.file AND o.n = i.n
), kept AS (
  SELECT *, CASE WHEN is_json THEN json_extract_string(line, {list(_KEYS)!r}) END AS v
  FROM timed {{early}}
)
SELECT
    time, service,
    -- a replica's own file names it when its line does not
    COALESCE({_K['replica']}, CASE WHEN regexp_full_match(service, 'app\\d+') THEN service END) AS replica,
    lower(COALESCE({_K['level']},
      CASE WHEN contains(line, 'level=') THEN NULLIF(regexp_extract(line, '{_LOGFMT_LEVEL}', 1), '') END,
      -- a plain line's level is a word in capitals (PostgreSQL's `ERROR:`, gunicorn's `[ERROR]`, Locust's
      -- `/ERROR/`) or a traceback's head: prose such as Locust's exit summary ("Error report",
      -- "500 Server Error") is not a line at that level
      CASE WHEN regexp_matches(line, '\\b(ERROR|FATAL|PANIC|CRITICAL)\\b|^Traceback \\(most recent') THEN 'error'
           WHEN regexp_matches(line, '\\bWARN(ING)?\\b') THEN 'warning' END)) AS level,
    {_K['logger']} AS logger,
    COALESCE({_K['message']}, {_K['msg']}, CASE WHEN NOT is_json THEN line END) AS message,
    {_K['request_id']} AS request_id,
    COALESCE({_K['method']}, {_K['RequestMethod']}) AS method,
    COALESCE({_K['path']}, {_K['RequestPath']}) AS path,
    TRY_CAST(COALESCE({_K['status']}, {_K['DownstreamStatus']}) AS INTEGER) AS status,
    COALESCE(TRY_CAST({_K['duration_ms']} AS DOUBLE), TRY_CAST({_K['Duration']} AS DOUBLE) / 1e6) AS duration_ms,
    COALESCE({_K['exception']}, {_K['exc']}) AS exc,
    is_json, line, file, n
FROM kept
"""


#: The search of a recent window trusts that a file is in time order within this many seconds:
#: no line is stamped MARGIN_S later than a line written after it. (A Traefik access line
#: carries its request's start, so it lags by at most a request's duration, 30 s at worst.)
MARGIN_S = 120
#: Lines probed per file to find where a window starts.
PROBES = 64
#: A file's service: its name without .log and a rotation number (app1.log.1 -> app1).
_SERVICE = re.compile(r"([^/]+?)\.log(\.\d+)?$")
#: One file's lines after its first `skip` (DuckDB's CSV reader, one column, one row per line).
_READ = ("SELECT $f{i} AS file, $s{i} AS service, $m{i}::DOUBLE AS mtime, n, line"
         " FROM (SELECT row_number() OVER () AS n, line"
         " FROM read_csv($f{i}, columns={{'line': 'VARCHAR'}}, delim='\\x01', quote='', escape='', header=false,"
         " auto_detect=false, strict_mode=false, null_padding=true))"
         " WHERE n > {skip} AND line IS NOT NULL AND line <> ''")


def rows_before(path: str, offset: int) -> int:
    """How many lines the reader reads before byte `offset` (a line start); 0 if a carriage return makes it unsure."""
    if offset <= 0:
        return 0
    with open(path, "rb") as f:
        prefix = f.read(offset)
    return 0 if b"\r" in prefix else prefix.count(b"\n")


def window_offset(path: str, start: float, con: duckdb.DuckDBPyConnection) -> int:
    """Where to start reading `path` so that every line stamped at or after `start` is read.

    A line's time may be inherited from the line before, and a line before any stamped line
    has none (and may match the window): so 0 (read it all) unless the file's first line has
    its own time. Else the offset of the last probed line stamped before start - MARGIN_S,
    probing PROBES evenly spaced lines, with the same SQL the search uses.
    """
    size = os.path.getsize(path)
    probes: list[tuple[int, str | None]] = []
    with open(path, "rb") as f:
        for k in range(PROBES):
            if k:
                f.seek(size * k // PROBES)
                f.readline()
            pos, raw = f.tell(), f.readline()
            if probes and pos <= probes[-1][0]:
                continue
            data = raw[:-2] if raw.endswith(b"\r\n") else raw[:-1] if raw.endswith(b"\n") else b""
            # a line the reader would cut (at a carriage return or its \x01 delimiter) is no landmark
            usable = data and b"\r" not in data and b"\x01" not in data
            probes.append((pos, data.decode("utf-8", "replace") if usable else None))
    times = con.execute(f"SELECT epoch({_OWN_TIME}) FROM (SELECT i, line, {_TIME_VALUES} AS tv FROM "
                        "(SELECT unnest(range(len($l))) AS i, unnest($l) AS line)) ORDER BY i",
                        {"l": [line or "" for _, line in probes]}).fetchall()
    cut = 0
    for k, ((pos, line), (t,)) in enumerate(zip(probes, times, strict=True)):
        if k == 0 and (line is None or t is None):
            return 0
        if line is None or t is None:
            continue
        if t >= start - MARGIN_S:
            break
        cut = pos
    return cut


class Logs:
    """Log search over a backend's captured log files.

    fast (default): a search with a start time reads each file only from shortly before that
    time (see `window_offset`); False reads every line, for a check of the fast path.
    """

    def __init__(self, files: dict[str, list[Path]] | None = None, *, backend=None, fast: bool = True) -> None:
        if files is None and backend is None:
            raise UsageError("Logs needs the log files or a backend")
        self._files = files
        self._backend = backend
        self.fast = fast

    def files(self) -> dict[str, list[Path]]:
        return self._files if self._files is not None else self._backend.log_files()

    def source(self) -> tuple[str, str]:
        """(kind, sentence): where the lines come from, as the backend's `log_source()` says
        (Elasticsearch or the engine under Docker, the captured files natively)."""
        if self._files is not None:
            return GIVEN_FILES
        source = self._backend.log_source()
        return source.kind, source.note

    def search(self, *, service: str | list[str] | None = None, replica: str | None = None,
               level: str | None = None, text: str | None = None, since: float | datetime | str | None = None,
               until: float | datetime | str | None = None, minutes: float | None = 15,
               limit: int | None = 10_000) -> pd.DataFrame:
        """Lines matching every filter given, newest last.

        service: a service name (app1, traefik, postgres, ...) or a list; replica: lines from
        that replica (its own file, or JSON lines naming it); level: that level or worse;
        text: case-insensitive substring of the whole line; since/until or the last `minutes`.
        The frame's attrs say where the lines came from: attrs["log_source"] ("elasticsearch",
        "engine", "files") and attrs["log_note"] (the sentence to show).
        """
        kind, note = self.source()  # first: the docker backend's log_files() then reads the same source
        frame = self._search(self.files(), service=service, replica=replica, level=level, text=text, since=since,
                             until=until, minutes=minutes, limit=limit)
        frame.attrs.update(log_source=kind, log_note=note)
        return frame

    def _search(self, wanted: dict[str, list[Path]], *, service: str | list[str] | None, replica: str | None,
                level: str | None, text: str | None, since: float | datetime | str | None,
                until: float | datetime | str | None, minutes: float | None, limit: int | None) -> pd.DataFrame:
        services = [service] if isinstance(service, str) else service
        if services:
            unknown = [s for s in services if s not in wanted]
            if unknown:
                raise UsageError(f"no logs for service {unknown[0]!r}", field="service", value=unknown[0],
                                 hint=f"services with logs: {', '.join(sorted(wanted))}")
            wanted = {s: wanted[s] for s in services}
        paths = [str(p) for ps in wanted.values() for p in ps if p.exists() and p.stat().st_size > 0]
        if not paths:
            return pd.DataFrame(columns=COLUMNS)
        early: list[str] = []
        where: list[str] = []
        params: dict[str, Any] = {}
        end = _epoch(until) if until is not None else None
        start = _epoch(since) if since is not None else (
            (end or time.time()) - minutes * 60 if minutes is not None else None)
        if start is not None:
            # a line with no time of its own or before it matches when it may have been written since start
            early.append("(time >= to_timestamp($start) OR (time IS NULL AND bound >= to_timestamp($start)))")
            params["start"] = start
        if end is not None:
            early.append("(time IS NULL OR time <= to_timestamp($end))")
            params["end"] = end
        if text:
            early.append("contains(lower(line), lower($text))")
            params["text"] = text
        if replica:
            where.append("(replica = $replica OR service = $replica)")  # the JSON's, or its file's
            params["replica"] = replica
        if level:
            level = level.lower()
            if level not in LEVELS:
                raise UsageError(f"level must be one of {', '.join(LEVELS)}, got {level!r}", field="level", value=level)
            where.append("list_position($levels, level) IS NOT NULL")
            params["levels"] = list(LEVELS[LEVELS.index(level):])
        query = _SQL.replace("{early}", f"WHERE {' AND '.join(early)}" if early else "")
        sql = (f"SELECT * FROM ({query})" + (f" WHERE {' AND '.join(where)}" if where else "")
               + " ORDER BY time, file, n")
        if limit:
            sql = f"SELECT * FROM ({sql}) ORDER BY time DESC NULLS LAST, file DESC, n DESC LIMIT {int(limit)}"
            sql = f"SELECT * FROM ({sql}) ORDER BY time, file, n"
        try:
            with _database().cursor() as con:
                reads = []
                for i, path in enumerate(paths):
                    skip = rows_before(path, window_offset(path, start, con)) if self.fast and start is not None else 0
                    name = _SERVICE.search(path)
                    params[f"f{i}"], params[f"s{i}"] = path, name.group(1) if name else ""
                    params[f"m{i}"] = os.path.getmtime(path)
                    reads.append(_READ.format(i=i, skip=skip))
                df = con.execute(sql.replace("{lines}", " UNION ALL ".join(reads)), params).df()
        except duckdb.Error as e:
            raise ObserveError(f"log search failed: {e}", source="logs") from e
        return df[COLUMNS]

    def counts(self, *, by: tuple[str, ...] = ("service", "level"), **filters) -> pd.DataFrame:
        """How many lines per group (e.g. errors by replica and message)."""
        df = self.search(limit=None, **filters)
        if df.empty:
            out = pd.DataFrame(columns=[*by, "lines"])
        else:
            out = df.groupby(list(by), dropna=False).size().reset_index(name="lines").sort_values(
                "lines", ascending=False, ignore_index=True)
        out.attrs.update(df.attrs)  # where the lines came from
        return out


@functools.cache
def _database() -> duckdb.DuckDBPyConnection:
    """One in-memory DuckDB per process (opening one costs tens of ms); each search takes its own cursor."""
    return duckdb.connect()


def _epoch(value: float | datetime | str) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, str):
        return pd.Timestamp(value).timestamp()
    return float(value)
