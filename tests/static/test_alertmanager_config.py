"""Alertmanager: the rendered config routes pages to the pager, Slack/Discord only when set."""
from __future__ import annotations

import yaml

from chaoslib.render import render

from .tooling import run, tool

PAGER = "http://127.0.2.7:9099/pages"
TICKETS = "http://127.0.2.7:9099/tickets"
SLACK = "https://hooks.slack.com/services/T000/B000/XXXX"
DISCORD = "https://discord.com/api/webhooks/123/abc"


def context(slack: str = "", channel: str = "", discord: str = "") -> dict:
    return dict(pager_url=PAGER, tickets_url=TICKETS, slack_webhook_url=slack, slack_channel=channel,
                discord_webhook_url=discord)


VARIANTS = {
    "bare": context(),
    "slack": context(slack=SLACK),
    "slack+channel": context(slack=SLACK, channel="#game-day"),
    "discord": context(discord=DISCORD),
    "all": context(slack=SLACK, channel="#game-day", discord=DISCORD),
}


def text(ctx: dict) -> str:
    return render("stack/alertmanager/alertmanager.yml.j2", **ctx)


def receivers(ctx: dict) -> dict[str, dict]:
    return {r["name"]: r for r in yaml.safe_load(text(ctx))["receivers"]}


def test_amtool_check_config(tmp_path):
    amtool = tool("amtool")
    for variant, ctx in VARIANTS.items():
        path = tmp_path / f"alertmanager-{variant}.yml"
        path.write_text(text(ctx))
        run(amtool, "check-config", str(path))


def test_routing_with_amtool(tmp_path):
    """Pages go to the pager receiver, everything else to tickets, in every variant."""
    amtool = tool("amtool")
    for variant, ctx in VARIANTS.items():
        path = tmp_path / f"alertmanager-{variant}.yml"
        path.write_text(text(ctx))
        for labels, receiver in ((["alertname=PollsHighErrorRatio", "severity=page"], "pager"),
                                 (["alertname=DiskAlmostFull", "severity=ticket"], "tickets"),
                                 (["alertname=Whatever"], "tickets")):
            out = run(amtool, "config", "routes", "test", f"--config.file={path}", *labels).stdout.strip()
            assert out == receiver, (variant, labels, out)


def test_route_settings():
    route = yaml.safe_load(text(context()))["route"]
    assert route["receiver"] == "tickets"
    assert route["group_by"] == ["alertname", "severity"]
    assert (route["group_wait"], route["group_interval"], route["repeat_interval"]) == ("5s", "15s", "4h")
    # A page leaves 1 s after it fires (issue #15); tickets keep the 5 s group wait.
    assert route["routes"] == [{"receiver": "pager", "matchers": ['severity="page"'], "group_wait": "1s"}]


def test_pager_and_tickets_webhooks():
    r = receivers(context())
    assert r["pager"]["webhook_configs"] == [{"url": PAGER, "send_resolved": True}]
    assert r["tickets"]["webhook_configs"] == [{"url": TICKETS, "send_resolved": True}]


def test_no_slack_or_discord_unless_configured():
    body = text(context())
    assert "slack" not in body.split("receivers:")[1] and "discord" not in body.split("receivers:")[1]
    assert set(receivers(context())["pager"]) == {"name", "webhook_configs"}


def test_slack_when_configured():
    pager = receivers(context(slack=SLACK))["pager"]
    assert "discord_configs" not in pager
    (slack,) = pager["slack_configs"]
    assert slack["api_url"] == SLACK and slack["send_resolved"] is True
    assert "channel" not in slack
    assert "{{ range .Alerts }}" in slack["text"] and ".CommonLabels.alertname" in slack["title"]
    (with_channel,) = receivers(context(slack=SLACK, channel="#game-day"))["pager"]["slack_configs"]
    assert with_channel["channel"] == "#game-day"


def test_discord_when_configured():
    pager = receivers(context(discord=DISCORD))["pager"]
    assert "slack_configs" not in pager
    (discord,) = pager["discord_configs"]
    assert discord["webhook_url"] == DISCORD and discord["send_resolved"] is True
    assert discord["title"] and "{{ range .Alerts }}" in discord["message"]
    # The pager always gets pages, whatever else is configured.
    assert pager["webhook_configs"][0]["url"] == PAGER


def test_odd_characters_in_urls_stay_valid_yaml():
    odd = "https://example.com/hook?a=1&b='x'#\"y\": z"
    pager = receivers(context(slack=odd, channel="#a: b", discord=odd))["pager"]
    assert pager["slack_configs"][0]["api_url"] == odd
    assert pager["slack_configs"][0]["channel"] == "#a: b"
    assert pager["discord_configs"][0]["webhook_url"] == odd


def test_notification_templates_render(tmp_path):
    amtool = tool("amtool")
    pager = receivers(VARIANTS["all"])["pager"]
    empty = tmp_path / "empty.tmpl"
    empty.write_text('{{ define "unused" }}{{ end }}\n')
    for template in (pager["slack_configs"][0]["title"], pager["slack_configs"][0]["text"],
                     pager["discord_configs"][0]["title"], pager["discord_configs"][0]["message"]):
        run(amtool, "template", "render", f"--template.glob={empty}", f"--template.text={template}")
