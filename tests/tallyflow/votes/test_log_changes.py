"""When the tally re-bases onto a replaced broker log: pure rules on literal offsets."""

from __future__ import annotations

import pytest

from tallyflow.votes.ledger import LogChange, log_changes

pytestmark = pytest.mark.fast


def test_an_unchanged_log_is_left_alone():
    assert log_changes({0: 10, 1: 0}, {0: (0, "id-a"), 1: (0, "id-a")}, "id-a",
                       lows={0: 0, 1: 0}, ends={0: 25, 1: 0}) == []


def test_a_topic_created_again_rebases_every_partition_even_if_the_new_log_is_longer():
    changes = log_changes({0: 10, 1: 3}, {0: (0, "id-a"), 1: (2, "id-a")}, "id-b",
                          lows={0: 0, 1: 0}, ends={0: 50, 1: 1})

    assert changes == [
        LogChange(0, 0, 10, 0, 50, "the topic was created again (id id-a is now id-b)"),
        LogChange(1, 2, 3, 0, 1, "the topic was created again (id id-a is now id-b)"),
    ]


def test_a_log_that_ends_before_the_committed_offset_is_rebased_from_its_start():
    (change,) = log_changes({0: 3881, 1: 7}, {0: (0, None), 1: (0, None)}, None,
                            lows={0: 0, 1: 0}, ends={0: 480, 1: 9})

    assert change == LogChange(0, 0, 3881, 0, 480,
                               "the log ends at offset 480, before the committed offset 3881")


def test_events_removed_before_they_were_read_are_named():
    (change,) = log_changes({0: 100}, {0: (1, "id-a")}, "id-a", lows={0: 150},
                            ends={0: 400})

    assert change.new_start == 150
    assert change.reason == "offsets 100 to 149 were removed before they were read"


def test_a_partition_seen_for_the_first_time_adopts_the_topic_id():
    assert log_changes({0: 0}, {}, "id-a", lows={0: 0}, ends={0: 5}) == []
