"""Release 2026.12.2's "live tallies": each choice's count re-read from the database, one query per choice.

The N+1 query of the slow-release fault: a page or API answer with N choices issues N more
queries (times the release's tally_queries, each waiting tally_delay_ms in the server), so that
replica's reads slow down while the others' do not. A good release has tally_queries 0 and
never enters this module's loop.
"""
from __future__ import annotations

from django.conf import settings
from django.db import connection


def live_votes(choice_id: int, stored: int) -> int:
    """The choice's count as the running release reads it: `stored` unless the release re-reads it."""
    release = settings.RELEASE
    if not release.tally_queries:
        return stored
    votes = stored
    with connection.cursor() as cur:
        for _ in range(release.tally_queries):
            if release.tally_delay_ms:
                cur.execute("SELECT votes, pg_sleep(%s) FROM polls_choice WHERE id = %s",
                            [release.tally_delay_ms / 1000, choice_id])
            else:
                cur.execute("SELECT votes FROM polls_choice WHERE id = %s", [choice_id])
            row = cur.fetchone()
            if row is not None:
                votes = row[0]
    return votes
