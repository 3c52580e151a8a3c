"""Alerts an on-call engineer can act on: four annotations each, a runbook per alert written for the
symptom, links rendered from config, and a replica's tickets inhibited while a page about it fires."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from chaoslib import config, dockerconf
from chaoslib.config import REPO_ROOT
from chaoslib.faults import FAMILIES, SCENARIOS
from chaoslib.render import render

from .tooling import run, tool

RULES = yaml.safe_load((REPO_ROOT / "stack/prometheus/rules/alerts.yml").read_text())
ALERTS = {r["alert"]: r for g in RULES["groups"] for r in g["rules"] if "alert" in r}
RUNBOOKS = REPO_ROOT / "docs" / "runbooks"
BOARDS = {p.stem for p in (REPO_ROOT / "grafana" / "dashboards").glob("*.json")}


def test_every_alert_has_the_four_annotations():
    for name, rule in ALERTS.items():
        ann = rule.get("annotations", {})
        assert {"summary", "description", "runbook_url", "dashboard_url"} <= set(ann), name
        assert ann["runbook_url"] == f"{{{{ $externalLabels.runbooks }}}}/{name}.md", name
        url = ann["dashboard_url"]
        board = re.fullmatch(r"\{\{ \$externalLabels\.grafana \}\}/d/([\w-]+)/[\w-]+\?from=.*&to=.*", url)
        assert board and board[1] in BOARDS, (name, url)
        assert 'query "(time() - ' in url and 'query "(time() + ' in url, name  # around the alert's time


def _words(name: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[A-Z][a-z]+|[A-Z]+(?![a-z])", name)}


@pytest.mark.parametrize("name", sorted(ALERTS))
def test_runbook_exists_and_never_names_the_hidden_fault(name):
    """docs/runbooks/NAME.md exists and names no scenario, and no family unless the symptom's own name does."""
    path = RUNBOOKS / f"{name}.md"
    assert path.is_file(), path
    text = path.read_text().lower()
    assert text.startswith(f"# {name.lower()}\n")
    for section in ("## what it means", "## where to look", "## first checks"):
        assert section in text, (name, section)
    for scenario in SCENARIOS:
        assert not re.search(rf"\b{re.escape(scenario)}\b", text), (name, scenario)
    for family in set(FAMILIES) - _words(name):
        assert not re.search(rf"\b{family}\b", text), (name, family)
    assert not re.search(r"\bfault|inject", text), name


def test_no_runbook_without_an_alert():
    assert {p.stem for p in RUNBOOKS.glob("*.md")} == set(ALERTS)


def test_link_bases_are_external_labels_never_alert_labels(tmp_path, monkeypatch):
    """prometheus.yml carries Grafana's and the runbooks' bases as external labels and drops them from alerts."""
    for var in ("CHAOS_PUBLIC_URL", "CODESPACES", "CODESPACE_NAME", "GITPOD_WORKSPACE_URL"):
        monkeypatch.delenv(var, raising=False)  # no workspace: the override is the address
    monkeypatch.setenv("CHAOSCTL_GRAFANA_URL", "https://ws-3000.example.dev/")
    monkeypatch.setenv("CHAOS_RUNBOOK_URL", "https://git.example/chaos/blob/main/docs/runbooks")
    (path, _) = dockerconf.render_configs(tmp_path, rules_dir=str(REPO_ROOT / "stack/prometheus/rules"), env={})
    conf = yaml.safe_load(path.read_text())
    assert conf["global"]["external_labels"] == {"grafana": "https://ws-3000.example.dev",
                                                 "runbooks": "https://git.example/chaos/blob/main/docs/runbooks"}
    assert conf["alerting"]["alert_relabel_configs"] == [{"regex": "grafana|runbooks", "action": "labeldrop"}]
    run(tool("promtool"), "check", "config", str(path))


def test_runbook_base(monkeypatch):
    """CHAOS_RUNBOOK_URL, else the GitHub repository the workspace names, else the clone's files."""
    for var in ("CHAOS_RUNBOOK_URL", "GITHUB_REPOSITORY", "GITHUB_SERVER_URL", "GITHUB_REF_NAME"):
        monkeypatch.delenv(var, raising=False)
    assert config.runbook_base() == (REPO_ROOT / "docs/runbooks").as_uri()
    assert Path(config.runbook_base().removeprefix("file://"), "ReplicaDown.md").is_file()
    monkeypatch.setenv("GITHUB_REPOSITORY", "someone/chaos-control")
    assert config.runbook_base() == "https://github.com/someone/chaos-control/blob/main/docs/runbooks"
    monkeypatch.setenv("GITHUB_REF_NAME", "game-day")
    assert config.runbook_base() == "https://github.com/someone/chaos-control/blob/game-day/docs/runbooks"
    monkeypatch.setenv("CHAOS_RUNBOOK_URL", "https://wiki.example/runbooks/")
    assert config.runbook_base() == "https://wiki.example/runbooks"


def _alertmanager(tmp_path) -> Path:
    path = tmp_path / "alertmanager.yml"
    path.write_text(render("stack/alertmanager/alertmanager.yml.j2", pager_url="http://p/pages",
                           tickets_url="http://p/tickets", slack_webhook_url="https://hooks.example/s",
                           slack_channel="", discord_webhook_url="https://discord.example/d"))
    run(tool("amtool"), "check-config", str(path))
    return path


def test_a_page_about_a_replica_inhibits_its_tickets(tmp_path):
    conf = yaml.safe_load(_alertmanager(tmp_path).read_text())
    assert conf["inhibit_rules"] == [{"source_matchers": ['severity="page"', 'replica=~".+"'],
                                      "target_matchers": ['severity="ticket"'], "equal": ["replica"]}]


def test_slack_and_discord_messages_carry_the_links(tmp_path):
    text = _alertmanager(tmp_path).read_text()
    for link in ("runbook_url", "dashboard_url"):
        assert text.count(f"{{{{ .Annotations.{link} }}}}") == 2, link  # Slack's and Discord's
