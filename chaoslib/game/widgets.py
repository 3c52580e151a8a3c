"""ipywidgets front ends over the `Game` façade, for the notebooks: play, hypothesis, fix, validate, finish.

Under the game's autopilot (`Game.autopilot`, CHAOSCTL_AUTOPILOT=1) the panels play
themselves: the play panel starts the incident, the form fills and submits the detective's
hypothesis, the fix panel applies the matching fix and validation runs: the notebooks run
unattended in CI with no test code in their cells. What the autopilot does is printed in the
cell's own output (not in the panel's output area: a notebook runner such as nbclient mirrors
those areas over the kernel's shell socket, which has stalled its wait for a cell's reply), and
what it cannot do (start a game, name a cause, pass validation) is raised in its cell, so an
unattended run stops there.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import ipywidgets as w
from IPython.display import Markdown, display

from chaoslib import config, faults
from chaoslib.errors import ChaosError, GameError, UsageError
from chaoslib.game.draw import families_of, playable_families
from chaoslib.game.facade import Game
from chaoslib.game.records import Finding
from chaoslib.progress import ProgressLine
from chaoslib.stack import Stack


def _one_line(e: BaseException) -> str:
    if isinstance(e, ChaosError):
        return e.one_line()
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else 'no detail'}"


def _report(out: w.Output, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run `fn`; an error is printed in `out` as one line (never a traceback), and None returned."""
    with out:
        try:
            return fn(*args, **kwargs)
        except Exception as e:  # every callback's error reaches the player as one line
            print(f"error: {_one_line(e)}")
    return None


def _show(out: w.Output | None, text: str) -> None:
    """Print in a panel's output area, or in the cell's own output (None: the autopilot's steps)."""
    if out is None:
        print(text)
        return
    with out:
        print(text)


#: Clicks that arrive this soon after an action finished were queued while it ran (a double click).
DEBOUNCE_S = 0.5


def action(button: w.Button, out: w.Output, fn: Callable[[], Any], *, busy: str = "working...") -> None:
    """Wire `fn()` to a button: disabled while it runs, a second click never runs it twice, errors in one line.

    While it runs the button counts the seconds ("restarting... 3 s"), so a wait never looks frozen.
    """
    label, state = button.description, {"busy": False, "done_at": 0.0}

    def run(_: object = None) -> Any:
        if state["busy"] or time.monotonic() - state["done_at"] < DEBOUNCE_S:
            return None
        state["busy"], button.disabled, button.description = True, True, busy
        stop, began = threading.Event(), time.monotonic()

        def tick() -> None:
            while not stop.wait(1.0):
                button.description = f"{busy} {time.monotonic() - began:.0f} s"
        ticker = threading.Thread(target=tick, name="chaos-button-ticker", daemon=True)
        ticker.start()
        try:
            return _report(out, fn)
        finally:
            stop.set()
            ticker.join(2)
            state["busy"], state["done_at"] = False, time.monotonic()
            button.disabled, button.description = False, label
    button.on_click(run)
    button.run = run


def play_panel(game: Game, *, default_seed: int | None = None) -> w.VBox:
    """Pick a difficulty, the families to draw from (and a seed to replay), then start the incident (once the
    stack is quiet).

    The seed offered is `default_seed`, else CHAOSCTL_SEED's (a replay, CI's seeded games), else random. The
    families offered are those this backend can run, the default draw's (or CHAOSCTL_FAMILY's) selected;
    none selected draws from the default ones.
    """
    difficulty = w.Dropdown(options=list(faults.DIFFICULTIES), value="normal", description="Difficulty")
    offered = default_seed if default_seed is not None else config.default_seed()
    seed = w.IntText(value=offered or 0, description="Seed (0=random)")
    playable = playable_families(game.stack.backend.features)
    chosen = [f for f in families_of(config.forced_families()) if f in playable]
    families = w.SelectMultiple(options=playable, value=tuple(chosen), rows=len(playable),
                                description="Families")
    families.add_class("chaos-families")
    button = w.Button(description="Start the incident", button_style="danger")
    status, out = w.Label(), w.Output()
    status.add_class("chaos-progress")

    def start(into: w.Output | None = out) -> Any:
        info = game.start(seed=seed.value or None, difficulty=difficulty.value,
                          families=list(families.value) or None, progress=lambda line: setattr(status, "value", line))
        status.value = ""
        _show(into, f"The incident has begun (seed {info.seed}, {info.difficulty}). Watch for the page.")
        return info
    action(button, out, start, busy="waiting for a quiet stack...")
    box = w.VBox([w.HBox([difficulty, seed]), families, button, status, out])
    box.start = button.run
    if game.autopilot and not game.in_progress():
        start(None)  # not through the button: a game that cannot start fails the cell
    return box


def target_dropdown(stack: Stack) -> w.Dropdown:
    """A dropdown of the stack's replicas (every fix acts on one)."""
    return w.Dropdown(options=stack.targets(), description="Target")


def _finding_row(stack: Stack) -> tuple[w.Dropdown, w.SelectMultiple, w.HBox]:
    family = w.Dropdown(options=list(faults.FAMILIES), description="Family")
    targets = w.SelectMultiple(options=stack.targets(), description="Targets", rows=4)
    return family, targets, w.HBox([family, targets])


def hypothesis_form(game: Game) -> w.VBox:
    """Record the hypothesis: one finding per fault (family and replicas), and the evidence in the player's words.

    One finding is shown; "Add a finding" adds another for an incident with two faults (hard mode).
    "Nothing is wrong" records the answer "no fault" instead (the findings are then left out).
    """
    stack = game.stack
    rows = [_finding_row(stack)]
    findings = w.VBox([rows[0][2]])
    add, drop = w.Button(description="Add a finding"), w.Button(description="Remove a finding")
    evidence = w.Textarea(placeholder="What did you see that makes you think so?", description="Evidence",
                          layout=w.Layout(width="90%", height="6em"))
    nothing = w.Checkbox(value=False, description="Nothing is wrong (no fault)", indent=False)
    submit = w.Button(description="Record hypothesis", button_style="primary")
    out = w.Output()

    def grow() -> None:
        if len(rows) >= len(faults.FAMILIES):
            raise UsageError("every family is already in a finding", field="findings")
        rows.append(_finding_row(stack))
        findings.children = tuple(r[2] for r in rows)

    def shrink() -> None:
        if len(rows) == 1:
            raise UsageError("a hypothesis names at least one finding", field="findings")
        rows.pop()
        findings.children = tuple(r[2] for r in rows)

    def record(into: w.Output | None = out) -> Any:
        if nothing.value:
            recorded = game.hypothesis(evidence=evidence.value, no_fault=True)
        else:
            recorded = game.hypothesis([Finding(f.value, tuple(t.value)) for f, t, _ in rows],
                                       evidence=evidence.value)
        named = "; ".join(f"{f.family} on {', '.join(f.targets)}" for f in recorded.findings) or "no fault"
        _show(into, f"hypothesis v{recorded.version} recorded: {named}")
        return recorded
    action(add, out, grow)
    action(drop, out, shrink)
    action(submit, out, record, busy="recording...")
    box = w.VBox([findings, w.HBox([add, drop]), nothing, evidence, submit, out])
    box.submit, box.rows, box.evidence, box.submit_button = submit.run, rows, evidence, submit
    box.no_fault = nothing
    if game.autopilot and game.in_progress() and not game.hypotheses():
        h = game.detective_verdict(progress=print)
        if not h.named:
            raise GameError(f"the autopilot's detective named no cause: {h.cause}",
                            hint="look at the dashboards of 03-investigate and fill the form yourself")
        for i, finding in enumerate(h.findings):
            if i == len(rows):
                grow()
            rows[i][0].value, rows[i][1].value = finding.family, tuple(finding.targets)
        evidence.value = "; ".join(h.evidence)
        record(None)
    return box


def fix_panel(game: Game) -> w.VBox:
    """The engineer's actions: a tab per family's fixes (firewall, disk, limits...) and a restart. Each is
    journalled."""
    stack, out = game.stack, w.Output()

    def say(text: str) -> None:
        _show(out, text)

    def apply(_stack: Stack, name: str, **kwargs: Any) -> dict[str, Any]:
        return {"fix": name, "result": game.apply_fix(name, **kwargs).result}

    ui = faults.FixUI(stack=stack, out=out, say=say, action=action, target_dropdown=lambda: target_dropdown(stack),
                      apply=apply)
    tabs, titles, buttons = [], [], {}
    for fam in faults.FAMILIES.values():
        if fam.fix_tab is not None:
            widget, more = fam.fix_tab.build(ui)
            tabs.append(widget)
            titles.append(fam.fix_tab.title)
            buttons.update(more)
    rs_target, rs_button = target_dropdown(stack), w.Button(description="Restart")

    def restart() -> None:
        game.apply_fix("restart", target=rs_target.value)
        say(f"restarted {rs_target.value}")
    action(rs_button, out, restart, busy="restarting...")
    tab = w.Tab(children=[*tabs, w.VBox([rs_target, rs_button])])
    for i, title in enumerate([*titles, "Restart"]):
        tab.set_title(i, title)
    box = w.VBox([tab, out])
    box.buttons = {**buttons, "restart": rs_button}
    if game.autopilot and game.in_progress():
        _show(None, "\n".join(game.autofix()))  # a fix that fails fails the cell
    return box


def validation_panel(game: Game) -> w.VBox:
    """Prove the steady state over a window (the bar moves while recovering and while holding)."""
    bar = w.FloatProgress(min=0, max=1, description="Validating")
    label, out = w.Label(), w.Output()
    label.add_class("chaos-progress")  # the line that moves (the browser test reads it)
    button = w.Button(description="Validate the fix", button_style="success")

    def progress(line: str) -> None:
        label.value = line
        if not isinstance(line, ProgressLine):
            return
        # Recovery fills the first half of the bar, the steady window the second.
        recovering = line.phase == "recovering"
        bar.bar_style = "info" if recovering else ""
        bar.value = (0.0 if recovering else 0.5) + 0.5 * line.fraction

    def run(into: w.Output | None = out) -> Any:
        bar.value = 0.0
        result = game.validate(progress=progress)
        if result.passed:
            bar.value, bar.bar_style = 1.0, "success"
            _show(into, "Steady state holds and the cause is gone. Well done.")
        else:
            bar.bar_style = "danger"
            _show(into, "Not yet: " + "; ".join(result.problems))
        box.result = result
        return result
    action(button, out, run, busy="validating...")
    box = w.VBox([button, bar, label, out])
    box.run, box.result = button.run, None
    if game.autopilot and game.in_progress():
        result = run(None)
        if not result.passed:
            raise GameError(f"the autopilot's fix did not hold: {'; '.join(result.problems)}",
                            hint="`chaosctl status` shows the stack; `chaosctl faults` what is injected")
    return box


def show_finish(game: Game) -> None:
    """Reveal, score and write the postmortem; display them as Markdown (in words and units).

    Nothing is returned (a cell ending with it shows the reveal once); `game.finish()` gives the `Outcome`.
    """
    done = game.finish()
    truth = "\n".join(f"- **{f.scenario}** ({f.family}): {f.description}, on {', '.join(f.targets)}"
                      + (f" ({f.strength})" if f.strength else "") for f in done.faults) \
        or "- **No fault**: nothing was injected (a no-fault round)."
    if done.herrings:
        truth += "\n\nRed herrings (harmless, planted to mislead):\n" + "\n".join(
            f"- {f.scenario}: {f.description}, on {', '.join(f.targets)}" for f in done.herrings)
    s = done.score
    display(Markdown(f"### The reveal\n{truth}\n\n### Your score: {s.points} points\n"
                     + "\n".join(f"- {line}" for line in s.lines[:-1])
                     + f"\n\nPostmortem written to `{done.postmortem}`"))
