"""A player's browser: headless Chromium fills the 04-hypothesis widget in JupyterLab 4.

Debian's chromium and chromium-driver (installed by `make deps` with WITH_BROWSER=1),
driven by Selenium. The widget must render with ipywidgets 8, take real clicks and
keystrokes, and the hypothesis must land in the game journal on disk.
"""
from __future__ import annotations

import shutil
import time

import pytest

from chaoslib import config
from chaoslib.game import Game
from chaoslib.game import session as game
from chaoslib.services.lab import start_lab, stop_lab

from .jupyter_page import lab_args, start_chromium, stop_chromium

pytestmark = [pytest.mark.integration, pytest.mark.browser]

PORT = 18888


@pytest.fixture
def browser():
    """A headless Chromium with a fresh profile, quit (and its profile removed) at the end."""
    driver, profile = start_chromium()
    yield driver
    stop_chromium(driver, profile)


@pytest.fixture
def lab(live_stack, monkeypatch, tmp_path):
    """JupyterLab on the test stack's state directory and a copy of notebooks/ (autosave never writes
    outputs into the repository), with the app object exposed to scripts."""
    monkeypatch.delenv("CHAOSCTL_AUTOPILOT", raising=False)
    folder = tmp_path / "notebooks"
    shutil.copytree(config.REPO_ROOT / "notebooks", folder)
    url = start_lab(live_stack.settings, port=PORT, root=folder, extra_args=lab_args(tmp_path))
    yield url
    stop_lab(live_stack.settings)


@pytest.fixture
def game_in_progress(live_stack):
    """A real game (seed 3), undone at the end."""
    player = Game(live_stack, autopilot=False)
    player.abandon(reason="test")
    yield player.start(seed=3)
    player.panic()


def _wait_for(driver, css: str, timeout: float = 90):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))


def test_hypothesis_widget_records_to_the_journal(live_stack, game_in_progress, lab, browser):
    """Filled in and submitted in a real browser, the hypothesis lands in the journal with the player's words."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    base, token = lab.split("/lab?")
    browser.get(f"{base}/lab/tree/04-hypothesis.ipynb?{token}")
    _wait_for(browser, ".jp-NotebookPanel .jp-Cell")
    # Wait for the app and the kernel, then run every cell as the player would with Shift+Enter.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if browser.execute_script(
                "const w = window.jupyterapp && jupyterapp.shell.currentWidget;"
                "return !!(w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel"
                " && w.sessionContext.session.kernel.status === 'idle');"):
            break
        time.sleep(1)
    else:
        pytest.fail("the notebook's kernel never became idle")
    browser.execute_script("return jupyterapp.commands.execute('notebook:run-all-cells')")

    family = Select(_wait_for(browser, ".widget-dropdown select"))
    targets = Select(_wait_for(browser, ".widget-select-multiple select"))
    evidence = _wait_for(browser, ".widget-textarea textarea")
    assert [o.text for o in targets.options] == live_stack.targets()

    family.select_by_visible_text("network")
    targets.deselect_all()
    targets.select_by_visible_text("app2")
    evidence.click()
    evidence.send_keys("Traefik shows app2 out of rotation while Prometheus still scrapes it")
    button = next(b for b in browser.find_elements(By.CSS_SELECTOR, "button.jupyter-button")
                  if b.text.strip() == "Record hypothesis")
    button.click()

    deadline = time.monotonic() + 30
    recorded = []
    while time.monotonic() < deadline and not recorded:
        recorded = game.require_game(live_stack).all("hypothesis")
        time.sleep(0.5)
    assert recorded, "the journal on disk has no hypothesis"
    h = recorded[-1]
    assert (h["family"], h["targets"]) == ("network", ["app2"])
    assert "out of rotation" in h["evidence"] and h["by"] == "player"
    # The widget says so, too.
    _wait_for(browser, ".widget-output")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and "recorded" not in browser.find_element(By.CSS_SELECTOR, "body").text:
        time.sleep(0.5)
    assert "hypothesis v1 recorded: network on app2" in browser.find_element(By.CSS_SELECTOR, "body").text
