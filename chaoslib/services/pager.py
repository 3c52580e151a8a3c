"""The pager: a local Alertmanager webhook receiver the notebooks read.

Alertmanager posts its webhook payload (version 4) here; every notification is appended,
as received, to a JSON-lines file, so the notebooks see exactly what a player's phone would.
`GET /pages` returns them; `GET /healthz` and `GET /metrics` serve the stack.
"""
from __future__ import annotations

import argparse
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MAX_BODY = 1 << 20


class PagerStore:
    """An append-only file of received notifications."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "pages.jsonl"
        self.lock = threading.Lock()
        self.received = 0

    def append(self, channel: str, payload: dict) -> None:
        record = {"received_at": time.time(), "channel": channel, "payload": payload}
        line = json.dumps(record, sort_keys=True) + "\n"
        with self.lock:
            with open(self.path, "a") as f:
                f.write(line)
                f.flush()
                os.fsync(f.fileno())
            self.received += 1

    def read(self) -> list[dict]:
        try:
            lines = self.path.read_text().splitlines()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in lines if line.strip()]


def make_handler(store: PagerStore):
    class Handler(BaseHTTPRequestHandler):
        def _send(self, code: int, body: bytes, ctype: str = "application/json") -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:  # noqa: N802
            channel = self.path.strip("/") or "pages"
            length = int(self.headers.get("Content-Length") or 0)
            if length <= 0 or length > MAX_BODY:
                return self._send(400, b'{"error": "body missing or too large"}')
            try:
                payload = json.loads(self.rfile.read(length))
            except ValueError:
                return self._send(400, b'{"error": "body is not JSON"}')
            store.append(channel, payload)
            self._send(200, b'{"status": "ok"}')

        def do_GET(self) -> None:  # noqa: N802
            if self.path == "/healthz":
                return self._send(200, b'{"status": "ok"}')
            if self.path.startswith("/pages"):
                return self._send(200, json.dumps(store.read()).encode())
            if self.path == "/metrics":
                body = ("# HELP pager_notifications_received_total Notifications received.\n"
                        "# TYPE pager_notifications_received_total counter\n"
                        f"pager_notifications_received_total {store.received}\n").encode()
                return self._send(200, body, "text/plain; version=0.0.4")
            self._send(404, b'{"error": "not found"}')

        def log_message(self, fmt: str, *args) -> None:
            print(json.dumps({"time": time.time(), "level": "info", "logger": "pager",
                              "message": fmt % args}), flush=True)

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(prog="chaoslib.services.pager")
    parser.add_argument("--bind", required=True)
    parser.add_argument("--store", required=True)
    args = parser.parse_args()
    host, port = args.bind.rsplit(":", 1)
    server = ThreadingHTTPServer((host, int(port)), make_handler(PagerStore(Path(args.store))))
    server.serve_forever()


if __name__ == "__main__":
    main()
