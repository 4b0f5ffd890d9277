"""RCTab interoperability: its cast vote record CSV, its contest configuration, its summary.

- The CVR CSV is the layout RCTab writes (its "RCTab CVR" output): identifying columns,
  then ``Rank 1`` … ``Rank N`` holding a candidate's name, ``undervote`` for a rank left
  blank, ``overvote`` for an explicit overvote, or several names (one per line) marked at
  the same rank.
- The configuration is RCTab's contest configuration JSON: its ``candidates`` and
  ``rules`` sections, with RCTab's own option names. An option Tallyflow does not apply is
  refused by name (:class:`RctabError`), never ignored.
- The summary is RCTab's round-by-round summary JSON (``config``, ``results[]``,
  ``summary``), which RCVis draws.

The tabulation itself is ``tallyflow.tabulation.ranked``.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from tallyflow.tabulation.ranked import (
    OVERVOTE,
    UNDECLARED_WRITE_INS,
    RankedResult,
    RankedRules,
    Ranking,
)

UNDERVOTE_LABEL = "undervote"
OVERVOTE_LABEL = "overvote"

# RCTab's rule values and Tallyflow's.
OVERVOTE_RULES = {"exhaustImmediately": "exhaust_immediately",
                  "alwaysSkipToNextRank": "always_skip_to_next_rank",
                  "exhaustIfMultipleContinuing": "exhaust_if_multiple_continuing"}
TIEBREAK_MODES = {"random": "random", "previousRoundCountsThenRandom":
                  "previous_round_counts_then_random", "useCandidateOrder": "candidate_order"}
WINNER_MODES = {"singleWinnerMajority": "single_winner",
                "multiWinnerAllowOnlyOneWinnerPerRound": "one_winner_per_round",
                "multiWinnerAllowMultipleWinnersPerRound": "multiple_winners_per_round"}
# Options read, and the values that mean "off" for those Tallyflow does not apply.
IGNORED = {"rulesDescription"}
OFF_VALUES = {
    "minimumVoteThreshold": ("0", 0, "", None),
    "stopTabulationEarlyAfterRound": ("", None),
    "multiSeatBottomsUpPercentageThreshold": ("", None),
    "treatBlankAsUndeclaredWriteIn": (False, None),
}
READ = {"tiebreakMode", "overvoteRule", "winnerElectionMode", "randomSeed",
        "numberOfWinners", "decimalPlacesForVoteArithmetic",
        "maxSkippedRanksAllowed", "maxRankingsAllowed", "batchElimination",
        "continueUntilTwoCandidatesRemain", "exhaustOnDuplicateCandidate", "hareQuota",
        "nonIntegerWinningThreshold", "doesFirstRoundDetermineThreshold"}


class RctabError(ValueError):
    """An RCTab file Tallyflow cannot read as given; the message says where and why."""


# -- configuration ------------------------------------------------------------------------


def read_config(path: Path) -> tuple[dict[str, Any], list[str], RankedRules, str | None]:
    """(output settings, the candidates in the file's order, the rules, the label of
    undeclared write-ins in the cast vote records or None) of an RCTab contest
    configuration. Excluded candidates are left out; undeclared write-ins are one more
    candidate when the sources have a label for them."""
    try:
        config = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise RctabError(f"{path}: not a readable JSON file: {err}") from None
    if not isinstance(config, dict) or not isinstance(config.get("rules"), dict) \
            or not isinstance(config.get("candidates"), list):
        raise RctabError(f"{path}: an RCTab configuration has 'candidates' and 'rules'")
    candidates = []
    for i, candidate in enumerate(config["candidates"]):
        if not isinstance(candidate, dict) or not str(candidate.get("name") or "").strip():
            raise RctabError(f"{path}: candidates[{i}] has no name")
        if not candidate.get("excluded"):
            candidates.append(candidate["name"].strip())
    if len(set(candidates)) != len(candidates):
        raise RctabError(f"{path}: a candidate is listed twice")
    labels = {source.get("undeclaredWriteInLabel") for source in
              config.get("cvrFileSources") or [] if isinstance(source, dict)} - {None, ""}
    if len(labels) > 1:
        raise RctabError(f"{path}: the sources name undeclared write-ins differently")
    if labels:
        candidates.append(UNDECLARED_WRITE_INS)
    return (config.get("outputSettings") or {}, candidates, rules_from(config["rules"], path),
            next(iter(labels), None))


def rules_from(rules: Mapping[str, Any], where: Path | str = "rules") -> RankedRules:
    """Tallyflow's rules from RCTab's ``rules`` section; an unsupported option is refused
    by its RCTab name."""
    unknown = sorted(set(rules) - READ - IGNORED - set(OFF_VALUES))
    if unknown:
        raise RctabError(f"{where}: rules option {unknown[0]!r} is not one Tallyflow knows")
    for name, off in OFF_VALUES.items():
        if rules.get(name) not in off:
            raise RctabError(f"{where}: rules option {name!r} = {rules[name]!r} is not "
                             f"supported by Tallyflow (only {off[0]!r})")
    for name in ("tiebreakMode", "overvoteRule", "winnerElectionMode", "numberOfWinners",
                 "maxSkippedRanksAllowed", "maxRankingsAllowed"):
        if rules.get(name) in (None, ""):
            raise RctabError(f"{where}: rules option {name!r} is required")
    choices = {"tiebreakMode": TIEBREAK_MODES, "overvoteRule": OVERVOTE_RULES,
               "winnerElectionMode": WINNER_MODES}
    for name, allowed in choices.items():
        if rules[name] not in allowed:
            raise RctabError(f"{where}: rules option {name!r} = {rules[name]!r} is not "
                             f"supported by Tallyflow (one of {', '.join(allowed)})")
    seed = rules.get("randomSeed")
    if rules["tiebreakMode"] != "useCandidateOrder" and seed in (None, ""):
        raise RctabError(f"{where}: rules option 'randomSeed' is required for "
                         f"tiebreakMode {rules['tiebreakMode']!r}")
    return RankedRules(
        seats=_whole(rules, "numberOfWinners", where, lo=1),
        winner_mode=WINNER_MODES[rules["winnerElectionMode"]],
        overvote_rule=OVERVOTE_RULES[rules["overvoteRule"]],
        max_skipped_ranks=(None if str(rules["maxSkippedRanksAllowed"]) == "unlimited"
                           else _whole(rules, "maxSkippedRanksAllowed", where, lo=0)),
        max_rankings=(None if str(rules["maxRankingsAllowed"]) == "max"
                      else _whole(rules, "maxRankingsAllowed", where, lo=1)),
        exhaust_on_duplicate=bool(rules.get("exhaustOnDuplicateCandidate")),
        tiebreak=TIEBREAK_MODES[rules["tiebreakMode"]],
        random_seed=None if seed in (None, "") else _whole(rules, "randomSeed", where,
                                                            lo=-(2 ** 47)),
        batch_elimination=bool(rules.get("batchElimination")),
        continue_until_two=bool(rules.get("continueUntilTwoCandidatesRemain")),
        decimal_places=_whole(rules, "decimalPlacesForVoteArithmetic", where, lo=1)
        if rules.get("decimalPlacesForVoteArithmetic") not in (None, "") else 4,
        non_integer_threshold=bool(rules.get("nonIntegerWinningThreshold")),
        hare_quota=bool(rules.get("hareQuota")),
        first_round_threshold=bool(rules.get("doesFirstRoundDetermineThreshold")),
    )


def _whole(rules: Mapping[str, Any], name: str, where, *, lo: int) -> int:
    try:
        value = int(str(rules[name]).strip())
    except ValueError:
        raise RctabError(f"{where}: rules option {name!r} = {rules[name]!r} is not a whole "
                         f"number") from None
    if value < lo:
        raise RctabError(f"{where}: rules option {name!r} = {value} is below {lo}")
    return value


# -- cast vote records --------------------------------------------------------------------


def read_cvr_csv(path: Path, candidates: list[str],
                 undeclared_write_in: str | None = None) -> Counter[Ranking]:
    """Each distinct ranking in an RCTab CVR CSV and how many ballots cast it.

    A cell is a candidate's name, several names one per line (an overvote at that rank),
    ``overvote`` or ``undervote``/empty (the rank skipped). A name that is not a candidate
    is an error, unless it is ``undeclared_write_in`` (counted as ``UNDECLARED_WRITE_INS``).
    """
    known = set(candidates) | ({undeclared_write_in} if undeclared_write_in else set())
    rename = {undeclared_write_in: UNDECLARED_WRITE_INS} if undeclared_write_in else {}
    counts: Counter[Ranking] = Counter()
    try:
        with Path(path).open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None:
                raise RctabError(f"{path}: the file is empty")
            ranks = [i for i, name in enumerate(header) if name.strip().startswith("Rank ")]
            if not ranks or [header[i].strip() for i in ranks] != [
                    f"Rank {n}" for n in range(1, len(ranks) + 1)]:
                raise RctabError(f"{path}: the header has no columns 'Rank 1' … 'Rank N' in "
                                 "order (RCTab's CVR CSV layout)")
            for line, row in enumerate(reader, start=2):
                counts[tuple(tuple(rename.get(name, name) for name in _rank_cell(
                    row[i] if i < len(row) else "", known, path, line, header[i]))
                    for i in ranks)] += 1
    except OSError as err:
        raise RctabError(f"{path}: {err.strerror}") from None
    return counts


def _rank_cell(cell: str, known: set[str], path, line: int, column: str) -> tuple[str, ...]:
    text = cell.strip()
    if text in ("", UNDERVOTE_LABEL):
        return ()
    if text == OVERVOTE_LABEL:
        return (OVERVOTE,)
    names = tuple(name.strip() for name in text.splitlines() if name.strip())
    for name in names:
        if name not in known:
            raise RctabError(f"{path}: line {line}, {column}: {name!r} is not a candidate of "
                             "this contest")
    return names


# -- summary ------------------------------------------------------------------------------


def summary(result: RankedResult, output_settings: Mapping[str, Any], decimal_places: int,
            generated_by: str = "Tallyflow") -> dict[str, Any]:
    """RCTab's summary JSON for a tabulation: numbers as text, as RCTab writes them."""
    def number(value: Decimal | int) -> str:
        return _number(value, decimal_places)

    rounds = []
    for r in result.rounds:
        actions = [{"elected": name, "transfers": {k: number(v) for k, v in sorted(
                        r.transfers.get(name, {}).items())}} for name in r.elected]
        actions += [{"eliminated": name, "transfers": {k: number(v) for k, v in sorted(
                         r.transfers.get(name, {}).items())}} for name in r.eliminated]
        rounds.append({
            "inactiveBallots": {key: number(value) for key, value in sorted(
                r.inactive.items())},
            "round": r.number,
            "tally": {name: number(votes) for name, votes in sorted(r.tally.items())},
            "tallyResults": actions,
            "threshold": number(r.threshold),
        })
    return {
        "config": {
            "contest": output_settings.get("contestName", ""),
            "date": output_settings.get("contestDate", ""),
            "generatedBy": generated_by,
            "jurisdiction": output_settings.get("contestJurisdiction", ""),
            "office": output_settings.get("contestOffice", ""),
        },
        "jsonFormatVersion": "1",
        "results": rounds,
        "summary": {
            "finalThreshold": number(result.rounds[-1].threshold) if result.rounds else "0",
            "numCandidates": result.candidates,
            "numWinners": len(result.winners),
            "totalNumBallots": number(result.ballots),
            "undervotes": result.undervotes,
        },
    }


def _number(value: Decimal | int, places: int) -> str:
    """As RCTab prints a count: whole numbers bare, fractions to ``places`` decimals."""
    value = Decimal(value)
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.quantize(Decimal(1).scaleb(-places)), "f")
