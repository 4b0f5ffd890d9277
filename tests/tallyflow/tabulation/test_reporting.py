"""Vote methods as reports list them, and a contest's heading with its ballot style."""

from __future__ import annotations

import pytest

from tallyflow.tabulation.reporting import VOTE_METHOD_NAMES, VOTE_METHODS, contest_heading
from tallyflow.votes.event import CHANNELS


@pytest.mark.fast
def test_every_channel_is_a_vote_method_with_a_name():
    assert VOTE_METHODS == ("in_person", "mail", "online")
    assert set(VOTE_METHODS) == set(CHANNELS) == set(VOTE_METHOD_NAMES)


@pytest.mark.fast
def test_a_heading_names_the_district_and_the_primary_unless_the_title_does():
    assert contest_heading("Mayor") == "Mayor"
    assert contest_heading("Council", "Ward 1") == "Council (Ward 1)"
    assert contest_heading("Running mate", party="Civic List") == \
        "Running mate (Civic List primary)"
    assert contest_heading("Council", "Ward 1", "Civic List") == \
        "Council (Ward 1, Civic List primary)"
    assert contest_heading("Ward 1 Council Member", "Ward 1") == "Ward 1 Council Member"
    assert contest_heading("Civic List primary: running mate", None, "Civic List") == \
        "Civic List primary: running mate"
