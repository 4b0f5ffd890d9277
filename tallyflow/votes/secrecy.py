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

# The smallest group of ballots of one region that a tally transaction commits while the
# election is open (TALLYFLOW_BALLOT_GROUP, docs/security.md).
DEFAULT_BALLOT_GROUP = 5


def ballot_group_cut(partitions, offsets, groups, ends: dict[int, int], k: int) -> dict[int, int]:
    """Where each partition's committed prefix must end so that no region's ballots can be
    told apart by the transaction that counted them.

    A batch commits the events before ``cut[p]`` of each partition ``p`` (``ends`` is where
    what it read ends). The counted ballots of an election still open are given as
    ``partitions``, ``offsets`` and ``groups`` (one id per election and region, ``-1`` for
    ballots that need no group: their election has closed and its backlog is draining).
    The cut makes every group either absent from the commit or present with at least ``k``
    ballots, *and* leaves at least ``k`` of that group behind, so that the last ballots of
    a region, counted when its election closes, form a group of ``k`` too. The voters
    checked in by one transaction in a region are therefore never fewer than ``k`` for the
    ballots that transaction adds there.

    Cuts only move back, one group at a time, until every group holds: the result is the
    longest such prefix this rule finds (possibly nothing).
    """
    import numpy as np

    cut = dict(ends)
    partitions = np.asarray(partitions, dtype=np.int64)
    offsets = np.asarray(offsets, dtype=np.int64)
    groups = np.asarray(groups, dtype=np.int64)
    held = groups >= 0
    if k <= 1 or not held.any():
        return cut
    partitions, offsets, groups = partitions[held], offsets[held], groups[held]
    order = np.lexsort((-offsets, groups))  # per group, the latest offsets first
    partitions, offsets, groups = partitions[order], offsets[order], groups[order]
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    bounds = list(zip(starts, np.r_[starts[1:], len(groups)], strict=True))
    while True:
        limit = np.array([cut[p] for p in partitions.tolist()], dtype=np.int64)
        inside = offsets < limit
        moved = False
        for lo, hi in bounds:
            kept = np.flatnonzero(inside[lo:hi]) + lo
            count = len(kept)
            left = (hi - lo) - count
            if count == 0 or (count >= k and left >= k):
                continue
            # Hold back the whole group, or just enough of its latest ballots.
            need = count if count < k or count - (k - left) < k else k - left
            for i in kept[:need]:
                p = int(partitions[i])
                if offsets[i] < cut[p]:
                    cut[p] = int(offsets[i])
                    moved = True
        if not moved:
            return cut
