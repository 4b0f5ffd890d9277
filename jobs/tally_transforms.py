"""The tally's transforms: parse, check and classify every event, keep each voter's first
valid ballot, and give each event's outcome (pure DataFrame -> DataFrame functions)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import (
    ArrayType,
    BinaryType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from jobs.vote_source import ELECTION_STATE_FIELDS, VOTER_FIELDS
from tallyflow.votes.event import CONTEST_FIELDS, ReadEvent

if TYPE_CHECKING:
    pass


# A ballot's contests as the tally reads them, built from the event contract
# (``tallyflow.votes.event.CONTEST_FIELDS``: an id, and the option ids chosen).
_CONTEST_TYPES = {"contest_id": StringType(), "selections": ArrayType(StringType())}
CONTESTS = ArrayType(StructType([StructField(name, _CONTEST_TYPES[name])
                                 for name in CONTEST_FIELDS]))
_CONTESTS_ARROW = pa.list_(pa.struct([
    ("contest_id", pa.string()), ("selections", pa.list_(pa.string()))]))

# What parse_events returns (a test holds the two together): known here, so building the
# batch's plan never has to ask the Spark server for it.
PARSED_EVENT = StructType(
    [
        StructField("topic", StringType(), False),
        StructField("partition", IntegerType(), False),
        StructField("offset", LongType(), False),
        StructField("broker_timestamp", TimestampType()),
        StructField("value", BinaryType()),
        StructField("event_id", StringType()),
        StructField("election_id", StringType()),
        StructField("credential_sha256", StringType()),
        StructField("receipt", StringType()),
        StructField("contests", CONTESTS),
        StructField("judged_at", TimestampType()),
        StructField("malformed_because", StringType()),
        StructField("channel", StringType()),
    ]
)

# -- transform ----------------------------------------------------------------------------


# What ``read_events`` adds to each message: ``tallyflow.votes.event.ReadEvent``'s fields,
# its ``problem`` named for what it is here.
READ_FIELDS = [
    StructField("malformed_because" if f.name == "problem" else f.name,
                CONTESTS if f.name == "contests" else StringType())
    for f in dataclasses.fields(ReadEvent)
]


def read_events(batches):
    """``mapInArrow``: each message's fields and verdict, read in Python by the same code
    the casting API checks ballots with (``tallyflow.votes.event.read_event``)."""

    from tallyflow.votes.event import read_event

    for batch in batches:
        read = [read_event(v) for v in batch.column("value").to_pylist()]
        columns = [
            pa.array([getattr(r, f.name) for r in read],
                     _CONTESTS_ARROW if f.name == "contests" else pa.string())
            for f in dataclasses.fields(ReadEvent)
        ]
        names = [f.name for f in READ_FIELDS]
        yield pa.RecordBatch.from_arrays(
            [*batch.columns, *columns],
            schema=pa.schema([*batch.schema, *(pa.field(n, c.type)
                                               for n, c in zip(names, columns, strict=True))]))


def parse_events(raw: DataFrame, keep: Sequence[str] = ()) -> DataFrame:
    """One row per Kafka message, with the event's fields and why it is malformed (or null).

    The event is read and checked by ``read_events``, in Python: one check of an event's
    form for the casting API and the tally. Columns of ``raw`` named in ``keep`` (a voter
    looked up at the source) pass through after ``PARSED_EVENT``'s. An event is judged
    (``judged_at``) by when the casting API took it in, where ``raw`` has that lookup
    (``jobs.vote_source``) for this very event id, and otherwise by the broker's timestamp:
    the ``received_at`` an event claims is checked for form only, so a producer cannot
    backdate a late ballot into the count.
    """
    read = raw.mapInArrow(read_events, StructType([*raw.schema.fields, *READ_FIELDS]))
    submitted_at = (F.when(F.col("looked_up_event_id") == F.lower(F.col("event_id")),
                           F.col("submitted_at"))
                    if "submitted_at" in raw.columns else F.lit(None).cast("timestamp"))
    return read.select(
        "topic", "partition", "offset", "broker_timestamp", "value", "event_id",
        "election_id", "credential_sha256", "receipt", "contests",
        F.coalesce(submitted_at, F.col("broker_timestamp")).alias("judged_at"),
        "malformed_because", "channel",
        *keep,
    )


def attach_voters(events: DataFrame, voters: DataFrame) -> DataFrame:
    """``events`` with the voter each credential belongs to (null columns when none), and
    no election state read with them (``classify`` then judges by the reference alone).

    ``voters``: election_id, credential_sha256 and the ``VOTER_FIELDS`` columns.
    """
    return events.join(voters, ["election_id", "credential_sha256"], "left").select(
        "*", *[F.lit(None).cast(f.dataType).alias(f.name) for f in ELECTION_STATE_FIELDS])


def with_voters(events: DataFrame) -> DataFrame:
    """``attach_voters`` for ``parse_events`` output of a voter-looking-up read (``extract``
    with a database URL): each event keeps the voter looked up for it only where this job's
    own parse finds the same election and credential hash, so an event the lookup read
    differently (a key given twice, say) has no voter, never someone else's.
    """
    same = ((F.col("looked_up_election_id") == F.col("election_id"))
            & (F.col("looked_up_credential_sha256") == F.col("credential_sha256")))
    return events.select(
        *PARSED_EVENT.names,
        *[F.when(same, F.col(f.name)).alias(f.name)
          for f in [*VOTER_FIELDS, *ELECTION_STATE_FIELDS]],
    )


ELECTIONS_SCHEMA = (
    "election_id string, status string, opens_at timestamp, closes_at timestamp, "
    "opened_at timestamp, "
    "layout map<string, struct<max_selections:int, options:array<string>>>, "
    "ballot_contests array<struct<contest_id:string, max_selections:int, ranked:boolean, "
    "regions:array<string>, party:string>>"
)


def reference_frame(spark: SparkSession, elections: list[tuple],
                    options: list[tuple]) -> DataFrame:
    """One small row per election, built in the driver so Spark has nothing to shuffle.

    ``elections``: (election_id, status, opens_at, closes_at[, opened_at]), where
    ``opened_at`` is the instant the election was opened; ``options``: (election_id,
    contest_id, option_id, max_selections[, kind[, regions, party]])
    (``tallyflow.elections.layout.option_rows``). ``layout`` maps each contest to how many
    selections it allows and its options; ``ballot_contests`` lists the contests, which are
    ranked, and each one's ballot style (its district's regions and its primary's party,
    null for every voter's).
    """
    layouts: dict[str, dict[str, tuple]] = {}
    for election_id, contest_id, option_id, max_selections, *more in options:
        kind, regions, party = [*more, None, None, None][:3]
        contest = layouts.setdefault(election_id, {}).setdefault(
            contest_id, (max_selections, [], kind == "ranked",
                         None if regions is None else sorted(regions), party))
        contest[1].append(option_id)
    rows = []
    for election_id, status, opens_at, closes_at, *opened in elections:
        layout = layouts.get(election_id)
        rows.append((
            election_id, status, opens_at, closes_at, opened[0] if opened else None,
            {c: (most, sorted(opts)) for c, (most, opts, *_style) in layout.items()}
            if layout else None,
            [(c, most, *style) for c, (most, _opts, *style) in sorted(layout.items())]
            if layout else None,
        ))
    return spark.createDataFrame(rows, ELECTIONS_SCHEMA)


def _utc(column: str) -> F.Column:
    """A time as people read it in a reason (the session time zone is UTC)."""
    return F.date_format(column, "yyyy-MM-dd HH:mm:ss'Z'")


def classify(events: DataFrame, elections: DataFrame) -> DataFrame:
    """One row per event with ``reason`` (null when it counts) and ``detail``.

    ``events`` are parsed events with their voters attached (``attach_voters`` or
    ``with_voters``). Checks run in order: malformed, unknown_election, not_open / closed,
    unknown_credential, unknown_contest, unknown_option, duplicate. The first valid ballot
    of a voter counts, judged by receipt time then partition and offset; one taken in by an
    earlier batch (``has_voted``: counted, or waiting for its group) makes every new one a
    duplicate. ``elections``
    (``reference_frame``) is small and broadcast, so the only shuffle is the one that
    ranks a voter's ballots. Where an event carries its election's state as read after the
    event (``with_voters``), its time is judged against that state, never against the
    reference read before the batch.
    """
    checked = _with_state(events, elections)
    checked = checked.withColumn("unknown_contest", _unknown_contest()).withColumn(
        "unknown_option", _unknown_option())
    classified = checked.withColumn("reason", _reason()).withColumn("detail", _detail()).drop(
        "layout", "unknown_contest", "unknown_option", "opened_at",
        *[f.name for f in ELECTION_STATE_FIELDS])
    return _duplicates(classified)


def _with_state(events: DataFrame, elections: DataFrame) -> DataFrame:
    """Events with their election's state: as read after the event when the source read
    it (``election_*`` columns), else from the reference read before the batch."""
    checked = events.join(F.broadcast(elections.drop("ballot_contests")), "election_id", "left")
    state_read_later = F.col("election_status").isNotNull()
    for name in ("status", "opens_at", "closes_at", "opened_at"):
        checked = checked.withColumn(
            name, F.when(state_read_later, F.col(f"election_{name}")).otherwise(F.col(name)))
    return checked


def _unknown_contest() -> F.Column:
    """The first contest on the ballot that its election's layout does not have."""
    cast = F.coalesce(F.col("contests"), F.array())
    layout = F.col("layout")
    return F.try_element_at(
        F.filter(cast, lambda c: ~F.coalesce(F.map_contains_key(layout, c.contest_id),
                                             F.lit(False))),
        F.lit(1),
    ).contest_id


def _unknown_option() -> F.Column:
    """The first ``contest/option`` on the ballot that its contest does not offer."""
    cast = F.coalesce(F.col("contests"), F.array())
    layout = F.col("layout")
    return F.array_min(F.flatten(F.transform(cast, lambda c: F.transform(
        F.filter(F.coalesce(c.selections, F.array()), lambda o: ~F.array_contains(
            F.try_element_at(layout, c.contest_id).options, o)),
        lambda o: F.concat_ws("/", c.contest_id, o),
    ))))


def _reason() -> F.Column:
    """The first check an event fails, in ``classify``'s order (null when it passes)."""
    return (
        F.when(F.col("malformed_because").isNotNull(), F.lit("malformed"))
        .when(F.col("status").isNull(), F.lit("unknown_election"))
        .when(F.col("status").isin("draft", "scheduled")
              | (F.col("judged_at") < F.col("opens_at"))
              | (F.col("judged_at") < F.col("opened_at")), F.lit("not_open"))
        .when((F.col("status") == "certified")
              | (F.col("judged_at") >= F.col("closes_at")), F.lit("closed"))
        .when(F.col("voter_id").isNull(), F.lit("unknown_credential"))
        .when(F.col("unknown_contest").isNotNull(), F.lit("unknown_contest"))
        .when(F.col("unknown_option").isNotNull(), F.lit("unknown_option"))
    )


def _detail() -> F.Column:
    """What a person needs to know about the failed check, beside ``_reason``."""
    return (
        F.when(F.col("malformed_because").isNotNull(), F.col("malformed_because"))
        .when(F.col("status").isNull(), F.format_string("no election %s", "election_id"))
        .when(F.col("status").isin("draft", "scheduled"),
              F.format_string("election is %s", "status"))
        .when(F.col("judged_at") < F.col("opens_at"),
              F.format_string("received %s, opens %s", _utc("judged_at"), _utc("opens_at")))
        .when(F.col("judged_at") < F.col("opened_at"),
              F.format_string("received %s, opened %s", _utc("judged_at"),
                              _utc("opened_at")))
        .when(F.col("status") == "certified", F.lit("election is certified"))
        .when(F.col("judged_at") >= F.col("closes_at"),
              F.format_string("received %s, closed %s", _utc("judged_at"),
                              _utc("closes_at")))
        .when(F.col("voter_id").isNull(), F.lit("no voter of this election has this credential"))
        .when(F.col("unknown_contest").isNotNull(),
              F.format_string("no contest %s", "unknown_contest"))
        .when(F.col("unknown_option").isNotNull(),
              F.format_string("no option %s", "unknown_option"))
    )


def _duplicates(classified: DataFrame) -> DataFrame:
    """A voter's first otherwise valid event counts; later ones, and any after a ballot
    counted in an earlier batch (``has_voted``), are duplicates."""
    # Ranked among the voter's otherwise valid events only: a rejected one never counts first.
    first = Window.partitionBy("election_id", "voter_id", F.col("reason").isNull()).orderBy(
        "judged_at", "partition", "offset"
    )
    valid_rank = F.when(F.col("reason").isNull(), F.row_number().over(first))
    return (
        classified.withColumn("rank", valid_rank)
        .withColumn(
            "detail",
            F.when(F.col("reason").isNull() & F.col("has_voted"),
                   F.lit("this voter's earlier ballot was already taken in"))
            .when(F.col("reason").isNull() & (F.col("rank") > 1),
                  F.lit("this voter's earlier ballot in the same batch counts"))
            .otherwise(F.col("detail")),
        )
        .withColumn(
            "reason",
            F.when(F.col("reason").isNull() & (F.col("has_voted") | (F.col("rank") > 1)),
                   F.lit("duplicate"))
            .otherwise(F.col("reason")),
        )
        .drop("rank")
    )


def _on_ballot(contest) -> F.Column:
    """Whether ``contest`` is on the ballot of the event's voter: its district holds the
    voter's precinct and its primary is the voter's party (``ContestLayout.on_ballot``)."""
    in_district = contest.regions.isNull() | F.coalesce(
        F.array_contains(contest.regions, F.col("region_id")), F.lit(False))
    in_party = contest.party.isNull() | F.coalesce(contest.party == F.col("party_id"),
                                                   F.lit(False))
    return in_district & in_party


def _marked(events: DataFrame, elections: DataFrame) -> DataFrame:
    """``events`` with ``marks``: per contest of its election on its voter's ballot, the
    selections and the mark, and an ``off_ballot`` mark for each contest marked that is not
    on it (null for an election that is not counting). ``outcomes`` keeps them for counted
    ballots only.

    Each election's contest list is small and broadcast, so nothing is shuffled.
    """
    ballot_contests = elections.select("election_id", "ballot_contests")
    cast = F.coalesce(F.col("contests"), F.array())

    def mark(contest):
        selections = F.try_element_at(
            F.filter(cast, lambda x: x.contest_id == contest.contest_id), F.lit(1)).selections
        n = F.size(F.coalesce(selections, F.array()))
        how = (
            F.when(~_on_ballot(contest), F.when(n > 0, F.lit("off_ballot")))
            .when(n == 0, F.lit("blank"))
            .when((n > contest.max_selections)
                  | (F.size(F.array_distinct(selections)) != n), F.lit("overvote"))
            .when(n < contest.max_selections, F.lit("undervote"))
            .otherwise(F.lit("counted"))
        )
        return F.struct(contest.contest_id.alias("contest_id"),
                        selections.alias("selections"), how.alias("mark"),
                        contest.ranked.alias("ranked"))

    return (
        events.join(F.broadcast(ballot_contests), "election_id", "left")
        .withColumn("marks", F.filter(F.transform("ballot_contests", mark),
                                      lambda m: m.mark.isNotNull()))
        .drop("ballot_contests")
    )


def contest_marks(accepted: DataFrame, elections: DataFrame) -> DataFrame:
    """One row per counted ballot × contest of its election: the selections and how they count.

    ``mark`` is ``counted``, ``undervote`` (fewer selections than allowed), ``blank`` (none,
    or the contest left off the ballot), ``overvote`` (more than allowed, or a repeat) or
    ``off_ballot`` (marked, but not on this voter's ballot: another district's contest or
    another party's primary); an overvoted or off-ballot contest counts for no option, the
    ballot's other contests still count. A contest not on the voter's ballot and not
    marked has no row.
    """
    return _marked(accepted, elections).select(
        "topic", "partition", "offset", "election_id", "region_id",
        F.explode("marks").alias("m"),
    ).select("*", "m.contest_id", "m.selections", "m.mark").drop("m")


def outcomes(classified: DataFrame, elections: DataFrame) -> DataFrame:
    """One row per event: what the ledger stores of it and what the aggregates count.

    Rejected events keep their payload (``value``) and reason; counted ones their
    selections (JSON text, for the ballot), their voter's cell and, per contest of the
    election, the ``marks`` (``contest_marks``), its ballot style's party (the voter's
    party) and its ``vote_method`` (the event's channel). ``increments`` sums them up.
    """
    return _marked(classified, elections).select(
        "partition", "offset", "reason", "detail", "election_id", "voter_id", "region_id",
        "age_band", "gender", "judged_at", "broker_timestamp", "receipt", "party_id",
        F.col("channel").alias("vote_method"),
        F.when(F.col("reason").isNotNull(), F.col("value")).alias("value"),
        F.when(F.col("reason").isNull(), F.to_json("contests")).alias("selections"),
        F.when(F.col("reason").isNull(), F.col("marks")).alias("marks"),
    )
