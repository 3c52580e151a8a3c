"""The app's releases as data: which versions exist, which are good, and what each faulty one does.

A Python table inside the app rather than a YAML file under stack/: the app itself must read it
at boot (a replica runs the release its APP_RELEASE names, with that release's knobs) without a
YAML parser in every replica, it travels with the app's code into its image, mypy checks it, and
chaoslib imports the same table to roll replicas and to name the known releases in its errors.
The faulty behaviours are real code paths (pollapp/polls/rollout.py), switched on only by a
release's knobs: a good release has both at zero and never enters them.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Release:
    """One release of the app: its version, build revision, whether it is good, and its knobs."""

    version: str
    revision: str
    summary: str
    good: bool = True
    #: Share (0..1) of votes whose new serializer fails (KeyError: 'weight') with a 500, nothing stored.
    vote_error_share: float = 0.0
    #: Extra queries per choice when a poll is read (0: none; 1: a plain N+1 over the choices).
    tally_queries: int = 0
    #: Server-side wait in each of those queries, in milliseconds (pg_sleep): the knob of the slow path.
    tally_delay_ms: float = 0.0


#: The release every replica runs in a healthy stack, and the one panic puts every replica back on.
CURRENT = "2026.12.0"
#: The good release before it: what a rollback of CURRENT goes to.
PREVIOUS = "2026.11.3"
#: The release whose vote path fails for a share of requests.
FAULTY_VOTES = "2026.12.1"
#: The release whose reads issue an N+1 query over the choices.
SLOW_READS = "2026.12.2"

RELEASES: dict[str, Release] = {r.version: r for r in (
    Release(PREVIOUS, "8c41d2e", "poll pages cached per question; dependency updates"),
    Release(CURRENT, "b7e09a4", "vote receipts in the API; Django security release"),
    Release(FAULTY_VOTES, "f3a5c11", "weighted votes: a new vote serializer", good=False, vote_error_share=0.3),
    Release(SLOW_READS, "2d9be70", "live tallies: each choice's count recomputed from its votes", good=False,
            tally_queries=1, tally_delay_ms=1.0),
)}

#: Environment variables that override a release's knobs (how a fault family sets its strength).
KNOB_ENV = {"vote_error_share": "APP_VOTE_ERROR_SHARE", "tally_queries": "APP_TALLY_QUERIES",
            "tally_delay_ms": "APP_TALLY_DELAY_MS"}
#: Every variable that says which release a process runs: the version and its knobs.
RELEASE_VARS = ("APP_RELEASE", *KNOB_ENV.values())
#: Names a release file (KEY=VALUE lines of RELEASE_VARS) that replaces the environment's release when it
#: exists: how a container is rolled without recreating it (the docker backend writes it, pollapp.launch reads it).
FILE_ENV = "APP_RELEASE_FILE"


class UnknownRelease(ValueError):
    """A version the table does not name."""


def known() -> list[str]:
    """Every version, oldest first."""
    return sorted(RELEASES)


def good() -> list[str]:
    """The good versions, oldest first."""
    return [v for v in known() if RELEASES[v].good]


def get(version: str) -> Release:
    """The release named `version`; UnknownRelease naming the known ones otherwise."""
    try:
        return RELEASES[version]
    except KeyError:
        raise UnknownRelease(f"unknown release {version!r}: releases are {', '.join(known())}") from None


def environment(version: str) -> dict[str, str]:
    """What a replica's environment needs to run `version` (checked against the table)."""
    return {"APP_RELEASE": get(version).version}


def from_environment(env: Mapping[str, str]) -> Release:
    """The release a process runs: APP_RELEASE (CURRENT when unset), its knobs overridden by KNOB_ENV."""
    release = get(env.get("APP_RELEASE") or CURRENT)
    changes: dict[str, float | int] = {}
    for knob, var in KNOB_ENV.items():
        raw = env.get(var)
        if raw:
            try:
                changes[knob] = int(raw) if knob == "tally_queries" else float(raw)
            except ValueError:
                raise UnknownRelease(f"{var} must be a number, got {raw!r}") from None
    share = changes.get("vote_error_share", release.vote_error_share)
    if not 0.0 <= share <= 1.0:
        raise UnknownRelease(f"APP_VOTE_ERROR_SHARE must be between 0 and 1, got {share}")
    return replace(release, **changes) if changes else release  # type: ignore[arg-type]


def parse_file(text: str) -> dict[str, str]:
    """A release file's variables (KEY=VALUE lines; blank lines and # comments skipped), checked by name."""
    out: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or key.strip() not in RELEASE_VARS:
            raise UnknownRelease(f"release file line {n}: expected one of {', '.join(RELEASE_VARS)}=VALUE, "
                                 f"got {line[:60]!r}")
        out[key.strip()] = value.strip()
    return out


def render_file(version: str, knobs: Mapping[str, str] | None = None) -> str:
    """The release file that runs `version` with `knobs` (KNOB_ENV variables) overriding its own."""
    lines = [f"APP_RELEASE={get(version).version}"]
    lines += [f"{var}={(knobs or {})[var]}" for var in KNOB_ENV.values() if (knobs or {}).get(var)]
    return "\n".join(lines) + "\n"


def with_file(env: Mapping[str, str], text: str | None) -> dict[str, str]:
    """`env` as a process runs with the release file `text` (None: no file, `env` as it is): the file's
    variables replace every release variable of `env`, so a file without knobs runs its release's own."""
    out = dict(env)
    if text is None:
        return out
    for var in RELEASE_VARS:
        out.pop(var, None)
    out.update(parse_file(text))
    from_environment(out)  # an unknown version or a bad knob fails here, before anything starts
    return out
