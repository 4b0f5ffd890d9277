"""Step 2: tally every ballot the broker holds, to the ends it had when the drain began."""

from __future__ import annotations

import time
from collections.abc import Callable

from tallyflow.certification.steps import CertificationRefused, step
from tallyflow.kafka import partition_ends, topic_partitions
from tallyflow.votes import ledger, outbox


def drain(url: str, election_id: str, bootstrap: str, topic: str, partitions: list[int],
          run_tally: Callable[[], object], *, actor: str, timeout: float = 900.0,
          stalled_grace: float = 30.0, say: Callable[[str], None] = print) -> dict[int, int]:
    """Tally until every partition is read to the end it had when the drain began.

    ``run_tally`` runs micro-batches until the topic is drained; when another tally holds
    the tally lock it returns at once and the drain waits for that one to catch up.
    Returns the final offsets (next offset to read, per partition).

    Ballots of another election still open may be held back for their group of k
    (``tallyflow.votes.secrecy``), and a partition's offset cannot move past them. When
    nothing moves for ``stalled_grace`` seconds the drain has the tally count them now, in
    smaller groups if need be, for a minute, and records why (``release_ballot_groups``,
    as ``tallyflow down`` does): one election's certification never waits on another's
    voters.
    """
    with step(url, election_id, "drain", actor) as detail:
        # Every receipted ballot in the broker first: the ends below then cover them all.
        publisher = outbox.Publisher(url, bootstrap, topic)
        try:
            relayed = outbox.relay(url, publisher, grace_seconds=0.0)
        finally:
            publisher.close()
        if relayed.unpublished:
            raise CertificationRefused(
                f"the broker did not take {relayed.unpublished:,} receipted ballot(s) from "
                "the outbox", [{"check": "outbox", "where": topic,
                                "expected": "every receipted ballot published",
                                "found": f"{relayed.unpublished:,} unpublished"}])
        if relayed.published:
            say(f"outbox: published {relayed.published:,} receipted ballot(s) first")
        # Partitions added to the topic since the settings were written are drained too.
        partitions = sorted(set(partitions) | set(range(topic_partitions(bootstrap)[topic])))
        ends = partition_ends(bootstrap, topic, partitions)
        say(f"draining {topic}: reading every partition to {ends}")
        committed = _tally_to(url, election_id, topic, ends, run_tally, detail,
                              timeout=timeout, stalled_grace=stalled_grace, say=say)
        outbox.settle(url, topic)
        detail.update(topic=topic, final_offsets=committed.to_json())
    return committed


def _tally_to(url: str, election_id: str, topic: str, ends: dict[int, int],
              run_tally: Callable[[], object], detail: dict, *, timeout: float,
              stalled_grace: float, say: Callable[[str], None]):
    """Run the tally until its committed offsets reach ``ends``; release held ballot
    groups once when nothing moves for ``stalled_grace`` seconds (see :func:`drain`)."""
    partitions = sorted(ends)
    deadline = time.monotonic() + timeout
    last_behind, moved_at, released = None, time.monotonic(), False
    while True:
        run_tally()
        committed = ledger.committed_offsets(url, topic, partitions)
        behind = sum(max(0, ends[p] - committed[p]) for p in partitions)
        if not behind:
            return committed
        if behind != last_behind:
            last_behind, moved_at = behind, time.monotonic()
        elif not released and time.monotonic() - moved_at > stalled_grace:
            ledger.release_ballot_groups(url, 60.0, (
                f"certifying {election_id}: {behind:,} event(s) held back for their group "
                "in another open election stopped the drain; counted now, in smaller groups "
                "if need be"))
            released = True
            detail["released_ballot_groups"] = behind
            say(f"{behind:,} event(s) of another open election held back for their group: "
                "the tally counts them now, in smaller groups if need be (recorded)")
        if time.monotonic() > deadline:
            raise CertificationRefused(
                f"the tally did not drain {topic} within {timeout:.0f} s",
                [{"check": "drain", "where": topic, "expected": "0 events behind",
                  "found": f"{behind:,} events behind"}])
        say(f"{behind:,} events not tallied yet; waiting for the running tally")
        time.sleep(1.0)
