"""Release 2026.12.2's "live tallies": each choice's count re-read from the database, one query per choice.

The N+1 query of the slow-release fault: a page or API answer with N choices issues N more
queries (times the release's tally_queries), so that replica's reads slow down while the
others' do not. Each extra query is an ordinary ORM read (what pg_stat_activity shows is what
such a release would send) and pays `tally_delay_ms` of round trip: here the database is on the
loopback (a tenth of a millisecond), where a production database is a network hop away, and an
N+1 costs its round trips. A good release has tally_queries 0 and never enters this loop.
"""
from __future__ import annotations

import time

from django.conf import settings
from django.db import connection

#: The read an ORM sends for one choice's count (`Choice.objects.values_list("votes")`), by its id.
_READ = 'SELECT "polls_choice"."votes" FROM "polls_choice" WHERE "polls_choice"."id" = %s LIMIT 1'


def live_votes(choice_id: int, stored: int) -> int:
    """The choice's count as the running release reads it: `stored` unless the release re-reads it."""
    release = settings.RELEASE
    if not release.tally_queries:
        return stored
    votes = stored
    with connection.cursor() as cur:
        for _ in range(release.tally_queries):
            if release.tally_delay_ms:
                time.sleep(release.tally_delay_ms / 1000)  # the round trip the loopback does not cost
            cur.execute(_READ, [choice_id])
            row = cur.fetchone()
            if row is not None:
                votes = row[0]
    return votes
