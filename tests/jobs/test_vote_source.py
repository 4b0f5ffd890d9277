"""The voter lookup done where each partition is read, and what the job keeps of it."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

import pytest

from jobs.tally_transforms import PARSED_EVENT, with_voters
from jobs.vote_source import LOOKUP_FIELDS, credential_keys

CREDENTIAL = "0123456789abcdef0123456789abcdef"
HASH = hashlib.sha256(CREDENTIAL.encode()).hexdigest()


def _value(**fields) -> bytes:
    return json.dumps({"election_id": "e", "credential": CREDENTIAL, **fields}).encode()


@pytest.mark.fast
def test_credential_keys_reads_the_election_and_hashes_the_credential():
    values = [
        _value(),
        b"{not json",
        None,
        b'["e", "0123456789abcdef0123456789abcdef"]',
        _value(credential=42),
        _value(credential=CREDENTIAL.upper()),
        _value(credential=CREDENTIAL + "0"),
        _value(election_id=None),
        json.dumps({"credential": CREDENTIAL}).encode(),
    ]

    assert credential_keys(values) == [("e", HASH)] + [None] * 8


def test_with_voters_keeps_a_voter_only_where_the_job_read_the_same_election_and_hash(spark):
    t = datetime(2026, 11, 3, 9)

    def event(offset, election_id, credential_sha256, looked_up):
        parsed = ("votes", 0, offset, t, b"{}", f"id{offset}", election_id, credential_sha256,
                  "receipt", [], t, None, "online")
        return (*parsed, *looked_up, None, None)  # not taken in by the casting API

    voter = ("v1", "r1", "25-34", "female", False, "civic")
    state = ("open", t, t, t)  # the election as read after the event
    events = spark.createDataFrame(
        [
            event(0, "e", HASH, ("e", HASH, *voter, *state)),
            event(1, "e", "another-hash", ("e", HASH, *voter, *state)),  # another credential
            event(2, "other", HASH, ("e", HASH, *voter, *state)),  # read another election
            event(3, "e", HASH, ("e", HASH, None, None, None, None, None, None, *state)),  # nobody
        ],
        "topic string, partition int, offset long, broker_timestamp timestamp, value binary, "
        "event_id string, election_id string, credential_sha256 string, receipt string, "
        "contests array<struct<contest_id:string,selections:array<string>>>, "
        "judged_at timestamp, malformed_because string, channel string, "
        + ", ".join(f"{f.name} {f.dataType.simpleString()}" for f in LOOKUP_FIELDS),
    )

    result = with_voters(events)

    assert result.columns == [*PARSED_EVENT.names, "voter_id", "region_id", "age_band",
                              "gender", "has_voted", "party_id", "election_status",
                              "election_opens_at",
                              "election_closes_at", "election_opened_at"]
    rows = {r.offset: (r.voter_id, r.region_id, r.has_voted, r.party_id, r.election_status)
            for r in result.collect()}
    assert rows == {0: ("v1", "r1", False, "civic", "open"), 1: (None, None, None, None, None),
                    2: (None, None, None, None, None), 3: (None, None, None, None, "open")}
