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

from . import config, detective, fixes, game, scoring
from .errors import ChaosError, UsageError
from .stack import Stack


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


def hypothesis_form(stack: Stack) -> w.VBox:
    """Record the hypothesis: family, affected targets, evidence in the player's words."""
    family = w.Dropdown(options=list(game.FAMILIES), description="Family")
    targets = w.SelectMultiple(options=stack.targets(), description="Targets", rows=4)
    evidence = w.Textarea(placeholder="What did you see that makes you think so?", description="Evidence",
                          layout=w.Layout(width="90%", height="6em"))
    submit = w.Button(description="Record hypothesis", button_style="primary")
    out = w.Output()

    def record():
        event = game.record_hypothesis(stack, family=family.value, targets=list(targets.value), evidence=evidence.value)
        with out:
            print(f"hypothesis v{event['version']} recorded: {event['family']} on {', '.join(event['targets'])}")
        return event
    action(submit, out, record, busy="recording...")
    box = w.VBox([family, targets, evidence, submit, out])
    box.submit = submit.run
    if autopilot():
        h = detective.verdict(stack, progress=print)
        if h.family:
            family.value, targets.value = h.family, tuple(h.targets)
            evidence.value = "; ".join(h.evidence)
            submit.run()
    return box


def fix_panel(stack: Stack) -> w.VBox:
    """The engineer's actions: firewall, disk, limits, restart. Each is recorded in the journal."""
    out = w.Output()
    tgt = lambda: w.Dropdown(options=stack.targets(), description="Target")  # noqa: E731

    def say(text: str) -> None:
        with out:
            print(text)

    fw_target = tgt()
    fw_list, fw_button = w.Button(description="Show firewall rules"), w.Button(description="Remove firewall rules")
    def show_rules():
        rules = fixes.firewall_rules(stack).to_dict("records")
        mine = [r for r in rules if fw_target.value in (r["source"], r["target"])]
        say(f"{fw_target.value}: " + (", ".join(f"{r['source']} -> {r['target']} drops {r['drop_fraction']:.0%}"
                                                for r in mine) or "no firewall rule"))
    action(fw_list, out, show_rules)
    action(fw_button, out, lambda: say(
        f"removed {game.apply_fix(stack, 'remove_firewall_rules', target=fw_target.value)['result']} rule(s)"
        f" affecting {fw_target.value}"), busy="removing...")

    disk_target, files = tgt(), w.SelectMultiple(description="Files", rows=6, layout=w.Layout(width="90%"))
    list_button, del_button = w.Button(description="List biggest files"), w.Button(description="Delete selected")

    def list_files():
        listing = fixes.disk_files(stack, target=disk_target.value)
        files.options = [(f"{r.path}  ({r.size_mib:.1f} MiB)", r.path) for r in listing.itertuples()]
        say(f"{disk_target.value}: {len(listing)} file(s), the biggest first")
    action(list_button, out, list_files, busy="listing...")

    def delete():
        if not files.value:
            raise UsageError("select the files to delete first", field="paths", hint="press List biggest files")
        done = game.apply_fix(stack, "delete_files", target=disk_target.value, paths=list(files.value))["result"]
        files.options = [(label, path) for label, path in files.options if path not in files.value]
        say(f"deleted {done}")
    action(del_button, out, delete, busy="deleting...")

    lim_target = tgt()
    cpu, mem = w.FloatText(value=1.0, description="CPU cores"), w.IntText(value=512, description="Memory MiB")
    lim_button = w.Button(description="Set limits and restart")
    def set_limits():
        limits = game.apply_fix(stack, "set_limits", target=lim_target.value, cpu=cpu.value, memory_mb=mem.value)
        got = limits["result"]
        say(f"{lim_target.value}: limits now {got.cpu:g} core(s), {got.memory / 2**20:.0f} MiB; restarted")
    action(lim_button, out, set_limits, busy="restarting with new limits...")

    rs_target, rs_button = tgt(), w.Button(description="Restart")
    action(rs_button, out, lambda: (game.apply_fix(stack, "restart", target=rs_target.value),
                                    say(f"restarted {rs_target.value}")), busy="restarting...")

    tab = w.Tab(children=[w.VBox([fw_target, w.HBox([fw_list, fw_button])]),
                          w.VBox([disk_target, list_button, files, del_button]),
                          w.VBox([lim_target, cpu, mem, lim_button]), w.VBox([rs_target, rs_button])])
    for i, title in enumerate(["Firewall", "Disk", "Limits", "Restart"]):
        tab.set_title(i, title)
    box = w.VBox([tab, out])
    box.buttons = {"show_rules": fw_list, "remove_rules": fw_button, "list_files": list_button,
                   "delete_files": del_button, "set_limits": lim_button, "restart": rs_button}
    if autopilot():
        _report(out, apply_matching_fix, stack)
    return box


def apply_matching_fix(stack: Stack) -> list[str]:
    """Autopilot: the fix that matches the latest hypothesis, using only what the player can see."""
    state = game.require_game(stack)
    hyps = state.all("hypothesis")
    if not hyps:
        raise ChaosError("no hypothesis recorded yet", hint="record one in 04-hypothesis")
    h, done = hyps[-1], []
    for t in h["targets"]:
        if h["family"] == "network":
            game.apply_fix(stack, "remove_firewall_rules", target=t)
        elif h["family"] == "disk":
            # The biggest files that are not the app's own, one at a time, until the disk has room
            # (the disk use status shows, read without probing every service again).
            for path in [p for p in fixes.disk_files(stack, target=t)["path"] if not config.is_app_file(p)][:3]:
                game.apply_fix(stack, "delete_files", target=t, paths=[path])
                if stack.backend.disk_usage(target=t).used_ratio <= scoring.DISK_FULL_RATIO:
                    break
            # A replica that crashed on the full disk stays down: status says so, restart it.
            if not any(s.name == t and s.state == "RUNNING" and s.healthy for s in stack.status()):
                game.apply_fix(stack, "restart", target=t)
        elif h["family"] == "resources":
            game.apply_fix(stack, "set_limits", target=t, cpu=1.0, memory_mb=512)
        done.append(f"{h['family']} fix on {t}")
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
