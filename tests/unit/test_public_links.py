"""Links work where the player is: one setting (CHAOS_PUBLIC_URL, or the workspace's own variables) moves them all.

One test per workspace kind (none, CHAOS_PUBLIC_URL, Codespaces, Gitpod, DevPod) checks every link a player
sees: the notebooks' (Game.observe.links), `chaosctl status`, Prometheus's and Alertmanager's external URL
(natively and under Docker: the alerts' generatorURL, the pages' externalURL, Slack's title link) and the
Grafana base of the alerts' dashboard_url.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
import yaml

from chaoslib import config, dockerconf
from chaoslib.backends.base import ServiceStatus
from chaoslib.backends.base.logs import LogSource
from chaoslib.cli import main as cli
from chaoslib.game import Game
from chaoslib.native.programs import programs
from chaoslib.observe import alerts
from chaoslib.render import render
from chaoslib.stack import Stack

#: Every variable the workspace kinds read or set, cleared before each test.
VARIABLES = ("CHAOS_PUBLIC_URL", "CODESPACES", "CODESPACE_NAME", "GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN",
             "GITPOD_WORKSPACE_URL", "DEVPOD", "DEVPOD_WORKSPACE_ID", "CHAOS_HOST", "CHAOS_HTTP_PORT",
             "CHAOSCTL_GRAFANA_URL", "CHAOSCTL_PROMETHEUS_URL", "CHAOSCTL_ALERTMANAGER_URL", "CHAOSCTL_KIBANA_URL",
             "CHAOSCTL_APP_URL", "CHAOSCTL_PAGER_URL", "CHAOSCTL_LOCUST_URL")
CODESPACE = "octocat-literate-space-parakeet-mld5"
GITPOD = "https://chaoscontrol-abc123.ws-eu114.gitpod.io"


@dataclass(frozen=True)
class Kind:
    """A workspace: its variables, the kind config.workspace() names, and where port `port` opens."""

    env: dict[str, str]
    name: str
    form: str | None  # `{port}` to fill; None: the address this machine uses (127.0.0.1, 127.0.2.x)

    def url(self, port: int, local: str) -> str:
        return local if self.form is None else self.form.format(port=port)


KINDS = {
    "none": Kind({}, "local", None),
    "CHAOS_PUBLIC_URL": Kind({"CHAOS_PUBLIC_URL": "https://{port}-myws.example.dev/"}, "CHAOS_PUBLIC_URL",
                             "https://{port}-myws.example.dev"),
    "codespaces": Kind({"CODESPACES": "true", "CODESPACE_NAME": CODESPACE,
                        "GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN": "app.github.dev"},
                       "codespaces", f"https://{CODESPACE}-{{port}}.app.github.dev"),
    "gitpod": Kind({"GITPOD_WORKSPACE_URL": GITPOD}, "gitpod", "https://{port}-chaoscontrol-abc123.ws-eu114.gitpod.io"),
    # DevPod forwards each port to the laptop's localhost: whatever it sets, 127.0.0.1 stays right.
    "devpod": Kind({"DEVPOD": "true", "DEVPOD_WORKSPACE_ID": "chaos-control"}, "local", None),
}


@pytest.fixture(params=list(KINDS))
def kind(request, monkeypatch) -> Kind:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    chosen = KINDS[request.param]
    for name, value in chosen.env.items():
        monkeypatch.setenv(name, value)
    return chosen


@pytest.fixture
def clean(monkeypatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_the_workspace_is_named(kind):
    assert config.workspace()[0] == kind.name


def test_notebook_links_open_the_forwarded_ports(kind, memory_stack, monkeypatch):
    """Game.observe.links(): Grafana, Kibana, Prometheus and Alertmanager at the forwarded port, paths kept."""
    docker = Stack("docker").backend.endpoints()
    monkeypatch.setattr(memory_stack.backend, "endpoints", lambda: docker)
    monkeypatch.setattr(memory_stack.backend, "log_source", lambda: LogSource("elasticsearch", "logs from ES"))
    found = {link.label.split(":")[0]: link.url for link in Game(memory_stack).observe.links()}
    assert set(found) == {"Grafana", "Kibana", "Prometheus", "Alertmanager"}
    for label, port, path in (("Grafana", 3000, "/d/golden-signals/golden-signals"),
                              ("Kibana", 5601, "/app/discover"), ("Prometheus", 9090, "/alerts"),
                              ("Alertmanager", 9093, "/")):
        parts = urlsplit(found[label])
        assert f"{parts.scheme}://{parts.netloc}" == kind.url(port, f"http://127.0.0.1:{port}"), found[label]
        assert parts.path == path
    assert found["Alertmanager"].endswith("/#/alerts")


def test_chaosctl_status_shows_the_links(kind, monkeypatch, capsys):
    """`chaosctl status` ends with the links, `--json` carries them; the table keeps the stack's own addresses."""
    class Native:  # the native stack's endpoints, without reading a state directory (unprivileged runs)
        @staticmethod
        def endpoints():
            return {"app": config.TRAEFIK.url, "prometheus": config.PROMETHEUS.url,
                    "alertmanager": config.ALERTMANAGER.url, "pager": config.PAGER.url,
                    "postgres": "postgres://127.0.2.1:5432", "saturation_exporter": config.SATURATION_EXPORTER.url}

    class Running:
        backend = Native()

        def status(self):
            return [ServiceStatus(name="prometheus", kind="monitoring", state="RUNNING", address="127.0.2.3:9090",
                                  pid=1, uptime_s=1.0, restarts=0, healthy=True)]

    monkeypatch.setattr(cli, "stack_of", lambda args: Running())
    assert cli.main(["status", "--json"]) == 0
    links = json.loads(capsys.readouterr().out)["links"]
    assert links["prometheus"] == kind.url(9090, "http://127.0.2.3:9090")
    assert links["alertmanager"] == kind.url(9093, "http://127.0.2.4:9093")
    assert set(links) == {"app", "prometheus", "alertmanager", "pager"}  # the native stack's browser pages
    assert cli.main(["status"]) == 0
    out = capsys.readouterr().out
    assert "127.0.2.3:9090" in out.splitlines()[1]
    assert out.splitlines()[-1] == (f"open ({kind.name}): " + "  ".join(f"{n} {u}" for n, u in links.items()))


def test_native_prometheus_and_alertmanager_know_their_outside_address(kind, tmp_path):
    """--web.external-url (the alerts' generatorURL and the pages' externalURL), served at / all the same."""
    argv = {p.name: p.argv for p in programs(config.Settings(state_dir=tmp_path), secret_key="k")}
    for name, port, local in (("prometheus", 9090, config.PROMETHEUS.url),
                              ("alertmanager", 9093, config.ALERTMANAGER.url)):
        assert f"--web.external-url={kind.url(port, local)}" in argv[name]
        assert "--web.route-prefix=/" in argv[name]


def test_docker_prometheus_and_alertmanager_know_their_outside_address(kind):
    """The compose variables chaosctl and `make docker-up` set are the ones docker-compose.yml reads."""
    urls = dockerconf.external_urls()
    assert urls == {"CHAOS_PROMETHEUS_EXTERNAL_URL": kind.url(9090, "http://127.0.0.1:9090"),
                    "CHAOS_ALERTMANAGER_EXTERNAL_URL": kind.url(9093, "http://127.0.0.1:9093")}
    services = yaml.safe_load((config.REPO_ROOT / "docker-compose.yml").read_text())["services"]
    for service, variable in (("prometheus", "CHAOS_PROMETHEUS_EXTERNAL_URL"),
                              ("alertmanager", "CHAOS_ALERTMANAGER_EXTERNAL_URL")):
        flags = [f for f in services[service]["command"] if f.startswith("--web.external-url=")]
        assert flags and flags[0].startswith(f"--web.external-url=${{{variable}:-"), flags
        assert "--web.route-prefix=/" in services[service]["command"]
    # The one-shot that renders the configs inside the stack sees the same workspace.
    passed = services["config"]["environment"]
    assert {"CHAOS_PUBLIC_URL", "CODESPACE_NAME", "GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN",
            "GITPOD_WORKSPACE_URL"} <= set(passed)


def test_the_alerts_dashboard_links_open_the_forwarded_grafana(kind):
    """The Grafana base of dashboard_url (shown in Slack, Discord and the pager) is the forwarded port's."""
    assert config.grafana_public_url() == kind.url(3000, "http://127.0.0.1:3000")


def test_the_pagers_page_carries_prometheus_link(clean, monkeypatch):
    """pages() keeps each alert's generatorURL: Prometheus's graph at its external URL."""
    source = "https://x-9090.app.github.dev/graph?g0.expr=up"
    payload = {"alerts": [{"status": "firing", "labels": {"alertname": "A"}, "annotations": {},
                           "startsAt": "2026-12-06T10:00:00Z", "generatorURL": source}]}
    monkeypatch.setattr(alerts, "_get", lambda url, what: [{"channel": "pages", "received_at": 1.0,
                                                            "payload": payload}])
    assert list(alerts.pages("http://pager")["generator_url"]) == [source]


@pytest.mark.parametrize(("value", "expected"), [
    ("http://myvm.lan", "http://myvm.lan:3000"),               # a base URL: the port appended
    ("https://host.example/proxy/{port}/", "https://host.example/proxy/3000"),  # code-server's proxy
    ("https://host.example/{name}", "https://host.example/grafana"),           # a path per service
])
def test_chaos_public_url_forms(clean, monkeypatch, value, expected):
    monkeypatch.setenv("CHAOS_PUBLIC_URL", value)
    assert config.public_url("grafana", "http://127.0.0.1:3000/") == expected


def test_chaos_public_url_wins_and_other_schemes_stay(clean, monkeypatch):
    """CHAOS_PUBLIC_URL over the workspace's own variables; a postgres:// address is never a browser link."""
    monkeypatch.setenv("CODESPACE_NAME", CODESPACE)
    monkeypatch.setenv("GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN", "app.github.dev")
    monkeypatch.setenv("CHAOS_PUBLIC_URL", "https://{port}-mine.example")
    assert config.workspace()[0] == "CHAOS_PUBLIC_URL"
    assert config.public_url("prometheus", "http://127.0.2.3:9090") == "https://9090-mine.example"
    assert config.public_url("postgres", "postgres://127.0.2.1:5432") == "postgres://127.0.2.1:5432"


def test_the_rendered_prometheus_config_carries_the_outside_grafana(clean, monkeypatch):
    """Control through the render: the alerts' dashboard base under Codespaces, as Prometheus reads it."""
    monkeypatch.setenv("CODESPACE_NAME", CODESPACE)
    monkeypatch.setenv("GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN", "app.github.dev")
    text = render("stack/prometheus/prometheus.yml.j2", **dockerconf.prometheus_context())
    labels = yaml.safe_load(text)["global"]["external_labels"]
    assert labels["grafana"] == f"https://{CODESPACE}-3000.app.github.dev"
