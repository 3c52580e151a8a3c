"""The Docker Compose stack's fixed topology, and its Prometheus and Alertmanager configs.

docker-compose.yml pins the app replicas to fixed addresses on its own network, so that
Traefik's per-server series (`traefik_service_server_up{url="http://IP:8000"}`) map back to
a replica exactly as they do natively. The configs are rendered from the same templates as
the native ones by the compose file's one-shot `config` service (`python -m chaoslib.dockerconf
--out /data` in the app image, into the `chaos-config` volume that Prometheus and Alertmanager
mount) on every `up`, so a fresh clone needs no step on the host. alertmanager.yml carries
SLACK_WEBHOOK_URL and DISCORD_WEBHOOK_URL when set, so rendered files are never committed:
`make docker-config` renders into the gitignored stack/generated/ only to read or check them.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path

from chaoslib import config
from chaoslib.config import APP_PORT, REPO_ROOT
from chaoslib.render import alertmanager_context as render_alertmanager_context
from chaoslib.render import render_to

#: The compose network (its explicit name) and subnet.
NETWORK = "chaos-control"
SUBNET = "172.29.0.0/24"
#: The app replicas of docker-compose.yml (services and container names alike).
REPLICAS = ("app1", "app2", "app3")
#: Where the rendered configs go, and where the containers see the rules.
GENERATED_DIR = REPO_ROOT / "stack" / "generated"
RULES_DIR_IN_CONTAINER = "/etc/prometheus/rules"
PAGER_URL = "http://pager:9099"


def replica_ip(index: int) -> str:
    """The fixed address of replica number `index` (1-based): 172.29.0.11, .12, ..."""
    return f"172.29.0.{10 + index}"


def replicas() -> list[dict[str, str]]:
    """Template values for the replicas: name (the scrape target's host) and fixed address."""
    return [{"name": name, "address": f"{replica_ip(i)}:{APP_PORT}"} for i, name in enumerate(REPLICAS, start=1)]


def prometheus_context(rules_dir: str = RULES_DIR_IN_CONTAINER) -> dict:
    """Template values for prometheus.yml.j2 under Docker (targets are compose service names)."""
    return {"backend": "docker", "replicas": replicas(), "rules_dir": rules_dir}


def alertmanager_context(env: Mapping[str, str] | None = None) -> dict:
    """Template values for alertmanager.yml.j2 under Docker: the pager service by its compose name."""
    return render_alertmanager_context(PAGER_URL, env)


def render_configs(out_dir: Path = GENERATED_DIR, *, rules_dir: str = RULES_DIR_IN_CONTAINER,
                   env: Mapping[str, str] | None = None) -> list[Path]:
    """Render prometheus.yml and alertmanager.yml for the compose stack into `out_dir`."""
    return [
        render_to("stack/prometheus/prometheus.yml.j2", out_dir / "prometheus.yml", **prometheus_context(rules_dir)),
        render_to("stack/alertmanager/alertmanager.yml.j2", out_dir / "alertmanager.yml", **alertmanager_context(env)),
    ]


def external_urls(endpoints: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables docker-compose.yml gives Prometheus and Alertmanager as --web.external-url: where the
    player's browser opens them (config.public_url of the published port), so the alerts' links lead there.

    `endpoints` are the services as this machine reaches them (the docker backend's); by default the
    ports compose publishes on CHAOS_HOST.
    """
    urls = endpoints or {name: f"http://{config.published_host()}:{config.published_port(name)}"
                         for name in ("prometheus", "alertmanager")}
    return {f"CHAOS_{name.upper()}_EXTERNAL_URL": config.public_url(name, urls[name])
            for name in ("prometheus", "alertmanager")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chaoslib.dockerconf",
                                     description="Render the Docker stack's Prometheus and Alertmanager configs.")
    parser.add_argument("--out", type=Path, default=GENERATED_DIR, help="output directory (default stack/generated)")
    parser.add_argument("--env", action="store_true",
                        help="print NAME=VALUE lines for `docker compose` instead (the external URLs)")
    args = parser.parse_args(argv)
    if args.env:
        print("\n".join(f"{name}={value}" for name, value in external_urls().items()))
        return 0
    for path in render_configs(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
