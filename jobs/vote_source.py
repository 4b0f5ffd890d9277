"""Kafka vote events with their voters looked up where they are read.

``format("tallyflow_votes")`` is ``tallyflow_kafka`` (``jobs.kafka_source``) plus the voter
each event's credential belongs to. The task that reads a partition also reads each event's
``election_id`` and ``credential``, hashes the credential and looks the voters up in Postgres,
one query per Arrow batch: the events never go back and forth between Spark and Python for
it, and no roll or list of credentials passes through the driver.

The same query round also reads each event's election as it stands after the event was
read (status, opening and closing times, the instant it was opened): the tally judges
whether a ballot came while the election was open against that state, never against one
read before the ballot arrived. And when the casting API took the event in (its
``submissions`` row): the time an API ballot is judged by, which its outbox may publish
long after; any other event is judged by the broker's timestamp, never by a time the
event itself claims.

This is only a lookup. The job still parses and checks every event itself and keeps a voter
and an election state only where its own parse finds the same election and credential hash
(``jobs.tally_transforms.with_voters``).

Options: those of ``tallyflow_kafka`` and ``database_url``.
"""

from __future__ import annotations

from collections.abc import Iterator

from pyspark.sql.types import (
    BooleanType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from jobs.kafka_source import KAFKA_ROW, KafkaRangeReader, KafkaRangeSource, OffsetRange
from tallyflow.votes.event import CREDENTIAL_TEXT, SLUG, UUID_TEXT, credential_sha256

# What the tally needs to know of an event's voter.
VOTER_FIELDS = [
    StructField("voter_id", StringType()),
    StructField("region_id", StringType()),
    StructField("age_band", StringType()),
    StructField("gender", StringType()),
    StructField("has_voted", BooleanType()),
    StructField("party_id", StringType()),
]
# The election's state as read after the event: what its time is judged against.
ELECTION_STATE_FIELDS = [
    StructField("election_status", StringType()),
    StructField("election_opens_at", TimestampType()),
    StructField("election_closes_at", TimestampType()),
    StructField("election_opened_at", TimestampType()),
]
# When the casting API took the event in, if it did, and the event id that was looked up.
SUBMISSION_FIELDS = [
    StructField("looked_up_event_id", StringType()),
    StructField("submitted_at", TimestampType()),
]
# The columns a read adds to each message: the key it looked up, then the voter, then the
# election's state, then the casting API's record of the event.
LOOKUP_FIELDS = [
    StructField("looked_up_election_id", StringType()),
    StructField("looked_up_credential_sha256", StringType()),
    *VOTER_FIELDS,
    *ELECTION_STATE_FIELDS,
    *SUBMISSION_FIELDS,
]
VOTE_ROW = StructType([*KAFKA_ROW.fields, *LOOKUP_FIELDS])
# The event's own patterns (tallyflow.votes.event), so a lookup never disagrees with the check.
CREDENTIAL, EVENT_ID, ELECTION_ID = CREDENTIAL_TEXT, UUID_TEXT, SLUG


def event_keys(values: list[bytes | None]) -> tuple[list[tuple[str, str] | None],
                                                      list[str | None]]:
    """Per event value: (election_id, sha256 hex of the credential), None where either is not
    there as the event schema has it (not JSON, not an object, not strings, an election id
    that is not an id, or a credential that is not 32 lowercase hex characters); and its
    event id in lower case, None where it is not a UUID. Nothing else is looked up (a NUL
    byte, say, could not even be sent to the database)."""
    import orjson

    keys: list[tuple[str, str] | None] = []
    ids: list[str | None] = []
    for value in values:
        key = event_id = None
        if value is not None:
            try:
                event = orjson.loads(value)
            except orjson.JSONDecodeError:
                event = None
            if isinstance(event, dict):
                election_id, credential = event.get("election_id"), event.get("credential")
                if (isinstance(election_id, str) and isinstance(credential, str)
                        and ELECTION_ID.fullmatch(election_id)
                        and CREDENTIAL.fullmatch(credential)):
                    key = (election_id, credential_sha256(credential))
                given = event.get("event_id")
                if isinstance(given, str) and EVENT_ID.fullmatch(given):
                    event_id = given.lower()
        keys.append(key)
        ids.append(event_id)
    return keys, ids


def credential_keys(values: list[bytes | None]) -> list[tuple[str, str] | None]:
    """The (election_id, credential hash) half of ``event_keys``."""
    return event_keys(values)[0]


def look_up(cur, keys: list[tuple[str, str] | None],
            event_ids: list[str | None] | None = None) -> list[tuple]:
    """One row of ``LOOKUP_FIELDS`` values per key; voter fields are None where no voter of
    that election has that credential, election fields where there is no such election,
    submission fields where the casting API did not take that event id in."""
    from tallyflow import db

    hashes = {key[1] for key in keys if key is not None}
    found: dict[tuple[str, str], tuple] = {}
    states: dict[str, tuple] = {}
    submitted: dict[str, object] = {}
    if hashes:
        cur.execute(db.query("tally_reference_voters"),
                    {"credential_hashes": list(hashes)})
        found = {(row[0], row[1]): row[2:] for row in cur.fetchall()}
        # After the events were read: a state at least as new as any of them.
        cur.execute(db.query("tally_reference_elections"))
        states = {row[0]: row[1:] for row in cur.fetchall()}
    event_ids = event_ids if event_ids is not None else [None] * len(keys)
    wanted = sorted({i for i in event_ids if i is not None})
    if wanted:
        cur.execute(db.query("tally_reference_submissions"), {"event_ids": wanted})
        submitted = dict(cur.fetchall())
    nobody = (None,) * len(VOTER_FIELDS)
    unknown = (None,) * len(ELECTION_STATE_FIELDS)
    rows = []
    for key, event_id in zip(keys, event_ids, strict=True):
        submission = (event_id, submitted[event_id]) if event_id in submitted else (None, None)
        if key is None:
            rows.append((None, None, *nobody, *unknown, *submission))
        else:
            rows.append((*key, *found.get(key, nobody), *states.get(key[0], unknown),
                         *submission))
    return rows


class VoteReader(KafkaRangeReader):
    def __init__(self, options: dict[str, str]) -> None:
        super().__init__(options)
        self.database_url = options["database_url"]

    def read(self, partition: OffsetRange) -> Iterator:
        import pyarrow as pa

        from tallyflow import db

        arrow_types = {BooleanType(): pa.bool_(), TimestampType(): pa.timestamp("us", tz="UTC")}
        added = [pa.field(f.name, arrow_types.get(f.dataType, pa.string()))
                 for f in LOOKUP_FIELDS]
        with db.connection(self.database_url) as conn, conn.cursor() as cur:
            for batch in super().read(partition):
                rows = look_up(cur, *event_keys(batch.column("value").to_pylist()))
                columns = list(zip(*rows, strict=True))
                yield pa.RecordBatch.from_arrays(
                    [*batch.columns,
                     *(pa.array(list(c), f.type) for c, f in zip(columns, added, strict=True))],
                    schema=pa.schema([*batch.schema, *added]),
                )


class VoteSource(KafkaRangeSource):
    @classmethod
    def name(cls) -> str:
        return "tallyflow_votes"

    def schema(self) -> StructType:
        return VOTE_ROW

    def reader(self, schema: StructType) -> VoteReader:
        return VoteReader(self.options)
