"""Container logs from Elasticsearch (the Docker stack's Filebeat index), as JSON lines again.

Under Docker, Filebeat ships every container's lines into `filebeat-*`, decoding the app's
JSON under `json.*` and lifting its message and level to `message` and `log.level` (see
stack/filebeat/filebeat.yml). This module turns those documents back into the lines the
app wrote, so the log search engine reads them exactly as it reads the native files.
"""
from __future__ import annotations

import json

import requests

from ..errors import ObserveError

INDEX = "filebeat-*"


def reachable(url: str, *, timeout: float = 1.0) -> bool:
    """True when an Elasticsearch answers at `url` and has a Filebeat index to read."""
    try:
        resp = requests.get(f"{url.rstrip('/')}/{INDEX}/_count", timeout=timeout)
        return resp.ok and resp.json().get("count", 0) > 0
    except (requests.RequestException, ValueError):
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


def container_lines(url: str, *, container: str, minutes: float = 60, size: int = 10_000,
                    timeout: float = 10.0) -> list[str]:
    """The last `minutes` of one container's lines, oldest first (at most `size`)."""
    body = {"size": size, "sort": [{"@timestamp": {"order": "asc"}}],
            "query": {"bool": {"filter": [{"term": {"container.name": container}},
                                          {"range": {"@timestamp": {"gte": f"now-{int(minutes * 60)}s"}}}]}}}
    try:
        resp = requests.post(f"{url.rstrip('/')}/{INDEX}/_search", json=body, timeout=timeout)
        resp.raise_for_status()
        hits = resp.json()["hits"]["hits"]
    except (requests.RequestException, ValueError, KeyError) as e:
        raise ObserveError(f"Elasticsearch at {url} could not be searched: {e}", source="elasticsearch",
                           hint="is the elasticsearch service healthy? `docker compose ps`") from e
    return [as_line(h.get("_source", {})) for h in hits]
