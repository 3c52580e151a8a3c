"""A person plays the whole game in JupyterLab: notebooks 02 to 05 in headless Chromium, no autopilot.

Each game: run the cells in order, click *Start the incident*, wait for the page, see the
plots of 03 render, fill the hypothesis form, apply the fix by clicking the fix panel's
widgets (target, action, values), click *Validate the fix*, and read the reveal and the
score on the page. One game per fault family (forced with CHAOSCTL_FAMILY, as CI does). The
answers come from the fault registry, as a person who found the cause would give them. A
screenshot of every notebook goes to .test-output/browser/ (CHAOS_TEST_OUTPUT to move it).
"""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from chaoslib import config
from chaoslib.game import session as game
from chaoslib.engine.injector import panic
from chaoslib.services.lab import start_lab, stop_lab

from .jupyter_page import Lab, lab_args, start_chromium, stop_chromium, wait

pytestmark = [pytest.mark.integration, pytest.mark.browser]

PORT = 18889
FAMILIES = ("network", "disk", "resources")
OUTPUT = Path(os.environ.get("CHAOS_TEST_OUTPUT", config.REPO_ROOT / ".test-output")) / "browser"


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium for the module's games."""
    driver, profile = start_chromium()
    yield driver
    stop_chromium(driver, profile)


@pytest.fixture
def lab(live_stack, family, monkeypatch, tmp_path):
    """JupyterLab on a copy of notebooks/ (autosave never writes outputs into the repository)."""
    panic(live_stack)
    game.abandon(live_stack, reason="test setup")
    folder = tmp_path / "notebooks"
    shutil.copytree(config.REPO_ROOT / "notebooks", folder)
    monkeypatch.setenv("CHAOSCTL_FAMILY", family)
    monkeypatch.setenv("CHAOSCTL_FAST", "1")
    for name in ("CHAOSCTL_AUTOPILOT", "CHAOSCTL_SEED", "MPLBACKEND"):
        monkeypatch.delenv(name, raising=False)
    url = start_lab(live_stack.settings, port=PORT, root=folder, extra_args=lab_args(tmp_path))
    yield url
    stop_lab(live_stack.settings)
    panic(live_stack)
    game.abandon(live_stack, reason="test")


_SHOW = []  # the test's capsys, to print its figures past pytest's capture


def _say(line: str) -> None:
    with _SHOW[-1].disabled():
        print(f"\n[browser] {line}", flush=True)


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
            page.click("List biggest files")
            files = page.select("multiple")
            wait(lambda: files.options, timeout=30, what="the disk's files listed")
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


@pytest.mark.parametrize("family", FAMILIES)
def test_a_person_plays_a_game_in_the_browser(live_stack, family, lab, chromium, capsys):
    """Clicked through 02 to 05 in a real browser, a game of each family is paged, fixed, validated and scored."""
    _SHOW.append(capsys)
    page = Lab(chromium, lab)
    try:
        _play(page, live_stack, family)
    except BaseException:
        page.screenshot(OUTPUT / family / "failure.png")
        raise


def _play(page: Lab, live_stack, family: str) -> None:
    started = time.monotonic()
    shots = OUTPUT / family

    # 02: start the incident with the button, then wait for the page.
    page.open("02-incident.ipynb")
    cells = page.code_cells()
    page.run_cells(cells[:2])
    page.click("Start the incident")
    wait(lambda: "The incident has begun" in page.text(), timeout=420, interval=2, what="the incident to begin")
    state = game.current(live_stack)
    assert state.status == game.PLAYING
    page.run_cells(cells[2:], timeout=300)
    paged = game.current(live_stack).first("paged")
    assert paged and paged["alert_started_at"] >= state.started_at, paged
    assert page.errors() == []
    page.screenshot(shots / "02-incident.png")
    _say(f"{family}: paged by {paged['alertname']} after {paged['received_at'] - state.started_at:.0f} s")

    # 03: every plot renders as an image, no cell fails (the hint cell costs points: a person may skip it).
    page.open("03-investigate.ipynb")
    page.run_cells([i for i in page.code_cells() if "game.hint(" not in page.source(i)], timeout=300)
    assert page.errors() == []
    assert page.images() >= 4, "the four dashboards of 03 did not all render"
    page.screenshot(shots / "03-investigate.png")

    # 04: the hypothesis, from what the person found (here: the registry's truth).
    truth = game.game_faults(live_stack, state)
    targets = sorted({t for f in truth for t in f.targets})
    page.open("04-hypothesis.ipynb")
    page.run_cell(page.code_cells()[0])
    page.select("dropdown").select_by_visible_text(family)
    chosen = page.select("multiple")
    chosen.deselect_all()
    for t in targets:
        chosen.select_by_visible_text(t)
    evidence = page.visible(".widget-textarea textarea")[0]
    evidence.click()
    evidence.send_keys(f"{family} trouble on {', '.join(targets)}: seen in the dashboards of 03")
    page.click("Record hypothesis")
    wait(lambda: game.current(live_stack).all("hypothesis"), timeout=30, what="the hypothesis in the journal")
    h = game.current(live_stack).all("hypothesis")[-1]
    assert (h["family"], h["targets"], h["by"]) == (family, targets, "player")
    page.run_cells(page.code_cells()[1:])
    assert page.errors() == []
    page.screenshot(shots / "04-hypothesis.png")

    # 05: the fix by clicking, then validation, the reveal and the score.
    page.open("05-fix-and-verify.ipynb")
    cells = page.code_cells()
    page.run_cell(cells[0])
    _apply_fix(page, live_stack, family, targets)
    fixes = game.current(live_stack).all("fix")
    assert fixes and all(f["args"]["target"] in targets and not f["error"] for f in fixes), fixes
    if family == "network":
        removals = [f for f in fixes if f["name"] == "remove_firewall_rules" and f["args"]["target"] == targets[0]]
        assert len(removals) == 1, "a double click applied the fix twice"
    page.run_cell(cells[1])
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
    page.run_cells(cells[2:])
    assert page.errors() == []
    text = page.text()
    assert "The reveal" in text and all(f.scenario in text for f in truth), text[-2000:]
    assert "Your score:" in text
    points = int(text.split("Your score:")[1].split("points")[0])
    assert points > 0 and game.current(live_stack).status == game.FINISHED
    page.screenshot(shots / "05-fix-and-verify.png")
    _say(f"{family}: {', '.join(f.scenario for f in truth)} on {', '.join(targets)}, {points} points, "
         f"wall time {time.monotonic() - started:.0f} s")
