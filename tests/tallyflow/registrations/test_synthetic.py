"""Synthetic rolls: deterministic per seed, realistic, and free of likely duplicates."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from tallyflow.registrations.synthetic import GENDERS, PrecinctWeight, synthetic_roll

PRECINCTS = (PrecinctWeight("big", 60_000), PrecinctWeight("mid", 30_000),
             PrecinctWeight("small", 10_000))
ELECTION_DAY = date(2026, 11, 3)


@pytest.mark.fast
def test_the_same_seed_gives_the_same_roll_and_another_seed_does_not():
    first = synthetic_roll(PRECINCTS, 2_000, election_day=ELECTION_DAY, seed=42)
    again = synthetic_roll(PRECINCTS, 2_000, election_day=ELECTION_DAY, seed=42)
    other = synthetic_roll(PRECINCTS, 2_000, election_day=ELECTION_DAY, seed=43)

    pd.testing.assert_frame_equal(first, again)
    assert not first.equals(other)


@pytest.mark.fast
def test_the_roll_is_realistic():
    roll = synthetic_roll(PRECINCTS, 20_000, election_day=ELECTION_DAY, voting_age=18, seed=1)
    day = pd.Timestamp(ELECTION_DAY)
    of_age = day - pd.DateOffset(years=18)

    assert list(roll.columns) == ["voter_id", "full_name", "birth_date", "gender", "region_id",
                                  "registered_on", "party_id"]
    assert roll["party_id"].isna().all()  # no primaries: no one is affiliated
    assert roll["voter_id"].is_unique and roll["voter_id"].iloc[0] == "V0000001"
    assert (roll["birth_date"] <= of_age).all(), "everyone is of voting age on election day"
    assert (roll["registered_on"] < day).all() and (roll["registered_on"] > roll["birth_date"]).all()
    shares = roll["region_id"].value_counts(normalize=True)
    assert abs(shares["big"] - 0.6) < 0.02 and abs(shares["small"] - 0.1) < 0.02
    assert set(roll["gender"]) <= set(GENDERS)
    assert abs((roll["gender"] == "female").mean() - 0.506) < 0.02
    ages = (day - roll["birth_date"]).dt.days / 365.25
    assert 40 < ages.median() < 55 and ages.max() < 102
    assert not roll.duplicated(["full_name", "birth_date", "region_id"]).any()


@pytest.mark.fast
def test_regions_without_population_still_get_voters():
    roll = synthetic_roll((PrecinctWeight("a", None), PrecinctWeight("b", None)), 1_000,
                          election_day=ELECTION_DAY, seed=3)

    assert set(roll["region_id"]) == {"a", "b"} and len(roll) == 1_000


@pytest.mark.fast
def test_with_primaries_most_voters_are_affiliated_with_a_party_holding_one():
    plain = synthetic_roll(PRECINCTS, 10_000, election_day=ELECTION_DAY, seed=5)
    roll = synthetic_roll(PRECINCTS, 10_000, election_day=ELECTION_DAY, seed=5,
                          primary_parties=("civic", "greens"))
    again = synthetic_roll(PRECINCTS, 10_000, election_day=ELECTION_DAY, seed=5,
                           primary_parties=("civic", "greens"))

    pd.testing.assert_frame_equal(roll, again)
    # Drawn last: everything else is the roll the seed gives without primaries.
    pd.testing.assert_frame_equal(roll.drop(columns="party_id"),
                                  plain.drop(columns="party_id"))
    shares = roll["party_id"].value_counts(normalize=True, dropna=False)
    assert set(shares.index) == {"civic", "greens", None}
    assert abs(shares["civic"] - 0.35) < 0.02 and abs(shares["greens"] - 0.35) < 0.02
