"""docker-compose.yml: every service's log is limited, every published port moves by a variable that
chaoslib/config.py reads too, and the pins carry where they were read."""
from __future__ import annotations

import json
import os
import re
import subprocess

from chaoslib import config

from .compose import COMPOSE_FILE, REPO, compose, compose_binary, default_of, services

#: `${CHAOS_BIND:-127.0.0.1}:${VARIABLE:-host port}:container port`
PORT = re.compile(r"\$\{CHAOS_BIND:-127\.0\.0\.1\}:\$\{(?P<var>CHAOS_[A-Z_]+_PORT):-(?P<host>\d+)\}:(?P<container>\d+)")


def test_every_service_logs_to_a_rotated_json_file_through_one_anchor():
    """json-file with max-size and max-file on every service, all from the x-logging anchor."""
    anchor = compose()["x-logging"]
    assert anchor["driver"] == "json-file"
    assert re.fullmatch(r"\d+m", anchor["options"]["max-size"]) and int(anchor["options"]["max-file"]) >= 1
    text = COMPOSE_FILE.read_text()
    assert "x-logging: &logging\n" in text
    for name, svc in services().items():
        assert svc.get("logging") == anchor, f"{name} has no log limit ({svc.get('logging')})"
    # Written once: every service takes the alias (directly or through x-app-image).
    assert text.count("max-size:") == 1


def test_every_published_port_moves_by_its_own_variable():
    """Each published port is `${CHAOS_BIND}:${CHAOS_<NAME>_PORT:-port}:port`, one variable per port."""
    seen: dict[str, str] = {}
    for name, svc in services().items():
        for spec in svc.get("ports", []):
            m = PORT.fullmatch(spec)
            assert m, f"{name}: {spec!r} cannot be moved by a variable"
            assert m["var"] not in seen, f"{m['var']} moves both {seen[m['var']]} and {name}"
            seen[m["var"]] = name
    assert "CHAOS_HTTP_PORT" in seen and len(seen) >= 9, seen


def test_config_reads_the_same_port_variables_as_the_compose_file():
    """chaoslib/config.py (the only reader of the environment) knows each variable and its default, so
    the docker backend looks where a port was moved."""
    in_file = {}
    for svc in services().values():
        for spec in svc.get("ports", []):
            m = PORT.fullmatch(spec)
            in_file[m["var"]] = int(m["host"])
    assert {var: port for var, port in config.DOCKER_PORTS.values()} == in_file


def test_a_moved_port_is_published_there_by_real_compose():
    """`docker compose config` with CHAOS_PROMETHEUS_PORT and CHAOS_HTTP_PORT set publishes those ports."""
    env = {**os.environ, "CHAOS_PROMETHEUS_PORT": "19090", "CHAOS_HTTP_PORT": "18000"}
    proc = subprocess.run([compose_binary(), "-f", str(COMPOSE_FILE), "config", "--format", "json"],
                          capture_output=True, text=True, timeout=120, cwd=REPO, env=env)
    assert proc.returncode == 0, proc.stderr
    svcs = json.loads(proc.stdout)["services"]
    assert {"target": 9090, "published": "19090"}.items() <= svcs["prometheus"]["ports"][0].items()
    assert {"target": 80, "published": "18000"}.items() <= svcs["traefik"]["ports"][0].items()


def test_each_pin_says_where_it_was_read():
    """The header lists every image's pinned release with the place it was read (issue #25)."""
    header = COMPOSE_FILE.read_text().split("\nname: ")[0]
    for name, svc in services().items():
        if "build" in svc:
            continue  # the project's own images
        image = default_of(svc["image"])
        tag = image.rpartition(":")[2]
        assert re.search(rf"\s{re.escape(tag)}\s", header), f"{name}: {image} is not in the pins' list"
