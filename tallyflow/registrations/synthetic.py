"""Synthetic voter rolls: realistic, deterministic for a seed, fast enough for millions.

- Regions get voters in proportion to their population (a multinomial draw).
- Ages follow an adult population pyramid: flat to 60, then thinning out to 100.
- Genders: 50.6 % female, 48.7 % male, 0.5 % other, 0.2 % unknown.
- Names are drawn from name pools with a middle initial; a drawn person who would repeat
  another's name, birth date and region is redrawn, so a seeded roll has no likely
  duplicates and the duplicate check only fires on real ones.
- Party affiliation (``party_id``), for party primaries: when the election holds any, 70 %
  of the voters are affiliated with one of the parties holding one (in equal shares), the
  rest with none; otherwise no one is. It is drawn last, so the other columns are the same
  with or without primaries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

ROLL_COLUMNS = ("voter_id", "full_name", "birth_date", "gender", "region_id", "registered_on")

# A voter's party affiliation (null: none), beside the columns every roll has.
PARTY_COLUMN = "party_id"
AFFILIATED_SHARE = 0.7

GENDERS = ("female", "male", "other", "unknown")
GENDER_SHARES = (0.506, 0.487, 0.005, 0.002)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FEMALE_NAMES = _words(
    "Ada Alice Amara Ana Anja Beatriz Camille Chiara Chloe Dana Elena Elif Emma Eva Fatima "
    "Freya Grace Hana Ines Ingrid Isla Jana Julia Kaja Laila Lea Lena Lucia Maja Maria Mei "
    "Mila Nadia Nora Olivia Priya Rosa Sara Sofia Yara Zofia"
)
MALE_NAMES = _words(
    "Adam Ahmed Aleksander Andre Arjun Ben Bruno Carlos Chen Daniel David Elias Emil Felix "
    "Finn Hugo Ivan Jakob Jonas Jose Kenji Leo Liam Luca Lukas Marco Mateo Mohammed Noah "
    "Omar Oscar Pablo Rafael Samuel Tariq Theo Tomas Victor Yusuf"
)
NEUTRAL_NAMES = _words("Alex Ari Avery Charlie Jordan Kai Morgan Noor Quinn Robin Sam Sasha Taylor")
SURNAMES = _words(
    "Abara Adeyemi Andersen Bauer Becker Brandt Costa Dahl Diaz Dubois Eriksen Fischer "
    "Garcia Gomez Hansen Hoffmann Ito Jansen Jensen Kaur Kim Kowalski Kruger Larsen Lee "
    "Lindqvist Lopez Martin Mensah Meyer Moreau Moss Muller Nasser Nguyen Nielsen Novak "
    "Okafor Olsen Park Patel Perez Petrov Rossi Santos Schmidt Schulz Silva Singh Smith "
    "Sorensen Tanaka Vogel Wagner Walker Weber Wilson Wong Yilmaz Zhang"
)
INITIALS = tuple("ABCDEFGHIJKLMNOPRSTW")


@dataclass(frozen=True)
class PrecinctWeight:
    region_id: str
    population: int | None


def _age_weights(voting_age: int) -> tuple[np.ndarray, np.ndarray]:
    ages = np.arange(voting_age, 101)
    weights = np.where(ages < 60, 1.0, np.clip(1.0 - (ages - 60) / 42.0, 0.02, None))
    return ages, weights / weights.sum()


def _subtract_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _draw_names(rng: np.random.Generator, genders: np.ndarray) -> np.ndarray:
    n = len(genders)
    female = np.asarray(FEMALE_NAMES)[rng.integers(0, len(FEMALE_NAMES), n)]
    male = np.asarray(MALE_NAMES)[rng.integers(0, len(MALE_NAMES), n)]
    neutral = np.asarray(NEUTRAL_NAMES)[rng.integers(0, len(NEUTRAL_NAMES), n)]
    first = np.where(genders == "female", female, np.where(genders == "male", male, neutral))
    initial = np.asarray(INITIALS)[rng.integers(0, len(INITIALS), n)]
    last = np.asarray(SURNAMES)[rng.integers(0, len(SURNAMES), n)]
    return (pd.Series(first) + " " + pd.Series(initial) + ". " + pd.Series(last)).to_numpy()


def synthetic_roll(
    precincts: Sequence[PrecinctWeight],
    voters: int,
    *,
    election_day: date,
    voting_age: int = 18,
    seed: int = 0,
    primary_parties: Sequence[str] = (),
) -> pd.DataFrame:
    """One row per voter with :data:`ROLL_COLUMNS` and :data:`PARTY_COLUMN` (affiliated
    with one of ``primary_parties``, the parties holding a primary, or null); the same
    inputs give the same rows."""
    if voters < 0:
        raise ValueError("the number of voters cannot be negative")
    if not precincts:
        raise ValueError("an election needs at least one region to register voters in")
    rng = np.random.default_rng(seed)
    populations = np.array(
        [p.population if p.population else 0 for p in precincts], dtype=float
    )
    if populations.sum() == 0:
        populations = rng.uniform(0.5, 1.5, len(precincts))
    per_region = rng.multinomial(voters, populations / populations.sum())
    region_ids = np.repeat(np.asarray([p.region_id for p in precincts], dtype=object), per_region)

    genders = np.asarray(GENDERS, dtype=object)[rng.choice(len(GENDERS), voters, p=GENDER_SHARES)]
    ages, age_shares = _age_weights(voting_age)
    age = rng.choice(ages, voters, p=age_shares)
    day = np.datetime64(election_day, "D")
    # Born between a years and a + 1 years before election day, at most the latest
    # birth date that is still of voting age on election day.
    birth = day - (age * 365.25).astype("timedelta64[D]") - rng.integers(0, 365, voters).astype(
        "timedelta64[D]"
    )
    birth = np.minimum(birth, np.datetime64(_subtract_years(election_day, voting_age), "D"))
    of_age_at = birth + np.timedelta64(int(voting_age * 365.25) + 1, "D")
    earliest = np.maximum(of_age_at, day - np.timedelta64(30 * 365, "D"))
    span = np.maximum((day - earliest).astype(int) - 1, 1)
    registered = earliest + (rng.random(voters) * span).astype("timedelta64[D]")
    # Someone who comes of age just before election day pre-registered the day before.
    registered = np.minimum(registered, day - np.timedelta64(1, "D"))

    roll = pd.DataFrame(
        {
            "full_name": _draw_names(rng, genders),
            "birth_date": birth,
            "gender": genders,
            "region_id": region_ids,
            "registered_on": registered,
        }
    )
    while True:
        clashes = roll.duplicated(subset=["full_name", "birth_date", "region_id"]).to_numpy()
        if not clashes.any():
            break
        roll.loc[clashes, "full_name"] = _draw_names(rng, genders[clashes])
    roll.insert(0, "voter_id", [f"V{n:07d}" for n in range(1, voters + 1)])
    roll[PARTY_COLUMN] = _draw_affiliations(rng, voters, primary_parties)
    return roll


def _draw_affiliations(rng: np.random.Generator, voters: int,
                       parties: Sequence[str]) -> np.ndarray:
    """Each voter's party: one of ``parties`` for :data:`AFFILIATED_SHARE` of them, else
    None (everyone, when there are no parties)."""
    if not parties:
        return np.full(voters, None, dtype=object)
    affiliated = rng.random(voters) < AFFILIATED_SHARE
    drawn = np.asarray(list(parties), dtype=object)[rng.integers(0, len(parties), voters)]
    return np.where(affiliated, drawn, None)
