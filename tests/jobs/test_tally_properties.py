"""Tallies do not depend on event order or on repeated events (hypothesis, on real Spark)."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from jobs.tally_increments import increments
from jobs.tally_transforms import attach_voters, classify, outcomes, reference_frame

T0 = datetime(2026, 11, 3, 9, 0)
VOTERS = [(f"h{i}", f"v{i}", f"r{i % 2}") for i in range(6)]
BALLOTS = [  # (credential hash, mayor selections, council selections)
    ("h0", ["ann"], ["a", "b"]),
    ("h1", ["bob"], ["a"]),
    ("h2", ["ann", "bob"], ["c"]),
    ("h3", [], ["b", "c"]),
    ("h4", ["cy"], ["a", "a"]),
    ("nobody", ["ann"], []),
]
EVENT_COLUMNS = ("topic string, partition int, offset long, broker_timestamp timestamp, "
                 "value binary, event_id string, election_id string, credential_sha256 string, "
                 "receipt string, "
                 "contests array<struct<contest_id:string,selections:array<string>>>, "
                 "judged_at timestamp, malformed_because string, channel string")


def _tally(spark, order: list[int]) -> list[tuple]:
    rows = []
    for offset, index in enumerate(order):
        credential, mayor, council = BALLOTS[index]
        # Each copy of a ballot carries the same content and event id; only its place moves.
        rows.append(("votes", 0, offset, T0, None, f"event-{index}", "e", credential,
                     f"receipt-{index}",
                     [("mayor", mayor), ("council", council)],
                     T0 + timedelta(seconds=offset), None, "mail"))
    events = spark.createDataFrame(rows, EVENT_COLUMNS)
    elections = reference_frame(
        spark, [("e", "open", T0 - timedelta(hours=1), T0 + timedelta(hours=10))],
        [("e", "mayor", o, 1) for o in ("ann", "bob", "cy")]
        + [("e", "council", o, 2) for o in ("a", "b", "c")])
    voters = spark.createDataFrame(
        [("e", h, v, r, "25-34", "female", False, None) for h, v, r in VOTERS],
        "election_id string, credential_sha256 string, voter_id string, region_id string, "
        "age_band string, gender string, has_voted boolean, party_id string")
    classified = classify(attach_voters(events, voters), elections)
    added = increments(outcomes(classified, elections).toArrow())
    return sorted((kind, *row) for kind, rows in added.items() if kind != "minute"
                  for row in rows)


_BASELINE: dict[str, tuple[list[tuple], int]] = {}


def _split(rows: list[tuple]) -> tuple[list[tuple], int]:
    """The counted aggregates, and the number of rejected events."""
    counted = [r for r in rows if r[0] != "rejected_total"]
    return counted, sum(r[-1] for r in rows if r[0] == "rejected_total")


@settings(max_examples=4, deadline=None, derandomize=True,
          phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    order=st.permutations(range(len(BALLOTS))),
    repeats=st.lists(st.tuples(st.integers(0, len(BALLOTS) - 1), st.integers(0, 20)),
                     max_size=6),
)
def test_order_and_repeats_never_change_the_tally(spark, order, repeats):
    if "baseline" not in _BASELINE:
        _BASELINE["baseline"] = _split(_tally(spark, list(range(len(BALLOTS)))))
    baseline_counted, baseline_rejected = _BASELINE["baseline"]
    events = list(order)
    for repeat, position in repeats:
        events.insert(position % (len(events) + 1), repeat)

    counted, rejected = _split(_tally(spark, events))

    assert counted == baseline_counted
    assert rejected == baseline_rejected + len(repeats)
