"""Ballots flowing while a fault is injected, and the independent count they are checked by.

``BallotFlow`` casts one ballot per voter at a steady rate, alternating the casting API and
a direct producer (as the simulator sends them), and records what each ballot was promised:
a 202 with its receipt, or the broker's acknowledgement. ``Verdict`` compares that record
with the ledger, the aggregates and each receipt's status.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from confluent_kafka import Producer

from jobs.certify_election import Services, certify_election
from jobs.tally_votes import run_micro_batches
from tallyflow import db
from tallyflow.votes.casting import Caster, receipt_of, receipt_status
from tallyflow.votes.event import VoteEvent

MAYORS = ["dana-moss", "eli-brandt", "farah-nasser", "gus-lindqvist"]


@dataclass
class BallotFlow:
    url: str
    bootstrap: str
    topic: str
    election_id: str
    voters: list[tuple[str, str, str]]  # (voter, credential, region), one ballot each
    rate: float = 60.0
    promised: dict[str, str] = field(default_factory=dict)  # receipt -> mayor
    api_receipts: list[str] = field(default_factory=list)
    refused: int = 0  # not promised: the API said 503, or the broker never acknowledged
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> BallotFlow:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop casting now (what is in flight is still flushed)."""
        self._stop.set()
        self.finish()

    def finish(self) -> None:
        """Wait until every voter has cast."""
        assert self._thread is not None
        self._thread.join(timeout=300)

    @property
    def cast(self) -> int:
        return len(self.promised) + self.refused

    def _acked(self, receipt: str, mayor: str):
        def on_delivery(err, _message) -> None:
            with self._lock:
                if err is None:
                    self.promised[receipt] = mayor
                else:
                    self.refused += 1
        return on_delivery

    def _run(self) -> None:
        caster = Caster(self.url, self.bootstrap, self.topic)
        producer = Producer({"bootstrap.servers": self.bootstrap, "enable.idempotence": True,
                             "acks": "all", "linger.ms": 5, "log_level": 3,
                             "topic.metadata.refresh.interval.ms": 1000})
        t0 = time.monotonic()
        try:
            for i, (_voter, credential, region) in enumerate(self.voters):
                if self._stop.is_set():
                    break
                mayor = MAYORS[i % len(MAYORS)]
                if i % 2 == 0:
                    answer = caster.cast(self.election_id, {
                        "credential": credential, "region_id": region,
                        "contests": [{"contest_id": "mayor", "selections": [mayor]}]})
                    with self._lock:
                        if answer.status == 202:
                            self.promised[answer.body["receipt"]] = mayor
                            self.api_receipts.append(answer.body["receipt"])
                        else:
                            self.refused += 1
                else:
                    event = VoteEvent.ballot(self.election_id, credential, region,
                                             {"mayor": [mayor]})
                    producer.produce(self.topic, event.to_json(), key=event.key,
                                     on_delivery=self._acked(
                                         receipt_of(event.event_id, credential), mayor))
                    producer.poll(0)
                ahead = (i + 1) / self.rate - (time.monotonic() - t0)
                if ahead > 0:
                    time.sleep(ahead)
        finally:
            producer.flush(120)
            caster.close()


def tally_until_settled(spark, url: str, bootstrap: str, topic: str, partitions: list[int],
                        flow: BallotFlow, timeout: float = 240.0,
                        ballot_group: int = 1) -> float:
    """Run the tally (again after any failure, as Airflow retries it) until every promised
    ballot is counted, rejected or waiting for its group; returns the seconds it took."""
    t0 = time.monotonic()
    while True:
        try:
            run_micro_batches(spark, url, bootstrap, topic, partitions, seconds=60,
                              stop_when_idle=True, ballot_group=ballot_group,
                              say=lambda _m: None)
        except Exception:
            time.sleep(1.0)  # a service is still coming back
            if time.monotonic() - t0 > timeout:
                raise
            continue
        if not unsettled(url, flow) or time.monotonic() - t0 > timeout:
            return time.monotonic() - t0
        time.sleep(0.5)


def unsettled(url: str, flow: BallotFlow) -> set[str]:
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute("select receipt from checkins where election_id = %(e)s "
                    "union select receipt from rejected_events where election_id = %(e)s "
                    "union select receipt from held_ballots where election_id = %(e)s",
                    {"e": flow.election_id})
        seen = {row[0] for row in cur.fetchall()}
    return set(flow.promised) - seen


@dataclass(frozen=True)
class Verdict:
    promised: int
    lost: int
    duplicated: int
    pending_receipts: int
    totals_match: bool


def verdict(url: str, flow: BallotFlow) -> Verdict:
    """Every promised ballot against the ledger, the aggregates and its receipt."""
    eid = flow.election_id
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute("select receipt from checkins where election_id = %s", (eid,))
        counted = [row[0] for row in cur.fetchall()]
        cur.execute("select count(*) from ballots where election_id = %s", (eid,))
        (ballots,) = cur.fetchone()
        cur.execute("select option_id, votes from option_totals where election_id = %s "
                    "and contest_id = 'mayor'", (eid,))
        totals = {option: votes for option, votes in cur.fetchall() if votes}
    lost = set(flow.promised) - set(counted)
    duplicated = (ballots - len(set(counted))) + (len(counted) - len(set(counted)))
    pending = sum(receipt_status(url, r).body["status"] == "pending" for r in flow.api_receipts)
    return Verdict(len(flow.promised), len(lost), duplicated, pending,
                   totals == dict(Counter(flow.promised.values())))


PARTITIONS = [0, 1, 2, 3]


def certify_in_a_row(spark, url: str, bootstrap: str, topic: str, partitions, eid: str, tmp_path):
    return certify_election(Services(
        url, bootstrap, topic, partitions, spark, quality_dir=tmp_path / "gx",
        certificates_dir=tmp_path / "certificates", say=lambda _m: None), eid, actor="test")


def report(name: str, flow: BallotFlow, result, recovered: float) -> None:
    print(f"\nreliability | {name} | {flow.cast} cast, {result.promised} promised | "
          f"lost {result.lost} | duplicated {result.duplicated} | "
          f"recovered in {recovered:.1f} s")
