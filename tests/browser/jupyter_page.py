"""A page object for JupyterLab 4 in headless Chromium: open a notebook, run its cells, read them.

The browser tests drive JupyterLab the way a person does (cells run one by one, buttons
clicked, fields typed into) and read the notebook's own model for what ran and what failed.
Debian's chromium and chromium-driver, driven by Selenium (a downloaded browser cannot run here).
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from integration.helpers import wait_until

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
         "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync",
         "--window-size=1400,1000"]


def start_chromium():
    """A headless Chromium with a fresh profile; returns (driver, profile folder)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        raise AssertionError("chromium and chromium-driver are missing: run `make deps WITH_BROWSER=1`")
    profile = tempfile.mkdtemp(prefix="chaos-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    return driver, profile


def stop_chromium(driver, profile: str) -> None:
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def lab_args(tmp_path: Path) -> tuple[str, ...]:
    """JupyterLab's flags for a browser test: the app exposed to scripts, and a workspace of the test's own.

    With the default workspace (~/.jupyter/lab/workspaces) a new lab restores the previous
    test's open notebooks and starts all their kernels at once; one of them was once left
    with no kernel, so the test waited for an idle kernel that never came. Each test's lab
    starts empty, as a person's first one does.
    """
    return ("--LabApp.expose_app_in_browser=True", f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}")


def wait(check, *, timeout: float, interval: float = 0.5, what: str = "a condition"):
    """Poll `check` until it returns something true; fail naming `what` after `timeout` seconds."""
    return wait_until(check, timeout, interval, what=what)


#: The notebook the page object opened last (docmanager:open's own widget, not whatever has focus).
_CURRENT = "const nb = window.__chaosNotebook;"


class Lab:
    """One JupyterLab in one browser tab."""

    def __init__(self, driver, url: str) -> None:
        self.driver = driver
        self.base, _, self.query = url.partition("/lab?")
        driver.get(f"{self.base}/lab?{self.query}")
        wait(lambda: driver.execute_script("return !!(window.jupyterapp && jupyterapp.shell)"), timeout=120,
             what="JupyterLab to load")
        assert self.call("jupyterapp.restored.then(() => done(true))"), "JupyterLab was never restored"

    def call(self, body: str, *args):
        """Run asynchronous JavaScript; `body` calls done(value) when it has the answer."""
        return self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "try {" + body + "} catch (e) { done('error: ' + e); }", *args)

    def js(self, script: str, *args):
        return self.driver.execute_script(script, *args)

    # -- notebooks -----------------------------------------------------------------------------
    def open(self, name: str) -> None:
        """Open a notebook and wait for its kernel to be idle."""
        opened = self.call("jupyterapp.commands.execute('docmanager:open', {path: arguments[0]}).then(w => {"
                           "  window.__chaosNotebook = w; jupyterapp.shell.activateById(w.id);"
                           "  return w.context.ready; }).then(() => done(window.__chaosNotebook.context.path),"
                           "  e => done('error: ' + e));", name)
        assert opened == name, opened
        self.wait_idle(timeout=120)

    def kernel_status(self) -> str | None:
        return self.js(_CURRENT + "const s = nb.sessionContext.session; return s && s.kernel && s.kernel.status;")

    def wait_idle(self, *, timeout: float) -> None:
        wait(lambda: self.kernel_status() == "idle", timeout=timeout, what="the kernel to be idle")

    def code_cells(self) -> list[int]:
        """Indices of the notebook's code cells."""
        return self.js(_CURRENT + "return nb.content.widgets.map((c, i) => [c.model.type, i])"
                       ".filter(p => p[0] === 'code').map(p => p[1]);")

    def source(self, index: int) -> str:
        return self.js(_CURRENT + "return nb.content.widgets[arguments[0]].model.sharedModel.getSource();", index)

    def run_cell(self, index: int, *, timeout: float = 300) -> None:
        """Select a cell and run it (as Shift+Enter would), then wait until it has finished."""
        self.js(_CURRENT + "nb.content.activeCellIndex = arguments[0]; nb.content.deselectAll();"
                "return jupyterapp.commands.execute('notebook:run-cell');", index)

        def done():
            count = self.js(_CURRENT + "return nb.content.widgets[arguments[0]].model.executionCount;", index)
            return count is not None and self.kernel_status() == "idle"
        wait(done, timeout=timeout, interval=1, what=f"cell {index} to finish")

    def run_cells(self, indices, *, timeout: float = 300) -> None:
        for i in indices:
            self.run_cell(i, timeout=timeout)

    def errors(self) -> list[str]:
        """Every error output in the notebook's cells, as 'ename: evalue'."""
        return self.js(_CURRENT + "const out = [];"
                       "nb.content.widgets.forEach(c => { if (c.model.type !== 'code') return;"
                       "  c.model.outputs.toJSON().forEach(o => {"
                       "    if (o.output_type === 'error') out.push(o.ename + ': ' + o.evalue); }); });"
                       "return out;")

    def images(self) -> int:
        """How many images the notebook's outputs show, fully loaded and not empty."""
        return self.js(_CURRENT + "return Array.from(nb.node.querySelectorAll('.jp-OutputArea-output img'))"
                       ".filter(i => i.complete && i.naturalWidth > 100 && i.naturalHeight > 100).length;")

    def text(self) -> str:
        """What the current notebook shows, as text."""
        return self.js(_CURRENT + "return nb.node.innerText;")

    def widget_outputs(self) -> list[str]:
        """The text of every widget output area (where callbacks print)."""
        return self.js(_CURRENT + "return Array.from(nb.node.querySelectorAll('.widget-output'))"
                       ".map(e => e.innerText);")

    def toasts(self) -> list[str]:
        """The text of every notification toast JupyterLab shows now (bottom right)."""
        return self.js("return Array.from(document.querySelectorAll('.Toastify__toast')).map(e => e.innerText);")

    def scroll_to_end(self) -> None:
        """Scroll the notebook until the end of its last code cell's output is at the bottom of the view."""
        self.js(_CURRENT + "const code = nb.content.widgets.filter(c => c.model.type === 'code');"
                "code[code.length - 1].node.scrollIntoView({block: 'end'});")

    def screenshot(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.driver.save_screenshot(str(path))
        return path

    # -- widgets -------------------------------------------------------------------------------
    def visible(self, css: str) -> list:
        from selenium.webdriver.common.by import By

        return [e for e in self.driver.find_elements(By.CSS_SELECTOR, f".jp-NotebookPanel:not(.lm-mod-hidden) {css}")
                if e.is_displayed()]

    def button(self, text: str, *, timeout: float = 30):
        """The visible widget button with this text."""
        return wait(lambda: next((b for b in self.visible("button.jupyter-button") if b.text.strip() == text), None),
                    timeout=timeout, what=f"a button {text!r}")

    def click(self, text: str) -> None:
        self.button(text).click()

    def tab(self, title: str) -> None:
        """Click a widget tab by its title."""
        tab = wait(lambda: next((t for t in self.visible(".lm-TabBar-tab") if t.text.strip() == title), None),
                   timeout=30, what=f"a tab {title!r}")
        tab.click()

    def select(self, kind: str, *, index: int = 0):
        """The index-th visible <select> of a widget kind (dropdown or select-multiple), as a Selenium Select."""
        from selenium.webdriver.support.ui import Select

        css = {"dropdown": ".widget-dropdown select", "multiple": ".widget-select-multiple select"}[kind]
        return Select(wait(lambda: (self.visible(css)[index:index + 1] or [None])[0], timeout=30,
                           what=f"a {kind} widget"))

    def type_into(self, description: str, value: str) -> None:
        """Type a value into the visible text/number widget with this description (then leave the field)."""
        from selenium.webdriver.common.keys import Keys

        box = wait(lambda: next((w for w in self.visible(".widget-inline-hbox")
                                 if w.text.strip().startswith(description)), None),
                   timeout=30, what=f"a field {description!r}")
        from selenium.webdriver.common.by import By

        field = box.find_element(By.CSS_SELECTOR, "input")
        field.click()
        field.send_keys(Keys.CONTROL, "a")
        field.send_keys(value, Keys.TAB)
