"""What an election definition must hold beyond its JSON Schema: every problem at once, each
as ``path: reason`` (e.g. ``contests[1].options[3].party: unknown party 'xyz'``,
``contests[2].district: unknown region 'ward-9'``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

import jsonschema

CONTEST_KINDS = ("plurality", "approval", "yes_no", "ranked")


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


def parse_time(value: Any) -> datetime | None:
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


def rule_errors(raw: dict) -> list[str]:
    errors: list[str] = []
    for field in ("opens_at", "closes_at"):
        if isinstance(raw.get(field), str) and parse_time(raw[field]) is None:
            errors.append(f"{field}: {raw[field]!r} is not a valid time with a UTC offset")
    opens, closes = parse_time(raw.get("opens_at")), parse_time(raw.get("closes_at"))
    if opens and closes and closes <= opens:
        errors.append(f"closes_at: must be after opens_at ({raw['opens_at']})")
    parties = _items(raw, "parties")
    errors += _duplicates(parties, "id", "parties", "party id")
    errors += _region_errors(_items(raw, "regions"))
    contests = _items(raw, "contests")
    errors += _duplicates(contests, "id", "contests", "contest id")
    party_ids = {p.get("id") for _, p in parties}
    region_ids = {r.get("id") for _, r in _items(raw, "regions")}
    for c, contest in contests:
        errors += _contest_errors(f"contests[{c}]", contest, party_ids)
        errors += _ballot_style_errors(f"contests[{c}]", contest, region_ids, party_ids)
    return errors


def _region_errors(regions: list[tuple[int, dict]]) -> list[str]:
    """Duplicate ids, unknown parents and cycles of parents."""
    errors = _duplicates(regions, "id", "regions", "region id")
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
    return errors


def _contest_errors(at: str, contest: dict, party_ids: set) -> list[str]:
    """What a contest's kind asks of its options, seats and threshold; its options' ids,
    ballot order and parties."""
    errors: list[str] = []
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
        if isinstance(seats, int) and options and seats >= len(options):
            errors.append(f"{at}.seats: {seats} seat(s) need more than {len(options)} options")
    errors += _duplicates(options, "id", f"{at}.options", "option id")
    errors += _duplicates(options, "ballot_order", f"{at}.options", "ballot order")
    for i, option in options:
        party = option.get("party")
        if party is not None and party not in party_ids:
            errors.append(f"{at}.options[{i}].party: unknown party {party!r}")
    return errors


def _ballot_style_errors(at: str, contest: dict, region_ids: set, party_ids: set) -> list[str]:
    """A district contest's region and a primary's party exist; a primary's candidates are
    of its party (a candidate without a party is allowed)."""
    errors: list[str] = []
    district, party = contest.get("district"), contest.get("party")
    if district is not None and district not in region_ids:
        errors.append(f"{at}.district: unknown region {district!r}")
    if party is None:
        return errors
    if party not in party_ids:
        return [*errors, f"{at}.party: unknown party {party!r}"]
    for i, option in _items(contest, "options"):
        candidate_party = option.get("party")
        # An unknown party is already named by ``_contest_errors``.
        if candidate_party in party_ids and candidate_party != party:
            errors.append(f"{at}.options[{i}].party: {candidate_party!r} is not the party of "
                          f"this primary ({party!r})")
    return errors
