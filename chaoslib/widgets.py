"""ipywidgets front ends over game.py, fixes.py and scoring.py, for the notebooks.

With CHAOSCTL_AUTOPILOT=1 the forms fill and submit themselves from the detective's
hypothesis, and the fix panel applies the matching fix: the notebooks run unattended in CI.
"""
from __future__ import annotations

import os

import ipywidgets as w
from IPython.display import Markdown, display

from . import config, detective, fixes, game, scoring
from .errors import ChaosError
from .stack import Stack


def autopilot() -> bool:
    """True when CI (or a facilitator) wants the notebooks to play themselves."""
    return os.environ.get("CHAOSCTL_AUTOPILOT", "") not in ("", "0", "false")


def _report(out: w.Output, fn, *args, **kwargs):
    with out:
        try:
            return fn(*args, **kwargs)
        except ChaosError as e:
            print(f"error: {e.one_line()}")
    return None


def play_panel(stack: Stack, *, default_seed: int | None = None) -> w.VBox:
    """Pick a difficulty (and a seed to replay), then start the incident."""
    difficulty = w.Dropdown(options=["easy", "normal", "hard"], value="normal", description="Difficulty")
    seed = w.IntText(value=default_seed or 0, description="Seed (0=random)")
    button = w.Button(description="Start the incident", button_style="danger")
    out = w.Output()

    def start(_=None):
        state = _report(out, game.play, stack, seed=seed.value or None, difficulty=difficulty.value)
        if state:
            with out:
                print(f"The incident has begun (seed {state.seed}, {state.difficulty}). Watch for the page.")
    button.on_click(start)
    box = w.VBox([w.HBox([difficulty, seed]), button, out])
    box.start = start
    return box


def hypothesis_form(stack: Stack) -> w.VBox:
    """Record the hypothesis: family, affected targets, evidence in the player's words."""
    family = w.Dropdown(options=list(game.FAMILIES), description="Family")
    targets = w.SelectMultiple(options=stack.targets(), description="Targets", rows=4)
    evidence = w.Textarea(placeholder="What did you see that makes you think so?", description="Evidence",
                          layout=w.Layout(width="90%", height="6em"))
    submit = w.Button(description="Record hypothesis", button_style="primary")
    out = w.Output()

    def record(_=None):
        event = _report(out, game.record_hypothesis, stack, family=family.value, targets=list(targets.value),
                        evidence=evidence.value)
        if event:
            with out:
                print(f"hypothesis v{event['version']} recorded: {event['family']} on {', '.join(event['targets'])}")
    submit.on_click(record)
    box = w.VBox([family, targets, evidence, submit, out])
    box.submit = record
    if autopilot():
        h = detective.verdict(stack)
        if h.family:
            family.value, targets.value = h.family, tuple(h.targets)
            evidence.value = "; ".join(h.evidence)
            record()
    return box


def fix_panel(stack: Stack) -> w.Tab:
    """The engineer's actions: firewall, disk, limits, restart. Each is recorded in the journal."""
    out = w.Output()
    tgt = lambda: w.Dropdown(options=stack.targets(), description="Target")  # noqa: E731

    fw_target, fw_button = tgt(), w.Button(description="Remove firewall rules")
    fw_button.on_click(lambda _: _report(out, lambda: print(
        f"removed {game.apply_fix(stack, 'remove_firewall_rules', target=fw_target.value)['result']} rule(s)")))

    disk_target, files = tgt(), w.SelectMultiple(description="Files", rows=6, layout=w.Layout(width="90%"))
    list_button, del_button = w.Button(description="List biggest files"), w.Button(description="Delete selected")
    list_button.on_click(lambda _: setattr(files, "options", list(
        fixes.disk_files(stack, target=disk_target.value)["path"])))
    del_button.on_click(lambda _: _report(out, lambda: print(
        f"deleted {game.apply_fix(stack, 'delete_files', target=disk_target.value, paths=list(files.value))['result']}")))

    lim_target = tgt()
    cpu, mem = w.FloatText(value=1.0, description="CPU cores"), w.IntText(value=512, description="Memory MiB")
    lim_button = w.Button(description="Set limits and restart")
    lim_button.on_click(lambda _: _report(out, lambda: print(
        game.apply_fix(stack, "set_limits", target=lim_target.value, cpu=cpu.value, memory_mb=mem.value)["result"])))

    rs_target, rs_button = tgt(), w.Button(description="Restart")
    rs_button.on_click(lambda _: _report(out, lambda: (game.apply_fix(stack, "restart", target=rs_target.value),
                                                       print(f"restarted {rs_target.value}"))))

    tab = w.Tab(children=[w.VBox([fw_target, fw_button]), w.VBox([disk_target, list_button, files, del_button]),
                          w.VBox([lim_target, cpu, mem, lim_button]), w.VBox([rs_target, rs_button])])
    for i, title in enumerate(["Firewall", "Disk", "Limits", "Restart"]):
        tab.set_title(i, title)
    box = w.VBox([tab, out])
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
    """Prove the steady state over a window (with progress), then reveal, score and write the postmortem."""
    bar = w.FloatProgress(min=0, max=1, description="Validating")
    label, out = w.Label(), w.Output()
    button = w.Button(description="Validate the fix", button_style="success")

    def run(_=None):
        window = scoring.validation_window()

        def progress(text: str) -> None:
            label.value = text
            if text.startswith("steady state holding"):
                bar.value = min(1.0, float(text.split(":")[1].split("/")[0]) / window)
        result = _report(out, scoring.validate, stack, progress=progress)
        if result is None:
            return None
        with out:
            if result["passed"]:
                bar.value = 1.0
                print("Steady state holds and the cause is gone. Well done.")
            else:
                print("Not yet: " + "; ".join(result["problems"]))
        box.result = result
        return result
    button.on_click(run)
    box = w.VBox([button, bar, label, out])
    box.run, box.result = run, None
    return box


def show_finish(stack: Stack) -> dict:
    """Reveal, score and write the postmortem; display them as Markdown."""
    done = scoring.finish(stack)
    path = scoring.postmortem(stack)
    truth = "\n".join(f"- **{t['scenario']}** ({t['family']}) on {', '.join(t['targets'])} {t['params'] or ''}"
                      for t in done["truth"])
    s = done["score"]
    display(Markdown(f"### The reveal\n{truth}\n\n### Your score: {s['points']} points\n"
                     + "\n".join(f"- {k.replace('_', ' ')}: {v}" for k, v in s.items() if k != "points")
                     + f"\n\nPostmortem written to `{path}`"))
    return {**done, "postmortem": str(path)}
