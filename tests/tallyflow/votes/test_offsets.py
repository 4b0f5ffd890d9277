"""Offsets keep partition numbers as numbers; JSON's text keys are converted at the edge."""

from __future__ import annotations

import json

import pytest

from tallyflow.votes.offsets import Offsets


@pytest.mark.fast
def test_offsets_round_trip_through_json_in_partition_order():
    offsets = Offsets({10: 5, 2: 7, 0: 0})

    text = json.dumps(offsets.to_json())

    assert text == '{"0": 0, "2": 7, "10": 5}'  # numeric order, not text order
    back = Offsets.from_json(json.loads(text))
    assert back == offsets and all(isinstance(p, int) for p in back)


@pytest.mark.fast
def test_offsets_from_mixed_or_text_values_become_numbers():
    assert Offsets.from_json({"1": "4", 3: 9}) == {1: 4, 3: 9}
    with pytest.raises(ValueError):
        Offsets.from_json({"one": 4})
