"""RCTab's files: every option is applied or refused by name, bad files get clear errors."""

from __future__ import annotations

import json

import pytest

from tallyflow.rctab import RctabError, read_config, read_cvr_csv, rules_from
from tallyflow.tabulation.ranked import OVERVOTE, UNDECLARED_WRITE_INS

pytestmark = pytest.mark.fast

RULES = {"tiebreakMode": "random", "randomSeed": "7", "overvoteRule": "exhaustImmediately",
         "winnerElectionMode": "singleWinnerMajority", "numberOfWinners": "1",
         "decimalPlacesForVoteArithmetic": "4", "minimumVoteThreshold": "0",
         "maxSkippedRanksAllowed": "unlimited", "maxRankingsAllowed": "max",
         "batchElimination": True, "rulesDescription": "city rules"}


def test_rctab_rules_become_tallyflows():
    rules = rules_from(RULES)
    assert (rules.seats, rules.max_skipped_ranks, rules.max_rankings, rules.random_seed,
            rules.batch_elimination, rules.tiebreak) == (1, None, None, 7, True, "random")


@pytest.mark.parametrize(("change", "message"), [
    ({"winnerElectionMode": "bottomsUp"}, "'winnerElectionMode' = 'bottomsUp' is not supported"),
    ({"tiebreakMode": "stopCountingAndAsk"}, "'tiebreakMode' = 'stopCountingAndAsk'"),
    ({"minimumVoteThreshold": "150"}, "'minimumVoteThreshold' = '150' is not supported"),
    ({"stopTabulationEarlyAfterRound": "3"}, "'stopTabulationEarlyAfterRound'"),
    ({"cutoffElimination": True}, "'cutoffElimination' is not one Tallyflow knows"),
    ({"numberOfWinners": "two"}, "'numberOfWinners' = 'two' is not a whole number"),
    ({"randomSeed": ""}, "'randomSeed' is required"),
])
def test_an_option_tallyflow_does_not_apply_is_refused_by_name(change, message):
    with pytest.raises(RctabError, match=message):
        rules_from({**RULES, **change})


def _config(tmp_path, **extra):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({
        "outputSettings": {"contestName": "Mayor"},
        "cvrFileSources": [{"provider": "cdf", "undeclaredWriteInLabel": "UWI"}],
        "candidates": [{"name": "Ann"}, {"name": "Bob"}, {"name": "Cy", "excluded": True}],
        "rules": RULES, **extra}))
    return path


def test_excluded_candidates_are_left_out_and_write_ins_count_together(tmp_path):
    output, candidates, _rules, label = read_config(_config(tmp_path))
    assert output == {"contestName": "Mayor"}
    assert candidates == ["Ann", "Bob", UNDECLARED_WRITE_INS] and label == "UWI"

    cvr = tmp_path / "cvr.csv"
    cvr.write_text('RCTab CVR Id,Rank 1,Rank 2,Rank 3\n1,Ann,undervote,Bob\n'
                   '2,"Ann\nBob",overvote,UWI\n3,Ann,undervote,Bob\n')
    assert read_cvr_csv(cvr, candidates, label) == {
        (("Ann",), (), ("Bob",)): 2,
        (("Ann", "Bob"), (OVERVOTE,), (UNDECLARED_WRITE_INS,)): 1,
    }


@pytest.mark.parametrize(("text", "message"), [
    ("Id,Rank 1,Rank 2\n1,Ann,Zed\n", "line 2, Rank 2: 'Zed' is not a candidate"),
    ("Id,Choice 1\n1,Ann\n", "no columns 'Rank 1'"),
    ("Id,Rank 2,Rank 1\n1,Ann,Bob\n", "no columns 'Rank 1'"),
    ("", "the file is empty"),
])
def test_a_bad_cast_vote_record_file_names_where(tmp_path, text, message):
    cvr = tmp_path / "cvr.csv"
    cvr.write_text(text)
    with pytest.raises(RctabError, match=message):
        read_cvr_csv(cvr, ["Ann", "Bob"])


def test_a_configuration_without_rules_is_refused(tmp_path):
    path = tmp_path / "config.json"
    path.write_text('{"candidates": []}')
    with pytest.raises(RctabError, match="has 'candidates' and 'rules'"):
        read_config(path)
