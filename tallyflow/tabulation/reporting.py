"""How results are reported by ballot style and vote method: the vote methods in the order
every report lists them, their names, and a contest's heading with its district and the
party of its primary. The results site and the certificate both use these."""

from __future__ import annotations

from tallyflow.votes.event import CHANNELS

# The event's channels, as every report lists them: in person, mail, online.
VOTE_METHODS = tuple(sorted(CHANNELS))
VOTE_METHOD_NAMES = {"in_person": "In person", "mail": "Mail", "online": "Online"}


def contest_heading(title: str, district: str | None = None,
                    party: str | None = None) -> str:
    """A contest's title with its district and its primary's party ("Mayor (Civic List
    primary)"), each left out where the title already says it."""
    said = title.casefold()
    notes = [note for note in (district, f"{party} primary" if party else None)
             if note and note.casefold() not in said]
    return f"{title} ({', '.join(notes)})" if notes else title
