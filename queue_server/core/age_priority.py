"""Priority by age, read from the citizen identity card at the kiosk: which priority group a công dân is old enough
for. Pure: the groups, the card's birth date (or only its year, when the QR has no readable date) and the
centre's local day are passed in.

The rule (docs/rules.md, "Priority by age"): only groups with a `min_age` count. A công dân qualifies for a
group when their age on `today` (full years, `citizen_card.age_on`) is at least its `min_age`; of the groups
they qualify for, the one with the highest `min_age` is theirs (the most specific: 75+ before 60+), the first
listed on a tie. With no readable birth date the age is the least the card's year of birth allows (born on 31
December of that year), so nobody gets priority the card does not prove. A group asked for by name must be one
with a `min_age` the công dân reaches.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Sequence

from queue_server.core.citizen_card import age_on
from queue_server.core.errors import DomainError


@dataclass(frozen=True)
class AgeGroup:
    id: str
    min_age: int


def least_age(birth_date: date | None, birth_year: int, today: date) -> int:
    """The age the card proves on `today`: from the birth date, else from 31 December of the year of birth."""
    return age_on(birth_date or date(birth_year, 12, 31), today)


def group_for_age(groups: Sequence[AgeGroup], age: int, wanted: str | None = None) -> str:
    """The group of `groups` a công dân of `age` full years takes (see the module's rule), or DomainError:
    priority_by_age_off (no group has a minimum age, or `wanted` is not one), priority_age_not_met (too young;
    `min_age` is the youngest age that would qualify)."""
    if wanted is not None:
        groups = [g for g in groups if g.id == wanted]
    if not groups:
        raise DomainError("priority_by_age_off")
    best: AgeGroup | None = None
    for g in groups:
        if age >= g.min_age and (best is None or g.min_age > best.min_age):
            best = g
    if best is None:
        raise DomainError("priority_age_not_met", min_age=min(g.min_age for g in groups))
    return best.id
