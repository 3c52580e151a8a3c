"""The game: a hidden fault in a live stack, found and fixed by a player, and scored.

Its one door is `Game` (game/facade.py): notebooks, widgets, the terminal, the benches and
agents play through it and get plain data back (game/records.py). Behind it: the session
(draw, injection, journal), the steady state, the detective, scoring and the postmortem.
"""
from chaoslib.game.facade import Game
from chaoslib.game.records import (
                                   Fault,
                                   Finding,
                                   FixOffer,
                                   FixResult,
                                   GameInfo,
                                   Hint,
                                   Hypothesis,
                                   Outcome,
                                   Page,
                                   Score,
                                   Validation,
)

__all__ = ["Game", "Fault", "Finding", "FixOffer", "FixResult", "GameInfo", "Hint", "Hypothesis", "Outcome", "Page",
           "Score", "Validation"]
