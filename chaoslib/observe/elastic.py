"""Container logs from Elasticsearch (the Docker stack's Filebeat index), as JSON lines again.

Under Docker, Filebeat ships every container's lines into `filebeat-*`, decoding the app's
JSON under `json.*` and lifting its message and level to `message` and `log.level` (see
stack/filebeat/filebeat.yml). This module turns those documents back into the lines the
app wrote, so the log search engine reads them exactly as it reads the native files.

It talks to Elasticsearch through the official client (`elasticsearch` 8.x, the server's
major version). A window of logs is read NEWEST first (sort by `@timestamp` descending, pages
chained with `search_after`) up to a cap, then put back in time order: a busy hour has more
lines than one search returns, and the cap must drop the oldest lines, never the last minutes.
"""
from __future__ import annotations

import json
import logging
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError

from chaoslib.errors import ObserveError

__all__ = ["INDEX", "CONTAINER_FIELD", "PAGE", "reachable", "as_line", "container_lines"]

INDEX = "filebeat-*"
#: Filebeat's add_docker_metadata field naming the container (= the replica under Docker).
CONTAINER_FIELD = "container.name"
#: Hits asked for per request (Elasticsearch refuses more than 10,000 in one window).
PAGE = 5_000
#: Newest first; `log.offset` (the line's byte offset in its json-file log) breaks ties between
#: lines of one container logged in the same millisecond, so search_after never skips one.
SORT = [{"@timestamp": {"order": "desc"}}, {"log.offset": {"order": "desc", "unmapped_type": "long"}}]
#: Only what `as_line` reads: Filebeat documents carry kilobytes of Docker and host metadata.
SOURCE = ["@timestamp", "message", "json", "log.level"]


def client(url: str, *, timeout: float) -> Elasticsearch:
    """A client for the Elasticsearch at `url` that fails fast (no retries: callers fall back).

    The transport's own log lines (a request each, a warning per unreachable node) are silenced:
    without Elasticsearch the callers read the engine's logs instead, and a player's notebook
    should not fill with them."""
    logging.getLogger("elastic_transport").setLevel(logging.ERROR)
    return Elasticsearch(url, request_timeout=timeout, max_retries=0, retry_on_timeout=False)


def reachable(url: str, *, timeout: float = 1.0) -> bool:
    """True when an Elasticsearch answers at `url` and has a Filebeat index to read."""
    try:
        with client(url, timeout=timeout) as es:
            return int(es.count(index=INDEX)["count"]) > 0
    except (ApiError, TransportError, KeyError, TypeError, ValueError):
        return False


def as_line(source: dict) -> str:
    """One Filebeat document back as the line its container wrote (JSON for the app)."""
    decoded = source.get("json")
    if not isinstance(decoded, dict) or not decoded:
        return str(source.get("message", ""))
    line = dict(decoded)
    if "message" in source:
        line["message"] = source["message"]
    level = (source.get("log") or {}).get("level")
    if level:
        line["level"] = level
    return json.dumps(line)


def window_query(container: str, minutes: float) -> dict[str, Any]:
    """The filter for one container's lines of the last `minutes` (exact field names Filebeat writes)."""
    return {"bool": {"filter": [{"term": {CONTAINER_FIELD: container}},
                                {"range": {"@timestamp": {"gte": f"now-{int(minutes * 60)}s"}}}]}}


def container_lines(url: str, *, container: str, minutes: float = 60, size: int = 10_000,
                    timeout: float = 10.0) -> list[str]:
    """The newest `size` lines of one container over the last `minutes`, oldest first."""
    hits: list[dict] = []
    after: list | None = None
    try:
        with client(url, timeout=timeout) as es:
            while len(hits) < size:
                want = min(PAGE, size - len(hits))
                page = es.search(index=INDEX, query=window_query(container, minutes), sort=SORT, size=want,
                                 # _source as a list of fields: Elasticsearch takes it; the client's hints
                                 # say only bool or mapping
                                 source=SOURCE,  # type: ignore[arg-type]
                                 search_after=after, track_total_hits=False)["hits"]["hits"]
                hits.extend(page)
                if len(page) < want:
                    break
                after = page[-1]["sort"]
    except (ApiError, TransportError, KeyError, TypeError) as e:
        raise ObserveError(f"Elasticsearch at {url} could not be searched: {e}", source="elasticsearch",
                           query=f"{CONTAINER_FIELD}:{container}",
                           hint="is the elasticsearch service healthy? `docker compose ps`") from e
    return [as_line(h.get("_source", {})) for h in reversed(hits)]
