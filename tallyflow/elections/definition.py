"""Election definitions: read a JSON or YAML file, check it, and build the election model.

The structure is checked against ``schemas/election.schema.json``; cross-references and rules
a schema cannot express (a candidate's party exists, closing comes after opening, enough
options for the seats, a district contest's region and a primary's party exist) are
checked here. Every problem is reported at once, each as
``path: reason``, e.g. ``contests[1].options[3].party: unknown party 'xyz'``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from tallyflow.elections.checks import (
    parse_threshold,
    parse_time,
    rule_errors,
    schema_errors,
)

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "election.schema.json"

YES_NO_OPTIONS = (("yes", "Yes"), ("no", "No"))


class DefinitionError(ValueError):
    """An election definition is invalid. ``errors`` holds every ``path: reason``."""

    def __init__(self, errors: Iterable[str], source: str = "election definition") -> None:
        self.errors = list(errors)
        self.source = source
        lines = "\n".join(f"  - {e}" for e in self.errors)
        count = len(self.errors)
        super().__init__(f"{source}: {count} problem{'s' if count != 1 else ''}\n{lines}")


@dataclass(frozen=True)
class Party:
    party_id: str
    name: str
    abbreviation: str
    colour: str


@dataclass(frozen=True)
class Region:
    region_id: str
    name: str
    level: str
    parent_region_id: str | None = None
    population: int | None = None
    expected_voters: int | None = None
    geometry: dict | None = None  # GeoJSON Polygon or MultiPolygon


@dataclass(frozen=True)
class Option:
    option_id: str
    name: str
    ballot_order: int
    party_id: str | None = None
    photo_url: str | None = None
    bio: str | None = None


@dataclass(frozen=True)
class Contest:
    contest_id: str
    title: str
    kind: str
    ballot_order: int
    options: tuple[Option, ...]
    seats: int = 1
    threshold: Fraction | None = None
    # Its ballot style: on the ballot of the voters of this region and below (None: of
    # every region) and of this party's voters (a primary; None: of every voter).
    district: str | None = None
    party: str | None = None


@dataclass(frozen=True)
class Election:
    election_id: str
    title: str
    description: str
    opens_at: datetime
    closes_at: datetime
    parties: tuple[Party, ...]
    regions: tuple[Region, ...]
    contests: tuple[Contest, ...]
    is_tally_embargoed: bool = False
    is_test: bool = False
    voting_age: int = 18
    definition: Mapping[str, Any] | None = None

    @property
    def leaf_regions(self) -> tuple[Region, ...]:
        """Regions with no sub-regions: where voters are registered and ballots are cast."""
        parents = {r.parent_region_id for r in self.regions}
        return tuple(r for r in self.regions if r.region_id not in parents)

    @property
    def definition_sha256(self) -> str:
        return hashlib.sha256(canonical_json(self.definition or {}).encode()).hexdigest()


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8: the same value always gives the same text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


@cache
def election_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text())


def load_definition(
    path: str | Path,
    *,
    opens_at: str | None = None,
    closes_at: str | None = None,
    election_id: str | None = None,
) -> Election:
    """Read and check a ``.json``, ``.yaml`` or ``.yml`` definition file.

    ``opens_at``/``closes_at`` override the file's times (see :func:`resolve_time`; a
    relative closing time counts from the opening) and ``election_id`` its id, so one
    example can be run again and again.
    """
    path = Path(path)
    if not path.is_file():
        raise DefinitionError([f"no such file: {path}"], source=str(path))
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            raw = yaml.safe_load(text)
        elif path.suffix.lower() == ".json":
            raw = json.loads(text)
        else:
            raise DefinitionError(
                [f"unsupported file type {path.suffix!r}: use .json, .yaml or .yml"], str(path)
            )
    except json.JSONDecodeError as err:
        raise DefinitionError(
            [f"line {err.lineno}, column {err.colno}: invalid JSON: {err.msg}"], str(path)
        ) from None
    except yaml.YAMLError as err:
        raise DefinitionError([f"invalid YAML: {err}"], str(path)) from None
    if isinstance(raw, dict):
        overrides = {"id": election_id, "opens_at": opens_at, "closes_at": closes_at}
        raw = {**raw, **{k: v for k, v in overrides.items() if v is not None}}
        # "+2h" closes two hours after opening; "+10m" opens ten minutes from now.
        base = datetime.now(UTC)
        for key in ("opens_at", "closes_at"):
            if isinstance(raw.get(key), str):
                raw[key] = resolve_time(raw[key], base)
                base = parse_time(raw[key]) or base
    return parse_definition(raw, source=str(path))


_RELATIVE = {"m": "minutes", "h": "hours", "d": "days"}


def resolve_time(text: str, now: datetime) -> str:
    """``now`` and ``+90m``/``+2h``/``+1d`` become UTC times relative to ``now``; other text
    is returned as it is, to be checked with the rest of the definition."""
    value = text.strip()
    if value == "now":
        return now.strftime("%Y-%m-%dT%H:%M:%SZ")
    if value.startswith("+") and value[-1:] in _RELATIVE and value[1:-1].isdigit():
        moved = now + timedelta(**{_RELATIVE[value[-1]]: int(value[1:-1])})
        return moved.strftime("%Y-%m-%dT%H:%M:%SZ")
    return text


def parse_definition(raw: Any, source: str = "election definition") -> Election:
    """Check a definition (already decoded from JSON/YAML) and build the :class:`Election`."""
    if not isinstance(raw, dict):
        raise DefinitionError(["(top level): must be an object"], source)
    errors = schema_errors(election_schema(), raw)
    flagged = {e.split(":", 1)[0] for e in errors}
    errors += [e for e in rule_errors(raw) if e.split(":", 1)[0] not in flagged]
    if errors:
        raise DefinitionError(errors, source)
    return _build(raw)


# -- model --------------------------------------------------------------------------------


def _build(raw: dict) -> Election:
    contests = []
    for position, c in enumerate(raw["contests"], start=1):
        if c["kind"] == "yes_no":
            options = tuple(Option(oid, name, n) for n, (oid, name) in enumerate(YES_NO_OPTIONS, 1))
        else:
            options = tuple(
                Option(
                    option_id=o["id"],
                    name=o["name"],
                    ballot_order=o.get("ballot_order", n),
                    party_id=o.get("party"),
                    photo_url=o.get("photo_url"),
                    bio=o.get("bio"),
                )
                for n, o in enumerate(c["options"], start=1)
            )
        contests.append(
            Contest(
                contest_id=c["id"],
                title=c["title"],
                kind=c["kind"],
                ballot_order=position,
                options=tuple(sorted(options, key=lambda o: o.ballot_order)),
                seats=c.get("seats", 1),
                threshold=parse_threshold(c["threshold"]) if "threshold" in c else None,
                district=c.get("district"),
                party=c.get("party"),
            )
        )
    return Election(
        election_id=raw["id"],
        title=raw["title"],
        description=raw.get("description", ""),
        opens_at=parse_time(raw["opens_at"]),
        closes_at=parse_time(raw["closes_at"]),
        parties=tuple(
            Party(p["id"], p["name"], p["abbreviation"], p["colour"].lower())
            for p in raw.get("parties", [])
        ),
        regions=tuple(
            Region(
                region_id=r["id"],
                name=r["name"],
                level=r["level"],
                parent_region_id=r.get("parent"),
                population=r.get("population"),
                expected_voters=r.get("registered_voters"),
                geometry=r.get("geometry"),
            )
            for r in raw["regions"]
        ),
        contests=tuple(contests),
        is_tally_embargoed=raw.get("embargo_tallies_until_close", False),
        is_test=raw.get("test_mode", False),
        voting_age=raw.get("voting_age", 18),
        definition=raw,
    )
