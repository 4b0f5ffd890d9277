"""Step 2: tally every ballot the broker holds, to the ends it had when the drain began."""

from __future__ import annotations

import time
from collections.abc import Callable

from tallyflow.certification.steps import CertificationRefused, step
from tallyflow.kafka import partition_ends, topic_partitions
from tallyflow.votes import held, ledger, outbox


def drain(url: str, election_id: str, bootstrap: str, topic: str, partitions: list[int],
          run_tally: Callable[[], object], *, actor: str, timeout: float = 900.0,
          say: Callable[[str], None] = print) -> dict[int, int]:
    """Tally until every partition is read to the end it had when the drain began and
    none of the election's ballots waits for its group any more.

    ``run_tally`` runs micro-batches until the topic is drained; when another tally holds
    the tally lock it returns at once and the drain waits for that one to catch up.
    Returns the final offsets (next offset to read, per partition). Another election's
    ballots waiting for their group (``held_ballots``) hold up nothing: the offsets are
    past them.
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
        committed = _tally_to(url, election_id, topic, ends, run_tally, timeout=timeout,
                              say=say)
        outbox.settle(url, topic)
        detail.update(topic=topic, final_offsets=committed.to_json())
    return committed


def _tally_to(url: str, election_id: str, topic: str, ends: dict[int, int],
              run_tally: Callable[[], object], *, timeout: float,
              say: Callable[[str], None]):
    """Run the tally until its committed offsets reach ``ends`` and the election's last
    groups of ballots are counted (see :func:`drain`)."""
    partitions = sorted(ends)
    deadline = time.monotonic() + timeout
    while True:
        run_tally()
        committed = ledger.committed_offsets(url, topic, partitions)
        behind = sum(max(0, ends[p] - committed[p]) for p in partitions)
        waiting = held.waiting(url, election_id)
        if not behind and not waiting:
            return committed
        if time.monotonic() > deadline:
            raise CertificationRefused(
                f"the tally did not drain {topic} within {timeout:.0f} s",
                [{"check": "drain", "where": topic,
                  "expected": "0 events behind, 0 ballots waiting for their group",
                  "found": f"{behind:,} events behind, {waiting:,} ballots waiting"}])
        say(f"{behind:,} events not tallied yet, {waiting:,} ballot(s) of {election_id} "
            "waiting for their group; waiting for the running tally")
        time.sleep(1.0)
