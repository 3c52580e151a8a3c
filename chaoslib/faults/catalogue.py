"""What a fault family is made of: scenarios over backend primitives, strengths, fixes, a detective rule.

A family is one module in chaoslib/faults/ exporting one `Family`. Everything the game needs
to know about it lives there, so the game, the draw, scoring, widgets, the detective and the
benchmarks loop over the catalogue and never name a family.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chaoslib.backends.base import Backend, Probe
from chaoslib.errors import UsageError
from chaoslib.stack import Stack

#: Records one undo step of a fault being injected (a primitive's name and its keyword
#: arguments), before the change it undoes: the injector writes it to the fault's record.
RecordUndo = Callable[[dict[str, Any]], None]
DIFFICULTIES = ("easy", "normal", "hard")


@dataclass(frozen=True)
class Param:
    """A scenario parameter: its type, its allowed range and its default."""

    kind: type
    low: float
    high: float
    default: float
    help: str = ""
    #: The value in words and units for a person ("{value:.0%} of the packets"): the reveal and the postmortem.
    words: str = "{name} {value}"

    def describe(self, name: str, value: Any) -> str:
        """The value as a person reads it, in words and units."""
        return self.words.format(name=name, value=value)

    def parse(self, name: str, raw: Any) -> Any:
        """The value as its type, or a one-line error naming the parameter and its range."""
        try:
            value = self.kind(raw)
        except (TypeError, ValueError) as e:
            raise UsageError(f"parameter {name} must be a {self.kind.__name__}, got {raw!r}",
                             field=name, value=raw) from e
        if not self.low <= value <= self.high:
            raise UsageError(f"parameter {name} must be between {self.low} and {self.high}, got {value}",
                             field=name, value=value, hint=self.help)
        return value


@dataclass(frozen=True)
class Strength:
    """How strong the draw makes a scenario at one difficulty: a parameter drawn in [low, high]."""

    param: str
    low: float
    high: float


@dataclass(frozen=True)
class Scenario:
    """One variant of a fault family: an action (a plain function over backend primitives) and its data."""

    name: str
    family: str
    action: Callable[..., None]
    description: str
    params: dict[str, Param] = field(default_factory=dict)
    min_targets: int = 1
    max_targets: int = 9
    #: Flags of backends.base.Features this scenario needs.
    requires: frozenset[str] = frozenset()
    #: Per difficulty, the strength the draw gives it (none: it has no strength to draw).
    strength: dict[str, Strength] = field(default_factory=dict)
    #: The draw puts it on one replica only (a second one would take the service down).
    drawn_alone: bool = False
    #: On easy, the draw puts it on every replica (loud and simple to see).
    easy_everywhere: bool = False
    #: A fault of a shared service (the database): every replica meets it, so the draw always names them all.
    everywhere: bool = False
    #: Hard mode may add it as the second fault of an incident.
    second_fault: bool = True
    #: A red herring: a harmless anomaly planted to mislead (no page, objectives intact), never the answer.
    benign: bool = False


@dataclass
class Finding:
    """One thing the detective (or a player) names: a family, its replicas, why."""

    family: str
    targets: list[str]
    cause: str = ""
    evidence: list[str] = field(default_factory=list)
    confidence: float = 0.0

    def key(self) -> tuple[str, tuple[str, ...]]:
        """The finding as compared with the truth: its family and its sorted replicas."""
        return self.family, tuple(sorted(self.targets))


#: The detective's answer when a family's evidence points somewhere but is still thin.
@dataclass
class Pending:
    """A family whose evidence is still thin: the detective waits rather than name too little."""

    family: str
    reason: str
    evidence: list[str] = field(default_factory=list)


class Signals:
    """Per-replica figures over the last few minutes, as the notebooks query them, by signal name.

    Each family says which it reads (its `queries`, and the names its `gather` fills); a
    signal nobody measured reads as empty, and a name no family declares is an error (a
    misspelt signal in a rule must fail, not read as "nothing seen").
    """

    def __init__(self, window_s: float = 300.0, **values: dict[str, float]) -> None:
        #: How many seconds of evidence these figures cover.
        self.window_s = float(window_s)
        self.values = {k: dict(v) for k, v in values.items()}

    def __getattr__(self, name: str) -> dict[str, float]:
        if name.startswith("__") or name in ("values", "window_s"):
            raise AttributeError(name)
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(f"unknown signal {name!r}: signals are {', '.join(sorted(self.values))}") from None

    def __repr__(self) -> str:
        return f"Signals(window_s={self.window_s:.0f}, {self.values!r})"


#: A detective rule: the signals and the replicas already explained by stronger rules, to a
#: Finding, a Pending, or None when this family sees nothing.
Rule = Callable[[Signals, "set[str]"], "Finding | Pending | None"]


#: game.apply_fix: (stack, fix name, **arguments) -> {"fix": name, "result": ...}; it runs one of
#: the player's fixes and journals it. Handed down to a family, so a family never imports the game.
Apply = Callable[..., dict[str, Any]]
#: A fix tab's widget and its buttons by name (ipywidgets objects, which have no types).
TabWidgets = tuple[Any, dict[str, Any]]
#: A no-argument check, seen from outside, that a fault's effect bites now (see Family.effect_probe).
EffectCheck = Callable[[], bool]


@dataclass(frozen=True)
class FixUI:
    """What the fix panel hands a family's tab builder (so a family never imports the widgets module)."""

    stack: Stack
    #: The panel's output area: a button's error shows there as one line.
    out: Any
    #: Print one line in the output area.
    say: Callable[[str], None]
    #: widgets.action(button, out, fn, busy=...): a button that runs fn once per click, errors in one line.
    action: Callable[..., None]
    #: A new dropdown of the stack's replicas.
    target_dropdown: Callable[[], Any]
    #: game.apply_fix, so every fix is journalled and scored.
    apply: Apply


@dataclass(frozen=True)
class FixTab:
    """How the fix panel offers a family's fixes: a tab title and a builder of its widgets."""

    title: str
    #: build(ui) -> (the tab's widget, {button name: button}); see widgets.fix_panel.
    build: Callable[[FixUI], TabWidgets]


@dataclass(frozen=True)
class Family:
    """Everything about one fault family, in one place."""

    name: str
    scenarios: tuple[Scenario, ...]
    #: (backend, the fault's targets) -> (its effect is undone?, what is still in place, in words).
    effect_gone: Callable[[Backend, list[str]], tuple[bool, str]]
    #: The player's fixes by name: plain functions (stack, *, target, ...) recorded by game.apply_fix.
    fixes: dict[str, Callable[..., Any]]
    #: The autopilot's fix for one replica, from what the player can see, through `apply`
    #: (game.apply_fix): autofix(stack, target, apply) -> what it did, in words.
    autofix: Callable[[Stack, str, Apply], str]
    #: The detective's rule, and its priority (lower runs first and claims its replicas).
    rule: Rule
    priority: int
    #: What the second hint says about this family: where to look.
    hint: str
    #: Prometheus queries the rule reads: signal name -> PromQL with {w} (the window) and {w1} (<= 1 min).
    queries: dict[str, str] = field(default_factory=dict)
    #: Extra signals from the logs or the backend: (stack, since) -> {signal name: {replica: value}}.
    gather: Callable[[Stack, float], dict[str, dict[str, float]]] | None = None
    #: The signal names `gather` fills (read as empty when it cannot be read).
    gathered: tuple[str, ...] = ()
    #: Read-only views a player's fixes need, by name ("disk-files"): plain functions (stack, *, ...)
    #: returning a DataFrame to look at before fixing (the terminal's `chaosctl fix --show`).
    views: dict[str, Callable[..., Any]] = field(default_factory=dict)
    #: The fix panel's tab for this family (None: its fixes are offered elsewhere).
    fix_tab: FixTab | None = None
    #: A check, seen from outside, that a scenario's effect now bites: (scenario, target, the
    #: backend's probe()) -> a no-argument check, used by the benchmarks.
    effect_probe: Callable[[str, str, Probe], EffectCheck] | None = None
    #: The draw picks it when no family is asked for (False: only when asked by name, or with `all`).
    default_draw: bool = True


def known_target(stack: Stack, target: str) -> str:
    """`target` if it is one of the stack's replicas, else a one-line error listing them."""
    known = stack.targets()
    if target not in known:
        raise UsageError(f"unknown target {target!r}", field="target", value=target,
                         hint=f"targets are {', '.join(known)}")
    return target
