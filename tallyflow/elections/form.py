"""The Airflow trigger form's answers, turned into an election definition.

The form is simpler than a definition file: one contest, candidates as ``Name | Party``
lines, regions as ``District > Precinct | population`` lines. What it builds goes through
the same checks as a file (:func:`tallyflow.elections.definition.parse_definition`). An
administrator who needs more pastes a whole definition into the form's JSON field instead.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from tallyflow.elections.definition import DefinitionError, resolve_time

# Okabe & Ito's colour-blind-safe palette, in the order parties first appear.
PARTY_COLOURS = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#f0e442",
                 "#000000")
DEFAULT_VOTING_HOURS = 12


def slugify(text: str, max_length: int = 63) -> str:
    """``"Mayor of Río Claro"`` -> ``"mayor-of-rio-claro"``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "election"


def _lines(value: Any) -> list[str]:
    if value is None:
        return []
    items = value.splitlines() if isinstance(value, str) else value
    return [str(item).strip() for item in items if str(item).strip()]


def _abbreviation(name: str) -> str:
    letters = "".join(word[0] for word in name.split() if word[0].isalnum()).upper()
    return (letters or name[:3].upper())[:12]


def _utc(text: str) -> str:
    """The date picker's time with any offset, as UTC; text that is not a time stays as is."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is None:
        return text
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def definition_from_form(params: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """A definition dict from the form's fields (see the ``create_election`` DAG)."""
    if params.get("definition"):
        return dict(params["definition"])
    errors: list[str] = []
    parties, options = _candidates(params.get("candidates"), errors)
    regions = _regions(params.get("regions"), errors)
    if errors:
        raise DefinitionError(errors, source="trigger form")
    opens_at, closes_at = _times(params, now)
    title = (params.get("title") or "").strip()
    return {
        "id": params.get("election_id") or slugify(title),
        "title": title,
        "description": params.get("description") or "",
        "opens_at": opens_at,
        "closes_at": closes_at,
        "embargo_tallies_until_close": bool(params.get("embargo_tallies_until_close")),
        "test_mode": bool(params.get("test_mode")),
        "parties": parties,
        "regions": regions,
        "contests": [
            {
                "id": slugify(params.get("contest_title") or "main"),
                "title": params.get("contest_title") or title,
                "kind": "plurality",
                "options": options,
            }
        ],
    }


def _candidates(text: str | None, errors: list[str]) -> tuple[list[dict], list[dict]]:
    """Parties and options from ``name | party`` lines; each party once, in order."""
    parties: dict[str, dict[str, str]] = {}
    options = []
    for n, line in enumerate(_lines(text), start=1):
        name, _, party_name = (part.strip() for part in line.partition("|"))
        option: dict[str, Any] = {"id": slugify(name), "name": name}
        if party_name:
            party_id = slugify(party_name)
            if party_id not in parties:
                parties[party_id] = {
                    "id": party_id,
                    "name": party_name,
                    "abbreviation": _abbreviation(party_name),
                    "colour": PARTY_COLOURS[len(parties) % len(PARTY_COLOURS)],
                }
            option["party"] = party_id
        if not name:
            errors.append(f"candidates line {n}: {line!r} has no candidate name")
        options.append(option)
    return list(parties.values()), options


def _regions(text: str | None, errors: list[str]) -> list[dict]:
    """Regions from ``district > precinct | population`` lines under one country."""
    regions = [{"id": "all", "name": "All regions", "level": "country"}]
    districts: dict[str, str] = {}
    for n, line in enumerate(_lines(text), start=1):
        path, _, population = (part.strip() for part in line.partition("|"))
        parent_name, _, name = (part.strip() for part in path.rpartition(">"))
        region: dict[str, Any] = {"id": slugify(name), "name": name, "level": "precinct",
                                  "parent": "all"}
        if parent_name:
            parent_id = "district-" + slugify(parent_name)
            if parent_id not in districts:
                districts[parent_id] = parent_name
                regions.append({"id": parent_id, "name": parent_name, "level": "district",
                                "parent": "all"})
            region["parent"] = parent_id
        if population:
            if not population.replace(",", "").isdigit():
                errors.append(f"regions line {n}: population {population!r} is not a number")
            else:
                region["population"] = int(population.replace(",", ""))
        if not name:
            errors.append(f"regions line {n}: {line!r} has no region name")
        regions.append(region)
    if len(regions) == 1:
        regions.append({"id": "everywhere", "name": "Everywhere", "level": "precinct",
                        "parent": "all"})
    return regions


def _times(params: Mapping[str, Any], now: datetime) -> tuple[str, str]:
    """Opening (``now`` when empty) and closing (DEFAULT_VOTING_HOURS later when empty)."""
    opens_at = _utc(resolve_time(params.get("opens_at") or "now", now))
    if params.get("closes_at"):
        return opens_at, _utc(resolve_time(params["closes_at"], now))
    try:
        opened = datetime.fromisoformat(opens_at)
    except ValueError:
        opened = now
    return opens_at, _utc((opened + timedelta(hours=DEFAULT_VOTING_HOURS)).isoformat())
