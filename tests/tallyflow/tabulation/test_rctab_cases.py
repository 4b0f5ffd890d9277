"""`tallyflow rcv tabulate` agrees with RCTab round for round on its published test cases
(tests/data/rctab/README.md): single-winner IRV with every overvote, skipped-rank and
duplicate rule, batch elimination and undeclared write-ins, and multi-winner STV with whole
and fractional thresholds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tallyctl.cli import main

CASES = Path(__file__).resolve().parents[2] / "data" / "rctab"


def _cases() -> list[str]:
    return sorted(p.name for p in CASES.iterdir() if (p / "config.json").is_file())


@pytest.mark.fast
def test_at_least_five_cases_irv_and_stv_both():
    rules = [json.loads((CASES / c / "config.json").read_text())["rules"] for c in _cases()]
    modes = [r["winnerElectionMode"] for r in rules]
    assert len(modes) >= 5
    assert "singleWinnerMajority" in modes
    assert "multiWinnerAllowMultipleWinnersPerRound" in modes


@pytest.mark.fast
@pytest.mark.parametrize("case", _cases())
def test_every_round_matches_rctab(case, tmp_path, capsys):
    out = tmp_path / "summary.json"

    code = main(["rcv", "tabulate", "--cvr", str(CASES / case / "cvr.csv"),
                 "--config", str(CASES / case / "config.json"), "--out", str(out)])

    assert code == 0, capsys.readouterr().err
    got = json.loads(out.read_text())
    expected = json.loads((CASES / case / "expected_summary.json").read_text())
    assert len(got["results"]) == len(expected["results"])
    for mine, theirs in zip(got["results"], expected["results"], strict=True):
        for key in ("round", "tally", "threshold", "tallyResults", "inactiveBallots"):
            assert mine[key] == theirs[key], (case, theirs["round"], key)
    assert {k: got["summary"][k] for k in ("finalThreshold", "numWinners",
                                           "totalNumBallots", "undervotes")} == \
        {k: expected["summary"][k] for k in ("finalThreshold", "numWinners",
                                             "totalNumBallots", "undervotes")}
    assert "winner(s):" in capsys.readouterr().out
