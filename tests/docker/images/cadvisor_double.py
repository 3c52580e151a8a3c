"""A test double for cAdvisor, which cannot be built or pulled on the test machine.

It publishes, for every running container of the engine, the series the game's rules and
detective read, under cAdvisor's names and labels (`name` = the container's name, `id`,
`image`): CPU usage and CFS throttling, CPU quota and period, memory usage, working set,
limit and failcnt, OOM events, start time. Figures come from the same places cAdvisor reads:
the Engine API (names, start times, `oom` events) and the containers' cgroups (v1 or v2).
Standard library only; cAdvisor's flags are accepted and ignored. Serves /metrics and /healthz on :8080.
"""
from __future__ import annotations

import http.client
import http.server
import json
import os
import socket
import sys
import threading
import time
import urllib.parse
from datetime import datetime
from pathlib import Path

SOCKET = "/var/run/docker.sock"
CGROUP = Path(os.environ.get("CGROUP_ROOT", "/sys/fs/cgroup"))
OOM: dict[str, int] = {}
LOCK = threading.Lock()


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, timeout: float = 10) -> None:
        super().__init__("localhost", timeout=timeout)

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(SOCKET)


def api(path: str):
    conn = UnixConnection()
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return json.loads(resp.read())
    finally:
        conn.close()


def watch_oom() -> None:
    """Count `oom` events per container name, for ever (reconnecting)."""
    filters = urllib.parse.quote(json.dumps({"type": ["container"], "event": ["oom"]}))
    while True:
        try:
            conn = UnixConnection(timeout=None)
            conn.request("GET", f"/events?filters={filters}")
            resp = conn.getresponse()
            while True:
                line = resp.readline()
                if not line:
                    break
                event = json.loads(line)
                name = event.get("Actor", {}).get("Attributes", {}).get("name")
                if name:
                    with LOCK:
                        OOM[name] = OOM.get(name, 0) + 1
        except (OSError, ValueError, http.client.HTTPException):
            pass
        time.sleep(1)


def read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
        return None if text == "max" else int(text)
    except (OSError, ValueError):
        return None


def read_kv(path: Path) -> dict[str, int]:
    out = {}
    try:
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1].lstrip("-").isdigit():
                out[parts[0]] = int(parts[1])
    except OSError:
        pass
    return out


def find(controller: str, cid: str) -> Path | None:
    base = CGROUP / controller if controller else CGROUP
    for candidate in (base / "docker" / cid, base / "system.slice" / f"docker-{cid}.scope"):
        if candidate.is_dir():
            return candidate
    return None


def figures(cid: str) -> dict[str, float]:
    """The container's cgroup figures (v1 when the memory controller has its own tree, else v2)."""
    f: dict[str, float] = {}
    if (CGROUP / "memory").is_dir():
        cpu, acct, mem = find("cpu", cid), find("cpuacct", cid), find("memory", cid)
        if acct is not None and (v := read_int(acct / "cpuacct.usage")) is not None:
            f["cpu"] = v / 1e9
        if cpu is not None:
            st = read_kv(cpu / "cpu.stat")
            f.update(periods=st.get("nr_periods", 0), throttled=st.get("nr_throttled", 0),
                     throttled_s=st.get("throttled_time", 0) / 1e9)
            quota, period = read_int(cpu / "cpu.cfs_quota_us"), read_int(cpu / "cpu.cfs_period_us")
            if quota and quota > 0 and period:
                f.update(quota=quota, period=period)
        if mem is not None:
            usage = read_int(mem / "memory.usage_in_bytes") or 0
            st = read_kv(mem / "memory.stat")
            f.update(mem=usage, wss=max(0, usage - st.get("total_inactive_file", 0)),
                     failcnt=read_int(mem / "memory.failcnt") or 0)
            limit = read_int(mem / "memory.limit_in_bytes")
            f["limit"] = limit if limit is not None and limit < 1 << 62 else 0
        return f
    d = find("", cid)
    if d is None:
        return f
    st = read_kv(d / "cpu.stat")
    f.update(cpu=st.get("usage_usec", 0) / 1e6, periods=st.get("nr_periods", 0), throttled=st.get("nr_throttled", 0),
             throttled_s=st.get("throttled_usec", 0) / 1e6)
    try:
        quota, period = (d / "cpu.max").read_text().split()
        if quota != "max":
            f.update(quota=int(quota), period=int(period))
    except (OSError, ValueError):
        pass
    usage = read_int(d / "memory.current") or 0
    f.update(mem=usage, wss=max(0, usage - read_kv(d / "memory.stat").get("inactive_file", 0)),
             limit=read_int(d / "memory.max") or 0, failcnt=read_kv(d / "memory.events").get("max", 0))
    return f


SERIES = (  # (name, type, help, key)
    ("container_cpu_usage_seconds_total", "counter", "Cumulative cpu time consumed in seconds.", "cpu"),
    ("container_cpu_cfs_periods_total", "counter", "Number of elapsed enforcement period intervals.", "periods"),
    ("container_cpu_cfs_throttled_periods_total", "counter", "Number of throttled period intervals.", "throttled"),
    ("container_cpu_cfs_throttled_seconds_total", "counter", "Total time duration the container has been throttled.",
     "throttled_s"),
    ("container_spec_cpu_quota", "gauge", "CPU quota of the container.", "quota"),
    ("container_spec_cpu_period", "gauge", "CPU period of the container.", "period"),
    ("container_memory_usage_bytes", "gauge", "Current memory usage in bytes.", "mem"),
    ("container_memory_working_set_bytes", "gauge", "Current working set in bytes.", "wss"),
    ("container_spec_memory_limit_bytes", "gauge", "Memory limit for the container.", "limit"),
    ("container_memory_failcnt", "counter", "Number of memory usage hits limits", "failcnt"),
    ("container_oom_events_total", "counter", "Count of out of memory events observed for the container", "oom"),
    ("container_start_time_seconds", "gauge", "Start time of the container since unix epoch in seconds.", "start"),
    ("container_last_seen", "gauge", "Last time a container was seen by the exporter", "seen"),
)


def started(value: str) -> float:
    try:
        return datetime.fromisoformat(value[:19] + "+00:00").timestamp()
    except ValueError:
        return 0.0


def exposition() -> str:
    rows: dict[str, list[str]] = {s[0]: [] for s in SERIES}
    now = time.time()
    for c in api("/containers/json"):
        cid, name = c["Id"], c["Names"][0].lstrip("/")
        f = figures(cid)
        if not f:
            continue
        info = api(f"/containers/{cid}/json")
        with LOCK:
            f["oom"] = OOM.get(name, 0)
        f.update(start=started(info.get("State", {}).get("StartedAt", "")), seen=now)
        labels = f'id="/docker/{cid}",image="{c.get("Image", "")}",name="{name}"'
        for metric, _kind, _help, key in SERIES:
            if key in f:
                rows[metric].append(f"{metric}{{{labels}}} {f[key]}")
    out = []
    for metric, kind, help_, _key in SERIES:
        out += [f"# HELP {metric} {help_}", f"# TYPE {metric} {kind}", *rows[metric]]
    return "\n".join(out) + "\n"


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path.startswith("/metrics"):
            try:
                body, code = exposition().encode(), 200
            except (OSError, ValueError, http.client.HTTPException) as e:
                body, code = f"engine: {e}\n".encode(), 503
        elif self.path.startswith("/healthz"):
            body, code = b"ok\n", 200
        else:
            body, code = b"not found\n", 404
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def main() -> None:
    print(f"cadvisor test double: ignoring flags {sys.argv[1:]}; serving :8080", flush=True)
    threading.Thread(target=watch_oom, daemon=True).start()
    http.server.ThreadingHTTPServer(("0.0.0.0", 8080), Handler).serve_forever()


if __name__ == "__main__":
    main()
