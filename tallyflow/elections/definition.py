"""Election definitions: read a JSON or YAML file, check it, and build the election model.

The structure is checked against ``schemas/election.schema.json``; cross-references and rules
a schema cannot express (a candidate's party exists, closing comes after opening, enough
options for the seats) are checked here. Every problem is reported at once, each as
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

import jsonschema
import yaml

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "election.schema.json"

CONTEST_KINDS = ("plurality", "approval", "yes_no", "ranked")
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
                base = _parse_time(raw[key]) or base
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
    errors += [e for e in _rule_errors(raw) if e.split(":", 1)[0] not in flagged]
    if errors:
        raise DefinitionError(errors, source)
    return _build(raw)


# -- checks -------------------------------------------------------------------------------


def _path(parts: Iterable[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def schema_errors(schema: dict, raw: Any) -> list[str]:
    """Every way ``raw`` breaks ``schema``, each as "where: why" in words a person reads."""
    validator = jsonschema.Draft202012Validator(schema)
    found = []
    for error in validator.iter_errors(raw):
        parts = list(error.absolute_path)
        if error.validator == "required":
            missing = error.message.split("'")[1]
            found.append((parts + [missing], "is required"))
        elif error.validator == "additionalProperties":
            known = set(error.schema.get("properties", {}))
            for name in sorted(set(error.instance) - known):
                found.append((parts + [name], "unknown field"))
        else:
            found.append((parts, _reason(error)))
    return [f"{_path(p)}: {reason}" for p, reason in sorted(found, key=_sort_key)]


def _sort_key(item: tuple[list, str]) -> tuple:
    return tuple((0, p) if isinstance(p, int) else (1, str(p)) for p in item[0])


def _reason(error: jsonschema.ValidationError) -> str:
    schema, value = error.schema, error.instance
    if error.validator == "pattern":
        if schema.get("pattern", "").startswith("^[a-z0-9]"):
            return f"{value!r} is not an id: use lowercase letters, digits and hyphens"
        if "Z|" in schema.get("pattern", ""):
            return f"{value!r} is not a UTC time: write it like 2026-11-03T07:00:00Z"
        if schema.get("pattern", "").startswith("^#"):
            return f"{value!r} is not a colour: write it like #1f77b4"
        if schema.get("pattern") == "^https?://":
            return f"{value!r} is not an http(s) URL"
        if schema.get("pattern", "").startswith("^[0-9a-f]{32}"):
            return f"{value!r} is not a credential: 32 lowercase hex characters"
        if schema.get("format") == "uuid":
            return f"{value!r} is not a UUID"
    if error.validator == "enum":
        return f"{value!r} is not one of {', '.join(map(str, schema['enum']))}"
    if error.validator == "type":
        return f"must be {'an' if schema['type'][0] in 'aeiou' else 'a'} {schema['type']}"
    if error.validator == "oneOf" and "threshold" in error.absolute_path:
        return f"{value!r} is not a share: use a number in (0, 1] or a fraction like \"2/3\""
    if error.validator == "minItems":
        return f"needs at least {schema['minItems']} item{'s' if schema['minItems'] > 1 else ''}"
    if error.validator == "minLength" and schema["minLength"] == 1:
        return "must not be empty"
    return error.message


def _items(raw: dict, key: str) -> list[tuple[int, dict]]:
    value = raw.get(key)
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)]


def _duplicates(items: list[tuple[int, dict]], field: str, prefix: str, what: str) -> list[str]:
    """An error for every item repeating a value an earlier item already has."""
    seen, errors = set(), []
    for i, item in items:
        value = item.get(field)
        if not isinstance(value, str | int):
            continue
        if value in seen:
            errors.append(f"{prefix}[{i}].{field}: duplicate {what} {value!r}")
        seen.add(value)
    return errors


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else None


def parse_threshold(value: Any) -> Fraction | None:
    """``0.5`` or ``"2/3"`` as an exact fraction; None when it is not a share in (0, 1]."""
    try:
        share = Fraction(value) if isinstance(value, str) else Fraction(str(value))
    except (ValueError, ZeroDivisionError, TypeError):
        return None
    return share if 0 < share <= 1 else None


def _rule_errors(raw: dict) -> list[str]:
    errors: list[str] = []
    for field in ("opens_at", "closes_at"):
        if isinstance(raw.get(field), str) and _parse_time(raw[field]) is None:
            errors.append(f"{field}: {raw[field]!r} is not a valid time with a UTC offset")
    opens, closes = _parse_time(raw.get("opens_at")), _parse_time(raw.get("closes_at"))
    if opens and closes and closes <= opens:
        errors.append(f"closes_at: must be after opens_at ({raw['opens_at']})")

    parties = _items(raw, "parties")
    errors += _duplicates(parties, "id", "parties", "party id")
    party_ids = {p.get("id") for _, p in parties}

    regions = _items(raw, "regions")
    errors += _duplicates(regions, "id", "regions", "region id")
    region_ids = {r.get("id") for _, r in regions}
    parent_of = {r.get("id"): r.get("parent") for _, r in regions}
    for i, region in regions:
        parent = region.get("parent")
        if parent is None:
            continue
        if parent not in region_ids:
            errors.append(f"regions[{i}].parent: unknown region {parent!r}")
            continue
        seen, node = {region.get("id")}, parent
        while node is not None and node not in seen:
            seen.add(node)
            node = parent_of.get(node)
        if node is not None:
            errors.append(f"regions[{i}].parent: {parent!r} makes a cycle of regions")

    contests = _items(raw, "contests")
    errors += _duplicates(contests, "id", "contests", "contest id")
    for c, contest in contests:
        at = f"contests[{c}]"
        kind = contest.get("kind")
        options = _items(contest, "options")
        if kind == "yes_no":
            if "options" in contest:
                errors.append(f"{at}.options: a yes_no contest always has the options yes and no; "
                              f"remove this field")
            if contest.get("seats", 1) != 1:
                errors.append(f"{at}.seats: a yes_no contest has one outcome; remove this field")
            threshold = contest.get("threshold")
            if threshold is not None and parse_threshold(threshold) is None:
                errors.append(f"{at}.threshold: {threshold!r} is not a share in (0, 1]")
        elif kind in CONTEST_KINDS:
            if "threshold" in contest:
                errors.append(f"{at}.threshold: only yes_no contests have a threshold")
            if "options" not in contest:
                errors.append(f"{at}.options: is required for a {kind} contest")
            elif isinstance(contest["options"], list) and len(contest["options"]) < 2:
                errors.append(f"{at}.options: a {kind} contest needs at least 2 options")
            seats = contest.get("seats", 1)
            if kind == "ranked" and seats != 1:
                errors.append(f"{at}.seats: ranked contests elect one winner")
            if isinstance(seats, int) and options and seats >= len(options):
                errors.append(f"{at}.seats: {seats} seat(s) need more than {len(options)} options")
        errors += _duplicates(options, "id", f"{at}.options", "option id")
        errors += _duplicates(options, "ballot_order", f"{at}.options", "ballot order")
        for i, option in options:
            party = option.get("party")
            if party is not None and party not in party_ids:
                errors.append(f"{at}.options[{i}].party: unknown party {party!r}")
    return errors


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
            )
        )
    return Election(
        election_id=raw["id"],
        title=raw["title"],
        description=raw.get("description", ""),
        opens_at=_parse_time(raw["opens_at"]),
        closes_at=_parse_time(raw["closes_at"]),
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
