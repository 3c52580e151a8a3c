"""Search the captured logs into pandas with DuckDB, the way Kibana searches Filebeat's.

Every service's output is captured to files (one per service, rotated). DuckDB reads them
as lines, parses the JSON ones with its JSON functions and keeps the others as plain
text: a line that is not JSON is never dropped. Lines without a time of their own (a
traceback's continuation, a plain-text log) take the time of the line before them.
"""
from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from ..errors import ObserveError, UsageError

LEVELS = ("debug", "info", "warning", "error", "critical")
COLUMNS = ["time", "service", "replica", "level", "logger", "message", "request_id", "method", "path", "status",
           "duration_ms", "exc", "is_json", "line", "file"]

# A timestamp at the start of a plain line (PostgreSQL, supervisord) or a logfmt ts= field.
_PLAIN_TIME = r"^(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:\.\d+)?)"
_LOGFMT_TIME = r"ts=(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?)"
_LOGFMT_LEVEL = r"level=(\w+)"

_SQL = f"""
WITH raw AS (
  SELECT line, filename AS file, row_number() OVER () AS n
  FROM read_csv($files, columns={{'line': 'VARCHAR'}}, delim='\\x01', quote='', escape='', header=false,
                auto_detect=false, filename=true, strict_mode=false, null_padding=true)
  WHERE line IS NOT NULL AND line <> ''
), parsed AS (
  SELECT
    file, n, line,
    json_valid(line) AS is_json,
    CASE WHEN json_valid(line) THEN line::JSON END AS j
  FROM raw
), fields AS (
  SELECT
    file, n, line, is_json,
    COALESCE(
      TRY_CAST(j->>'time' AS TIMESTAMPTZ),
      TRY_CAST(j->>'StartUTC' AS TIMESTAMPTZ),
      TRY_CAST(NULLIF(regexp_extract(line, '{_PLAIN_TIME}', 1), '') AS TIMESTAMPTZ),
      TRY_CAST(NULLIF(regexp_extract(line, '{_LOGFMT_TIME}', 1), '') AS TIMESTAMPTZ)
    ) AS own_time,
    lower(COALESCE(j->>'level', NULLIF(regexp_extract(line, '{_LOGFMT_LEVEL}', 1), ''),
      CASE WHEN regexp_matches(line, '(?i)\\b(ERROR|FATAL|PANIC|Traceback)\\b') THEN 'error'
           WHEN regexp_matches(line, '(?i)\\bWARN(ING)?\\b') THEN 'warning' END)) AS level,
    j->>'logger' AS logger,
    COALESCE(j->>'message', j->>'msg', CASE WHEN j IS NULL THEN line END) AS message,
    j->>'replica' AS replica,
    j->>'request_id' AS request_id,
    COALESCE(j->>'method', j->>'RequestMethod') AS method,
    COALESCE(j->>'path', j->>'RequestPath') AS path,
    TRY_CAST(COALESCE(j->>'status', j->>'DownstreamStatus') AS INTEGER) AS status,
    COALESCE(TRY_CAST(j->>'duration_ms' AS DOUBLE), TRY_CAST(j->>'Duration' AS DOUBLE) / 1e6) AS duration_ms,
    COALESCE(j->>'exception', j->>'exc') AS exc
  FROM parsed
), timed AS (
  SELECT *,
    COALESCE(own_time, last_value(own_time IGNORE NULLS) OVER (PARTITION BY file ORDER BY n
             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)) AS time
  FROM fields
)
SELECT time, regexp_extract(file, '([^/]+?)\\.log(\\.\\d+)?$', 1) AS service, replica, level, logger, message,
       request_id, method, path, status, duration_ms, exc, is_json, line, file
FROM timed
"""


class Logs:
    """Log search over a backend's captured log files."""

    def __init__(self, files: dict[str, list[Path]] | None = None, *, backend=None) -> None:
        if files is None and backend is None:
            raise UsageError("Logs needs the log files or a backend")
        self._files = files
        self._backend = backend

    def files(self) -> dict[str, list[Path]]:
        return self._files if self._files is not None else self._backend.log_files()

    def search(self, *, service: str | list[str] | None = None, replica: str | None = None,
               level: str | None = None, text: str | None = None, since: float | datetime | str | None = None,
               until: float | datetime | str | None = None, minutes: float | None = 15,
               limit: int | None = 10_000) -> pd.DataFrame:
        """Lines matching every filter given, newest last.

        service: a service name (app1, traefik, postgres, ...) or a list; replica: lines from
        that replica (its own file, or JSON lines naming it); level: that level or worse;
        text: case-insensitive substring of the whole line; since/until or the last `minutes`.
        """
        wanted = self.files()
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
        where, params = [], {"files": paths}
        end = _epoch(until) if until is not None else None
        start = _epoch(since) if since is not None else (
            (end or time.time()) - minutes * 60 if minutes is not None else None)
        if start is not None:
            where.append("(time IS NULL OR time >= to_timestamp($start))")
            params["start"] = start
        if end is not None:
            where.append("(time IS NULL OR time <= to_timestamp($end))")
            params["end"] = end
        if replica:
            where.append("(replica = $replica OR service = $replica)")
            params["replica"] = replica
        if level:
            level = level.lower()
            if level not in LEVELS:
                raise UsageError(f"level must be one of {', '.join(LEVELS)}, got {level!r}", field="level", value=level)
            where.append("list_position($levels, level) IS NOT NULL")
            params["levels"] = list(LEVELS[LEVELS.index(level):])
        if text:
            where.append("contains(lower(line), lower($text))")
            params["text"] = text
        sql = f"SELECT * FROM ({_SQL})" + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY time, file"
        if limit:
            sql = f"SELECT * FROM ({sql}) ORDER BY time DESC NULLS LAST LIMIT {int(limit)}"
            sql = f"SELECT * FROM ({sql}) ORDER BY time"
        try:
            with duckdb.connect() as con:
                df = con.execute(sql, params).df()
        except duckdb.Error as e:
            raise ObserveError(f"log search failed: {e}", source="logs") from e
        df["replica"] = df["replica"].fillna(df["service"].where(df["service"].str.match(r"^app\d+$")))
        return df[COLUMNS]

    def counts(self, *, by: tuple[str, ...] = ("service", "level"), **filters) -> pd.DataFrame:
        """How many lines per group (e.g. errors by replica and message)."""
        df = self.search(limit=None, **filters)
        if df.empty:
            return pd.DataFrame(columns=[*by, "lines"])
        return df.groupby(list(by), dropna=False).size().reset_index(name="lines").sort_values(
            "lines", ascending=False, ignore_index=True)


def _epoch(value: float | datetime | str) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, str):
        return pd.Timestamp(value).timestamp()
    return float(value)
