"""Health probes for the native services: small, with short timeouts, never raising."""
from __future__ import annotations

import socket
import urllib.error
import urllib.request


def http_ok(url: str, *, timeout: float = 1.5, contains: str | None = None) -> tuple[bool, str]:
    """GET `url`; healthy on a 2xx (and `contains` in the body, if given)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            body = resp.read(1 << 20).decode("utf-8", "replace")
            if contains is not None and contains not in body:
                return False, f"{url}: '{contains}' not in the answer"
            return True, f"{url}: {resp.status}"
    except urllib.error.HTTPError as e:
        return False, f"{url}: HTTP {e.code}"
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        return False, f"{url}: {reason}"


def tcp_ok(host: str, port: int, *, timeout: float = 1.0) -> tuple[bool, str]:
    """Can a TCP connection be opened?"""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True, f"{host}:{port} accepts connections"
    except OSError as e:
        return False, f"{host}:{port}: {e.strerror or e}"


def port_in_use(host: str, port: int) -> bool:
    """True when something already listens on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False
