"""What the ledger keeps of a rejected event: enough to say why it was refused and to
find it again, never a ballot's selections next to who cast it.

A rejected event is kept (nothing is dropped silently), but its message is kept redacted
(``kept_payload``): the credential is replaced by its SHA-256 (what the roll stores, so an
auditor can still tell whose attempt it was) and the selections are removed. A message
that is not a JSON object (``malformed``) keeps its bytes with every credential-like run
of 32 hex digits removed, so no selection it may hold sits next to a credential.
"""

from __future__ import annotations

import json
import re

from tallyflow.votes.event import credential_sha256

CREDENTIAL_LIKE = re.compile(rb"(?<![0-9A-Fa-f])[0-9A-Fa-f]{32}(?![0-9A-Fa-f])")
REMOVED_CREDENTIAL = b"[credential removed]"
REMOVED_SELECTIONS = "[removed: a rejected ballot keeps no selections]"


def kept_payload(value: bytes | None) -> bytes | None:
    """The rejected message as the ledger keeps it."""
    if value is None:
        return None
    try:
        event = json.loads(value)
    except (ValueError, UnicodeDecodeError, RecursionError):
        event = None
    if not isinstance(event, dict):
        return CREDENTIAL_LIKE.sub(REMOVED_CREDENTIAL, value)
    kept = {key: item for key, item in event.items() if key not in ("credential", "contests")}
    credential = event.get("credential")
    if isinstance(credential, str):
        kept["credential_sha256"] = credential_sha256(credential)
    elif credential is not None:
        kept["credential"] = "[removed]"
    if "contests" in event:
        kept["contests"] = REMOVED_SELECTIONS
    # A credential under any other name goes too.
    return CREDENTIAL_LIKE.sub(REMOVED_CREDENTIAL, json.dumps(kept, sort_keys=True).encode())


# -- counting ballots in groups ----------------------------------------------------------

# The smallest group of ballots of one region that a tally transaction counts
# (TALLYFLOW_BALLOT_GROUP, docs/security.md).
DEFAULT_BALLOT_GROUP = 5


def ballots_to_count(groups, order, final, k: int):
    """Which ballots a tally transaction counts now, as a boolean array: the rest wait for
    their group (``held_ballots``).

    Per ballot: ``groups``, one id per election and region (``-1``: no group needed, count
    now), ``order``, when it came (earlier first; unique), and ``final``, whether this is
    its group's last count (the election has closed and every ballot it can still get is
    in). The ballots given are every ballot of the groups they name that is not counted
    yet: those held before and those just read.

    A group of ``n`` ballots counts its ``n - k`` earliest once ``n >= 2k`` and keeps its
    ``k`` latest back, so that the last ballots of a region, counted at close, form a group
    of ``k`` too; a final count takes them all. So every (transaction, region) set of
    counted ballots holds at least ``k`` (or every ballot the region had, when it had fewer
    than ``k`` in the whole election), and at most ``2k - 1`` of a region wait while it is
    open. With ``k <= 1`` everything counts at once.
    """
    import numpy as np

    groups = np.asarray(groups, dtype=np.int64)
    count = np.ones(len(groups), dtype=bool)
    grouped = np.flatnonzero(groups >= 0)
    if k <= 1 or not len(grouped):
        return count
    order = np.asarray(order, dtype=np.int64)
    final = np.asarray(final, dtype=bool)
    by = grouped[np.lexsort((order[grouped], groups[grouped]))]  # per group, earliest first
    ids = groups[by]
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    sizes = np.diff(np.r_[starts, len(ids)])
    size = np.repeat(sizes, sizes)
    position = np.arange(len(ids)) - np.repeat(starts, sizes)
    last = np.repeat(np.logical_or.reduceat(final[by], starts), sizes)
    count[by] = last | ((size >= 2 * k) & (position < size - k))
    return count
