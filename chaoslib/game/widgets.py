"""ipywidgets front ends over game.py, fixes.py and scoring.py, for the notebooks.

With CHAOSCTL_AUTOPILOT=1 the forms fill and submit themselves from the detective's
hypothesis, and the fix panel applies the matching fix: the notebooks run unattended in CI.
"""
from __future__ import annotations

import os
import threading
import time

import ipywidgets as w
from IPython.display import Markdown, display

from chaoslib import faults
from chaoslib.game import detective
from chaoslib.game import session as game
from chaoslib.game import scoring
from chaoslib.errors import ChaosError, UsageError
from chaoslib.stack import Stack


def autopilot() -> bool:
    """True when CI (or a facilitator) wants the notebooks to play themselves."""
    return os.environ.get("CHAOSCTL_AUTOPILOT", "") not in ("", "0", "false")


def _one_line(e: BaseException) -> str:
    if isinstance(e, ChaosError):
        return e.one_line()
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else 'no detail'}"


def _report(out: w.Output, fn, *args, **kwargs):
    """Run `fn`; an error is printed in `out` as one line (never a traceback), and None returned."""
    with out:
        try:
            return fn(*args, **kwargs)
        except Exception as e:  # every callback's error reaches the player as one line
            print(f"error: {_one_line(e)}")
    return None


#: Clicks that arrive this soon after an action finished were queued while it ran (a double click).
DEBOUNCE_S = 0.5


def action(button: w.Button, out: w.Output, fn, *, busy: str = "working...") -> None:
    """Wire `fn()` to a button: disabled while it runs, a second click never runs it twice, errors in one line.

    While it runs the button counts the seconds ("restarting... 3 s"), so a wait never looks frozen.
    """
    label, state = button.description, {"busy": False, "done_at": 0.0}

    def run(_=None):
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


def play_panel(stack: Stack, *, default_seed: int | None = None) -> w.VBox:
    """Pick a difficulty (and a seed to replay), then start the incident (once the stack is quiet)."""
    difficulty = w.Dropdown(options=["easy", "normal", "hard"], value="normal", description="Difficulty")
    seed = w.IntText(value=default_seed or 0, description="Seed (0=random)")
    button = w.Button(description="Start the incident", button_style="danger")
    status, out = w.Label(), w.Output()
    status.add_class("chaos-progress")

    def start():
        state = game.play(stack, seed=seed.value or None, difficulty=difficulty.value,
                          progress=lambda line: setattr(status, "value", line))
        status.value = ""
        with out:
            print(f"The incident has begun (seed {state.seed}, {state.difficulty}). Watch for the page.")
        return state
    action(button, out, start, busy="waiting for a quiet stack...")
    box = w.VBox([w.HBox([difficulty, seed]), button, status, out])
    box.start = button.run
    return box


def target_dropdown(stack: Stack) -> w.Dropdown:
    """A dropdown of the stack's replicas (every fix acts on one)."""
    return w.Dropdown(options=stack.targets(), description="Target")


def _finding_row(stack: Stack) -> tuple[w.Dropdown, w.SelectMultiple, w.HBox]:
    family = w.Dropdown(options=list(faults.FAMILIES), description="Family")
    targets = w.SelectMultiple(options=stack.targets(), description="Targets", rows=4)
    return family, targets, w.HBox([family, targets])


def hypothesis_form(stack: Stack) -> w.VBox:
    """Record the hypothesis: one finding per fault (family and replicas), and the evidence in the player's words.

    One finding is shown; "Add a finding" adds another for an incident with two faults (hard mode).
    """
    rows = [_finding_row(stack)]
    findings = w.VBox([rows[0][2]])
    add, drop = w.Button(description="Add a finding"), w.Button(description="Remove a finding")
    evidence = w.Textarea(placeholder="What did you see that makes you think so?", description="Evidence",
                          layout=w.Layout(width="90%", height="6em"))
    submit = w.Button(description="Record hypothesis", button_style="primary")
    out = w.Output()

    def grow():
        if len(rows) >= len(faults.FAMILIES):
            raise UsageError("every family is already in a finding", field="findings")
        rows.append(_finding_row(stack))
        findings.children = tuple(r[2] for r in rows)

    def shrink():
        if len(rows) == 1:
            raise UsageError("a hypothesis names at least one finding", field="findings")
        rows.pop()
        findings.children = tuple(r[2] for r in rows)

    def record():
        event = game.record_hypothesis(stack, evidence=evidence.value,
                                       findings=[{"family": f.value, "targets": list(t.value)} for f, t, _ in rows])
        with out:
            named = "; ".join(f"{f['family']} on {', '.join(f['targets'])}" for f in event["findings"])
            print(f"hypothesis v{event['version']} recorded: {named}")
        return event
    action(add, out, grow)
    action(drop, out, shrink)
    action(submit, out, record, busy="recording...")
    box = w.VBox([findings, w.HBox([add, drop]), evidence, submit, out])
    box.submit, box.rows, box.evidence, box.submit_button = submit.run, rows, evidence, submit
    if autopilot():
        h = detective.verdict(stack, progress=print)
        for i, finding in enumerate(h.findings if h.named else []):
            if i == len(rows):
                grow()
            rows[i][0].value, rows[i][1].value = finding.family, tuple(finding.targets)
        if h.named:
            evidence.value = "; ".join(h.evidence)
            submit.run()
    return box


def fix_panel(stack: Stack) -> w.VBox:
    """The engineer's actions: a tab per family's fixes (firewall, disk, limits...) and a restart. Each is journalled."""
    out = w.Output()

    def say(text: str) -> None:
        with out:
            print(text)

    ui = faults.FixUI(stack=stack, out=out, say=say, action=action, target_dropdown=lambda: target_dropdown(stack),
                      apply=game.apply_fix)
    tabs, titles, buttons = [], [], {}
    for fam in faults.FAMILIES.values():
        if fam.fix_tab is not None:
            widget, more = fam.fix_tab.build(ui)
            tabs.append(widget)
            titles.append(fam.fix_tab.title)
            buttons.update(more)
    rs_target, rs_button = target_dropdown(stack), w.Button(description="Restart")
    action(rs_button, out, lambda: (game.apply_fix(stack, "restart", target=rs_target.value),
                                    say(f"restarted {rs_target.value}")), busy="restarting...")
    tab = w.Tab(children=[*tabs, w.VBox([rs_target, rs_button])])
    for i, title in enumerate([*titles, "Restart"]):
        tab.set_title(i, title)
    box = w.VBox([tab, out])
    box.buttons = {**buttons, "restart": rs_button}
    if autopilot():
        _report(out, apply_matching_fix, stack)
    return box


def apply_matching_fix(stack: Stack) -> list[str]:
    """Autopilot: for each finding of the latest hypothesis, its family's fix, using only what the player can see."""
    state = game.require_game(stack)
    hyps = state.all("hypothesis")
    if not hyps:
        raise ChaosError("no hypothesis recorded yet", hint="record one in 04-hypothesis")
    done = [faults.family(f["family"]).autofix(stack, t, game.apply_fix) for f in game.findings_of(hyps[-1]) for t in f["targets"]]
    print("\n".join(done))
    return done


def validation_panel(stack: Stack) -> w.VBox:
    """Prove the steady state over a window (the bar moves while recovering and while holding)."""
    bar = w.FloatProgress(min=0, max=1, description="Validating")
    label, out = w.Label(), w.Output()
    label.add_class("chaos-progress")  # the line that moves (the browser test reads it)
    button = w.Button(description="Validate the fix", button_style="success")

    def progress(text: str) -> None:
        label.value = text
        phase, _, rest = text.partition(": ")
        try:
            done, total = (float(x) for x in rest.split(" s")[0].split(" / "))
        except ValueError:
            return
        # Recovery fills the first half of the bar, the steady window the second.
        base = 0.0 if phase == "recovering" else 0.5
        bar.bar_style = "info" if phase == "recovering" else ""
        bar.value = base + 0.5 * min(1.0, done / total if total else 1.0)

    def run():
        bar.value = 0.0
        result = scoring.validate(stack, progress=progress)
        with out:
            if result["passed"]:
                bar.value, bar.bar_style = 1.0, "success"
                print("Steady state holds and the cause is gone. Well done.")
            else:
                bar.bar_style = "danger"
                print("Not yet: " + "; ".join(result["problems"]))
        box.result = result
        return result
    action(button, out, run, busy="validating...")
    box = w.VBox([button, bar, label, out])
    box.run, box.result = button.run, None
    return box


def show_finish(stack: Stack) -> dict:
    """Reveal, score and write the postmortem; display them as Markdown."""
    done = scoring.finish(stack)
    path = scoring.postmortem(stack)
    truth = "\n".join(f"- **{t['scenario']}** ({t['family']}) on {', '.join(t['targets'])} {t['params'] or ''}"
                      for t in done["truth"])
    s = done["score"]
    display(Markdown(f"### The reveal\n{truth}\n\n### Your score: {s['points']} points\n"
                     + "\n".join(f"- {line}" for line in scoring.describe(s)[:-1])
                     + f"\n\nPostmortem written to `{path}`"))
    return {**done, "postmortem": str(path)}
