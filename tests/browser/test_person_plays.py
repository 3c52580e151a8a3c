"""A person plays the whole game in JupyterLab: notebooks 02 to 05 in headless Chromium, no autopilot.

Each game: run the cells in order, click *Start the incident*, wait for the page, see the
plots of 03 render, fill the hypothesis form, apply the fix by clicking the fix panel's
widgets (target, action, values), click *Validate the fix*, and read the reveal and the
score on the page. One game per fault family (forced with CHAOSCTL_FAMILY, as CI does). The
answers come from the fault registry, as a person who found the cause would give them. The
lab never asks about Jupyter's news. A screenshot of every notebook goes to
.test-output/browser/ (CHAOS_TEST_OUTPUT to move it).
"""
from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest
import requests

from chaoslib import config
from chaoslib.game import Game
from chaoslib.game import session as game
from chaoslib.services.lab import start_lab, stop_lab

from .jupyter_page import Lab, lab_args, start_chromium, stop_chromium, wait

pytestmark = [pytest.mark.integration, pytest.mark.browser]

PORT = 18889
FAMILIES = ("network", "disk", "resources")
OUTPUT = Path(os.environ.get("CHAOS_TEST_OUTPUT", config.REPO_ROOT / ".test-output")) / "browser"
#: The JupyterLab plugin whose settings say whether to fetch (or ask about) Jupyter's news.
NOTIFICATIONS = "@jupyterlab/apputils-extension:notification"


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium for the module's games."""
    driver, profile = start_chromium()
    yield driver
    stop_chromium(driver, profile)


@pytest.fixture
def lab(live_stack, family, monkeypatch, tmp_path):
    """JupyterLab on a copy of notebooks/ (autosave never writes outputs into the repository)."""
    Game(live_stack, autopilot=False).panic()
    folder = tmp_path / "notebooks"
    shutil.copytree(config.REPO_ROOT / "notebooks", folder)
    monkeypatch.setenv("CHAOSCTL_FAMILY", family)
    monkeypatch.setenv("CHAOSCTL_FAST", "1")
    for name in ("CHAOSCTL_AUTOPILOT", "CHAOSCTL_SEED", "MPLBACKEND"):
        monkeypatch.delenv(name, raising=False)
    url = start_lab(live_stack.settings, port=PORT, root=folder, extra_args=lab_args(tmp_path))
    yield url
    stop_lab(live_stack.settings)
    Game(live_stack, autopilot=False).panic()


_SHOW = []  # the test's capsys, to print its figures past pytest's capture


def _say(line: str) -> None:
    with _SHOW[-1].disabled():
        print(f"\n[browser] {line}", flush=True)


def _listed(page: Lab, target: str) -> list[str]:
    """The disk tab's listings of this replica shown so far ("app1: 3 file(s), the biggest first")."""
    return [m for o in page.widget_outputs() for m in re.findall(rf"{target}: \d+ file\(s\)", o)]


def _apply_fix(page: Lab, stack, family: str, targets: list[str]) -> None:
    """Click the fix panel as a person who found the cause would."""
    from selenium.webdriver.common.action_chains import ActionChains

    for n, target in enumerate(targets):
        if family == "network":
            page.tab("Firewall")
            page.select("dropdown").select_by_visible_text(target)
            page.click("Show firewall rules")
            wait(lambda: any("drops" in o for o in page.widget_outputs()), timeout=30, what="the rules listed")
            button = page.button("Remove firewall rules")
            if n == 0:  # an impatient double click applies the fix once
                ActionChains(page.driver).double_click(button).perform()
            else:
                button.click()
            wait(lambda: any(f"affecting {target}" in o for o in page.widget_outputs()), timeout=60,
                 what="the rules removed")
        elif family == "disk":
            page.tab("Disk")
            page.select("dropdown").select_by_visible_text(target)
            # The list still shows the previous replica's files until this one's listing arrives.
            listings = len(_listed(page, target))
            page.click("List biggest files")
            wait(lambda: len(_listed(page, target)) > listings, timeout=30, what=f"{target}'s files listed")
            files = page.select("multiple")
            junk = [o.text for o in files.options if not config.is_app_file(o.text.split("  (")[0])]
            assert junk, [o.text for o in files.options]
            for text in junk:
                files.select_by_visible_text(text)
            page.click("Delete selected")
            wait(lambda: any("deleted" in o for o in page.widget_outputs()), timeout=60, what="the files deleted")
            # A replica that crashed on its full disk stays down: status shows it, restart it.
            try:
                wait(lambda: any(s.name == target and s.healthy for s in stack.status()), timeout=15,
                     what=f"{target} healthy")
            except AssertionError:
                page.tab("Restart")
                page.select("dropdown").select_by_visible_text(target)
                page.click("Restart")
                wait(lambda: any(f"restarted {target}" in o for o in page.widget_outputs()), timeout=90,
                     what=f"{target} restarted")
        else:
            page.tab("Limits")
            page.select("dropdown").select_by_visible_text(target)
            page.type_into("CPU cores", "1")
            page.type_into("Memory MiB", "512")
            page.click("Set limits and restart")
            wait(lambda: any(f"{target}: limits now 1 core(s), 512 MiB" in o for o in page.widget_outputs()),
                 timeout=90, what="the limits set")


def _no_news_prompt(page: Lab, url: str) -> None:
    """The lab serves "never fetch news" as the default, and no toast asks about news after it loads."""
    base, _, query = url.partition("/lab?")
    plugin = requests.get(f"{base}/lab/api/settings/{NOTIFICATIONS}?{query}", timeout=10).json()
    assert plugin["schema"]["properties"]["fetchNews"]["default"] == "false", plugin["schema"]["properties"]
    end = time.monotonic() + 5  # without the override the question shows within a second of the load
    while time.monotonic() < end:
        asked = [t for t in page.toasts() if "news" in t.lower()]
        assert not asked, f"JupyterLab asks about its news: {asked}"
        time.sleep(0.5)


@pytest.mark.parametrize("family", FAMILIES)
def test_a_person_plays_a_game_in_the_browser(live_stack, family, lab, chromium, capsys):
    """Clicked through 02 to 05 in a real browser, a game of each family is paged, fixed, validated and scored."""
    _SHOW.append(capsys)
    page = Lab(chromium, lab)
    try:
        _no_news_prompt(page, lab)
        _play(page, live_stack, family)
    except BaseException:
        page.screenshot(OUTPUT / family / "failure.png")
        raise


def _play(page: Lab, live_stack, family: str) -> None:
    started = time.monotonic()
    shots = OUTPUT / family
    player = Game(live_stack, autopilot=False)

    # 02: the import and the game, then the play panel; start the incident with its button, then wait for the page.
    page.open("02-incident.ipynb")
    cells = page.code_cells()
    page.run_cells(cells[:2])
    page.click("Start the incident")
    wait(lambda: "The incident has begun" in page.text(), timeout=420, interval=2, what="the incident to begin")
    info = player.info()
    assert info is not None and info.status == game.PLAYING
    page.run_cells(cells[2:], timeout=300)
    paged = game.current(live_stack).first("paged")
    assert paged and paged["alert_started_at"] >= info.started_at, paged
    assert page.errors() == []
    assert f"Paged {player.page().after_s:.0f} s after the incident began" in page.text()
    page.screenshot(shots / "02-incident.png")
    _say(f"{family}: paged by {paged['alertname']} after {paged['received_at'] - info.started_at:.0f} s")

    # 03: every cell runs (the hint's is commented out: it costs points), every plot renders as an image.
    page.open("03-investigate.ipynb")
    page.run_cells(page.code_cells(), timeout=300)
    assert page.errors() == []
    assert page.images() == 4, "the four dashboards of 03 did not each render once"
    assert game.current(live_stack).all("hint") == [], "running 03 top to bottom spent a hint"
    page.screenshot(shots / "03-investigate.png")

    # 04: the hypothesis, from what the person found (here: the registry's truth).
    truth = player.truth()
    targets = sorted({t for replicas in truth.values() for t in replicas})
    page.open("04-hypothesis.ipynb")
    cells = page.code_cells()
    page.run_cells(cells[:2])
    page.select("dropdown").select_by_visible_text(family)
    chosen = page.select("multiple")
    chosen.deselect_all()
    for t in targets:
        chosen.select_by_visible_text(t)
    evidence = page.visible(".widget-textarea textarea")[0]
    evidence.click()
    evidence.send_keys(f"{family} trouble on {', '.join(targets)}: seen in the dashboards of 03")
    page.click("Record hypothesis")
    wait(lambda: player.hypotheses(), timeout=30, what="the hypothesis in the journal")
    h = game.current(live_stack).all("hypothesis")[-1]
    assert (h["family"], h["targets"], h["by"]) == (family, targets, "player")
    page.run_cells(cells[2:])
    assert page.errors() == []
    page.screenshot(shots / "04-hypothesis.png")

    # 05: the fix by clicking, then validation, the reveal and the score.
    page.open("05-fix-and-verify.ipynb")
    cells = page.code_cells()
    page.run_cells(cells[:2])
    _apply_fix(page, live_stack, family, targets)
    fixes = game.current(live_stack).all("fix")
    assert fixes and all(f["args"]["target"] in targets and not f["error"] for f in fixes), fixes
    if family == "network":
        removals = [f for f in fixes if f["name"] == "remove_firewall_rules" and f["args"]["target"] == targets[0]]
        assert len(removals) == 1, "a double click applied the fix twice"
    page.run_cell(cells[2])
    page.click("Validate the fix")
    seen = set()

    def validated():
        seen.update(t for t in page.widget_outputs() if t)
        seen.add(page.js("const l = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) "
                         ".chaos-progress'); return l ? l.innerText : '';"))
        return "Steady state holds" in page.text() or "Not yet" in page.text()
    wait(validated, timeout=420, interval=1, what="validation")
    assert "Steady state holds" in page.text(), page.widget_outputs()
    assert len({s for s in seen if "/" in s}) >= 3, f"validation showed no moving progress: {seen}"
    page.run_cells(cells[3:])
    assert page.errors() == []
    text = page.text()
    scenarios = player.injected_scenarios()
    assert "The reveal" in text and all(name in text for name in scenarios), text[-2000:]
    revealed = player.finish(write_postmortem=False).faults  # finished: the same reveal, asked again
    assert all(f.strength in text for f in revealed), [f.strength for f in revealed]  # in words and units
    assert "Outcome(" not in text and "{'" not in text, "the reveal shows raw records"
    assert "Your score:" in text
    points = int(text.split("Your score:")[1].split("points")[0])
    assert points > 0 and player.info().status == game.FINISHED
    page.scroll_to_end()  # the reveal and the score
    page.screenshot(shots / "05-fix-and-verify.png")
    _say(f"{family}: {', '.join(scenarios)} on {', '.join(targets)}, {points} points, "
         f"wall time {time.monotonic() - started:.0f} s")
