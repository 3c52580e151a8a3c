"""What the `Game` façade hands back: plain, frozen data (never text to parse), one class per answer."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Record:
    """Every answer converts to a dict (the CLI's --json, the agent protocol)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class GameInfo(Record):
    """The game in progress (or the last one): its seed, difficulty, start and status; never its faults."""

    seed: int
    difficulty: str
    started_at: float
    status: str


@dataclass(frozen=True)
class Page(Record):
    """The game's first page: which alert, about which replica, when (and how long after the start)."""

    alertname: str
    replica: str
    summary: str
    received_at: float
    after_s: float


@dataclass(frozen=True)
class Finding(Record):
    """One thing a hypothesis names: a fault family and the replicas it affects."""

    family: str
    targets: tuple[str, ...]


@dataclass(frozen=True)
class Hypothesis(Record):
    """A recorded hypothesis (every version is kept): its findings and the evidence in the player's words.

    `no_fault` is the answer "nothing is wrong" (it has no findings).
    """

    version: int
    findings: tuple[Finding, ...]
    evidence: str
    at: float
    no_fault: bool = False


@dataclass(frozen=True)
class FixOffer(Record):
    """A fix the player may apply: its name, what it does, and the arguments it takes."""

    name: str
    description: str
    arguments: tuple[str, ...]


@dataclass(frozen=True)
class View(Record):
    """A read-only view a fix needs (the firewall rules, a disk's files): its name, what it shows, its arguments."""

    name: str
    description: str
    arguments: tuple[str, ...]


@dataclass(frozen=True)
class FixResult(Record):
    """A fix applied: its name, its arguments and what it returned (files deleted, rules removed...)."""

    name: str
    arguments: dict[str, Any]
    result: Any


@dataclass(frozen=True)
class Validation(Record):
    """The steady state proven (or not) over a window, and what was still wrong."""

    passed: bool
    problems: tuple[str, ...]
    window_s: float


@dataclass(frozen=True)
class Hint(Record):
    """A hint and what it cost."""

    level: int
    text: str
    cost: int


@dataclass(frozen=True)
class Fault(Record):
    """One revealed fault: the scenario, its family, its replicas and its strength in words and units."""

    scenario: str
    family: str
    description: str
    targets: tuple[str, ...]
    strength: str


@dataclass(frozen=True)
class Score(Record):
    """Times to detect, diagnose and recover, the diagnosis, what cost points, and the points."""

    points: int
    time_to_detect_s: float | None
    time_to_diagnose_s: float | None
    time_to_recover_s: float | None
    diagnosis_correct: bool
    findings_right: int
    findings_out_of: int
    hypotheses: int
    hints_used: int
    wrong_fixes: int
    deductions: dict[str, int] = field(default_factory=dict)
    #: Nothing was injected: the right answer was "no fault".
    no_fault_round: bool = False
    #: The final answer: "right", "wrong" or "declined" (given up, or no hypothesis).
    answer: str = ""
    #: Wrong and declined answers, counted apart (0 or 1 in one game; a leaderboard sums them).
    wrong_answers: int = 0
    declined_answers: int = 0
    #: The score as a person reads it, one line each.
    lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outcome(Record):
    """The end of a game: what was injected (no fault in a no-fault round), the score, the postmortem's path.

    `herrings` are the harmless anomalies a hard game planted to mislead (never the answer).
    """

    faults: tuple[Fault, ...]
    score: Score
    postmortem: str | None
    herrings: tuple[Fault, ...] = ()
