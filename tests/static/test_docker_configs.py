"""Prometheus and Alertmanager under Docker: rendered from the native templates, checked by their tools."""
from __future__ import annotations

import secrets
import subprocess

import yaml

from chaoslib import dockerconf
from chaoslib.render import render

from .compose import REPO
from .test_prometheus_config import _relabel
from .tooling import run, tool

RULES_DIR = REPO / "stack" / "prometheus" / "rules"
NO_WEBHOOKS: dict[str, str] = {}


def git(*args: str) -> subprocess.CompletedProcess:
    """git in this checkout (its exit status is the caller's to judge). The checkout may belong to
    another user (root's, read by a normal user): it is trusted for this command only (safe.directory)."""
    return subprocess.run(["git", "-c", f"safe.directory={REPO}", "-C", str(REPO), *args],
                          capture_output=True, text=True, timeout=60)


def test_rendered_configs_are_never_tracked(tmp_path):
    """stack/generated/ holds only its README in git; every file dockerconf renders there is ignored."""
    assert git("ls-files", "stack/generated").stdout.split() == ["stack/generated/README.md"]
    for path in dockerconf.render_configs(tmp_path, env=NO_WEBHOOKS):
        target = (dockerconf.GENERATED_DIR / path.name).relative_to(REPO)
        assert git("check-ignore", "-q", "--no-index", str(target)).returncode == 0, f"{target} is not gitignored"
    assert dockerconf.render_configs.__defaults__[0] == dockerconf.GENERATED_DIR


def test_webhook_urls_land_only_in_ignored_files(tmp_path):
    """With SLACK_WEBHOOK_URL and DISCORD_WEBHOOK_URL set, the file holding them is gitignored (and
    kept out of the images' build context), and no tracked file contains either URL."""
    mark = secrets.token_hex(8)  # made now, so that no file (this one included) holds the URLs
    env = {"SLACK_WEBHOOK_URL": f"https://hooks.slack.com/services/T0/B0/{mark}",
           "DISCORD_WEBHOOK_URL": f"https://discord.com/api/webhooks/1/{mark}"}
    holders = [p for p in dockerconf.render_configs(tmp_path, env=env)
               if any(url in p.read_text() for url in env.values())]
    assert [p.name for p in holders] == ["alertmanager.yml"]
    dockerignore = (REPO / ".dockerignore").read_text().split()
    for path in holders:
        target = (dockerconf.GENERATED_DIR / path.name).relative_to(REPO)
        assert git("check-ignore", "-q", "--no-index", str(target)).returncode == 0, f"{target} would be committed"
        assert git("ls-files", "--error-unmatch", str(target)).returncode != 0, f"{target} is tracked"
        assert "stack/generated/*.yml" in dockerignore
    for url in env.values():
        found = git("grep", "-l", "-F", url)
        assert found.returncode == 1 and not found.stdout, f"tracked files hold {url}: {found.stdout}"


def test_promtool_check_config_with_the_real_rules(tmp_path):
    """promtool accepts the docker prometheus.yml, and its rules load (rules_dir pointed at the real ones)."""
    promtool = tool("promtool")
    (path, _) = dockerconf.render_configs(tmp_path, rules_dir=str(RULES_DIR), env=NO_WEBHOOKS)
    out = run(promtool, "check", "config", str(path))
    assert "recording.yml" in out.stdout + out.stderr and "alerts.yml" in out.stdout + out.stderr


def test_amtool_check_config_and_routes(tmp_path):
    """amtool accepts the docker alertmanager.yml; pages go to the pager service, the rest to tickets."""
    amtool = tool("amtool")
    (_, path) = dockerconf.render_configs(tmp_path, env=NO_WEBHOOKS)
    run(amtool, "check-config", str(path))
    for labels, receiver in ((["alertname=PollsUnavailable", "severity=page"], "pager"),
                             (["alertname=DiskAlmostFull", "severity=ticket"], "tickets")):
        out = run(amtool, "config", "routes", "test", f"--config.file={path}", *labels).stdout.strip()
        assert out == receiver
    receivers = {r["name"]: r for r in yaml.safe_load(path.read_text())["receivers"]}
    assert receivers["pager"]["webhook_configs"][0]["url"] == "http://pager:9099/pages"
    assert receivers["tickets"]["webhook_configs"][0]["url"] == "http://pager:9099/tickets"


def test_webhooks_from_the_environment(tmp_path):
    """Slack and Discord receivers appear only when their variables are set at render time."""
    env = {"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/X", "DISCORD_WEBHOOK_URL": "https://d/h"}
    (_, path) = dockerconf.render_configs(tmp_path, env=env)
    pager = {r["name"]: r for r in yaml.safe_load(path.read_text())["receivers"]}["pager"]
    assert pager["slack_configs"][0]["api_url"] == env["SLACK_WEBHOOK_URL"]
    assert pager["discord_configs"][0]["webhook_url"] == env["DISCORD_WEBHOOK_URL"]


def _docker_config() -> dict:
    return yaml.safe_load(render("stack/prometheus/prometheus.yml.j2", **dockerconf.prometheus_context()))


def test_docker_traefik_server_up_gets_a_replica_label():
    """Traefik's per-server series map from the replicas' fixed IPs to `replica`, as natively."""
    jobs = {j["job_name"]: j for j in _docker_config()["scrape_configs"]}
    rules = jobs["traefik"]["metric_relabel_configs"]
    assert len([r for r in rules if r.get("source_labels") == ["url"]]) == len(dockerconf.REPLICAS)
    for index, name in enumerate(dockerconf.REPLICAS, start=1):
        series = {"service": "polls@docker", "url": f"http://{dockerconf.replica_ip(index)}:8000"}
        assert _relabel(rules, series)["replica"] == name
    assert "replica" not in _relabel(rules, {"url": "http://172.29.0.111:8000"})
    assert "replica" not in _relabel(rules, {"url": "http://172x29x0x11:8000"})


def test_docker_targets_are_compose_services():
    """Every scrape target and the Alertmanager address are compose services on their ports."""
    from .compose import services

    cfg = _docker_config()
    names = set(services())
    targets = [t for j in cfg["scrape_configs"] for g in j["static_configs"] for t in g["targets"]]
    targets += cfg["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    for target in targets:
        assert target.split(":")[0] in names, target
    assert cfg["rule_files"] == [f"{dockerconf.RULES_DIR_IN_CONTAINER}/*.yml"]


def test_cli_renders_both_files(tmp_path, capsys, monkeypatch):
    """`python -m chaoslib.dockerconf --out DIR` writes prometheus.yml and alertmanager.yml there."""
    for name in ("SLACK_WEBHOOK_URL", "SLACK_CHANNEL", "DISCORD_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)
    assert dockerconf.main(["--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alertmanager.yml", "prometheus.yml"]
    assert str(tmp_path / "prometheus.yml") in capsys.readouterr().out
