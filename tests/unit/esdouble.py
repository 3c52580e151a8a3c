"""A test double of Elasticsearch 8: a real HTTP server on 127.0.0.1 answering the few APIs chaoslib uses.

It is a double because Elasticsearch cannot run on this machine (no package, no image): the
Docker stack runs the real one. It speaks enough of the REST API for the official 8.x client:
`GET /` (the info document) and the `X-Elastic-Product: Elasticsearch` header the client checks
on every answer, `_count`, and `_search` evaluated over an in-memory list of documents shaped as
Filebeat writes them: `term` and `range` filters (with `now-Ns` date math), `sort` (with
`unmapped_type`), `size`, `from`, `search_after`, `_source` includes, and the 10,000-hit result
window Elasticsearch refuses to exceed in one search.
"""
from __future__ import annotations

import json
import re
import threading
import time
from datetime import datetime, timezone
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

MAX_RESULT_WINDOW = 10_000
VERSION = "8.15.3"


def iso(t: float) -> str:
    """Epoch seconds as Filebeat's @timestamp (UTC, milliseconds)."""
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(t * 1000) % 1000:03d}Z"


@cache
def epoch_ms(value: str) -> int:
    """An @timestamp back as epoch milliseconds (the sort value Elasticsearch gives a date)."""
    return round(datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp() * 1000)


def field(doc: dict, path: str):
    """A dotted field of a document (`container.name`), None when absent."""
    node = doc
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


class BadRequest(Exception):
    """What Elasticsearch answers with a 400."""


class ElasticDouble(ThreadingHTTPServer):
    """The server: documents, the double's clock ("now"), and every search body it received."""

    daemon_threads = True

    def __init__(self, docs: list[dict], *, now: float, product_header: bool = True) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.docs, self.now, self.product_header = docs, now, product_header
        self.searches: list[dict] = []
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"

    def __enter__(self) -> ElasticDouble:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()

    def date(self, value) -> int:
        """A range bound as epoch ms: `now`, `now-<n><s|m|h>`, or epoch ms."""
        if isinstance(value, (int, float)):
            return int(value)
        m = re.fullmatch(r"now(?:-(\d+)([smh]))?", str(value))
        if not m:
            raise BadRequest(f"failed to parse date field [{value}]")
        seconds = int(m.group(1) or 0) * {"s": 1, "m": 60, "h": 3600}[m.group(2) or "s"]
        return round((self.now - seconds) * 1000)

    def predicate(self, clause: dict):
        """One filter clause as a test on a document (bounds evaluated once, as for one search)."""
        (kind, spec), = clause.items()
        (name, cond), = spec.items()
        if kind == "term":
            want = cond["value"] if isinstance(cond, dict) else cond
            return lambda doc: field(doc, name) == want
        if kind == "range" and name == "@timestamp":
            ops = {"gte": lambda a, b: a >= b, "gt": lambda a, b: a > b, "lte": lambda a, b: a <= b,
                   "lt": lambda a, b: a < b}
            bounds = [(ops[op], self.date(bound)) for op, bound in cond.items()]
            return lambda doc: bool(doc.get("@timestamp")) and all(
                op(epoch_ms(doc["@timestamp"]), b) for op, b in bounds)
        raise BadRequest(f"the double does not know the query [{kind}] on [{name}]")

    def search(self, body: dict) -> dict:
        self.searches.append(body)
        size, start = int(body.get("size", 10)), int(body.get("from", 0))
        if size + start > MAX_RESULT_WINDOW:
            raise BadRequest(f"Result window is too large, from + size must be less than or equal to: "
                             f"[{MAX_RESULT_WINDOW}] but was [{size + start}]")
        filters = body.get("query", {}).get("bool", {}).get("filter", [])
        tests = [self.predicate(c) for c in filters]
        found = [d for d in self.docs if all(t(d) for t in tests)]
        keys = [(name, (spec if isinstance(spec, str) else spec.get("order", "asc")) == "desc")
                for entry in body.get("sort", []) for name, spec in
                ([(entry, "asc")] if isinstance(entry, str) else entry.items())]
        rows = [(self.sort_values(d, keys), d) for d in found]
        for i, (_name, desc) in reversed(list(enumerate(keys))):
            rows.sort(key=lambda r: r[0][i], reverse=desc)
        if "search_after" in body:
            after = body["search_after"]
            rows = [r for r in rows if self.beyond(r[0], after, [desc for _, desc in keys])]
        page = rows[start:start + size]
        return {"took": 1, "timed_out": False, "hits": {"max_score": None, "hits": [
            {"_index": "filebeat-8.15.3", "_id": str(id(d)), "_score": None, "sort": values,
             "_source": self.source(d, body.get("_source"))} for values, d in page]}}

    @staticmethod
    def sort_values(doc: dict, keys: list) -> list:
        value = [field(doc, name) for name, _ in keys]
        return [epoch_ms(v) if name == "@timestamp" else (v if v is not None else 0)
                for (name, _), v in zip(keys, value, strict=True)]

    @staticmethod
    def beyond(values: list, after: list, desc: list[bool]) -> bool:
        """Whether a hit sorts strictly after the `search_after` values."""
        for v, a, d in zip(values, after, desc, strict=False):
            if v != a:
                return v < a if d else v > a
        return False

    @staticmethod
    def source(doc: dict, includes) -> dict:
        if not includes:
            return doc
        out: dict = {}
        for path in [includes] if isinstance(includes, str) else includes:
            value = field(doc, path)
            if value is None:
                continue
            node = out
            *parents, last = path.split(".")
            for part in parents:
                node = node.setdefault(part, {})
            node[last] = value
        return out


class Handler(BaseHTTPRequestHandler):
    """HTTP for the double: routes by path, answers JSON with the product header."""

    server: ElasticDouble

    def send(self, body: dict, code: int = 200) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        if self.server.product_header:
            self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def route(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else {}
        path = unquote(urlsplit(self.path).path)
        try:
            if path == "/":
                self.send({"name": "double", "cluster_name": "chaos", "tagline": "You Know, for Search",
                           "version": {"number": VERSION, "build_flavor": "default"}})
            elif path == "/filebeat-*/_count":
                self.send({"count": len(self.server.docs)})
            elif path == "/filebeat-*/_search":
                self.send(self.server.search(body))
            else:
                self.send({"error": {"type": "index_not_found_exception", "reason": path}, "status": 404}, 404)
        except BadRequest as e:
            cause = {"type": "illegal_argument_exception", "reason": str(e)}
            self.send({"error": {"root_cause": [cause], **cause}, "status": 400}, 400)

    do_GET = do_POST = do_HEAD = route

    def log_message(self, *args) -> None:
        pass


def app_line(i: int, t: float, *, replica: str = "app1") -> dict:
    """One access-log line of the app as Filebeat indexes it (decoded under json.*, metadata beside)."""
    return {"@timestamp": iso(t), "container": {"name": replica, "id": f"{replica}-id"},
            "log": {"level": "INFO", "offset": i * 120, "file": {"path": f"/var/lib/docker/containers/{replica}"}},
            "message": f"GET /polls/ 200 #{i}", "stream": "stderr", "agent": {"version": VERSION},
            "json": {"time": iso(t), "logger": "pollapp.access", "replica": replica, "seq": i, "status": 200}}


def now() -> float:
    """The double's clock, pinned by a test at a whole millisecond."""
    return round(time.time(), 3)
