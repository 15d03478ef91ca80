"""Plausibility of a member's relation to the household head (与户主关系) by age: a warning
for the clerk to confirm, never a refusal (families are varied). Pure: no Qt, no I/O.

The thresholds are ordinary facts of age, not policy: a spouse is an adult (法定婚龄 20/22,
warned below 18) and not two generations apart; a child is at least 14 years younger than
the parent it is registered under; a grandchild 30; a parent or grandparent the mirror."""

from __future__ import annotations

import datetime as dt

from core.categories import RELATIONS

SPOUSE_MIN_AGE = 18
SPOUSE_MAX_GAP = 30
GENERATION_MIN_GAP = 14
TWO_GENERATIONS_MIN_GAP = 30


def _years(a: dt.date, b: dt.date) -> int:
    """Whole years from a to b (negative when b is before a)."""
    n = b.year - a.year - ((b.month, b.day) < (a.month, a.day))
    return n


def relation_warning(
    relation: str, head_birth: dt.date | None, member_birth: dt.date | None, today: dt.date
) -> str | None:
    """A Chinese sentence when ``relation`` does not fit the two birth dates, else None."""
    if relation in ("head", "other", "sibling", "child_in_law") or not member_birth:
        return None
    age = _years(member_birth, today)
    label = RELATIONS.get(relation, relation)
    if relation == "spouse" and age < SPOUSE_MIN_AGE:
        return f"登记为“{label}”的成员今年{age}岁，未到成年，请核对与户主关系"
    if head_birth is None:
        return None
    older_by = _years(member_birth, head_birth)  # > 0: the member is older than the head
    gap = abs(older_by)
    if relation == "spouse" and gap > SPOUSE_MAX_GAP:
        return f"登记为“{label}”的成员与户主相差{gap}岁，请核对与户主关系"
    if relation in ("son", "daughter") and -older_by < GENERATION_MIN_GAP:
        return f"登记为“{label}”的成员只比户主小{-older_by}岁，请核对与户主关系"
    if relation == "grandchild" and -older_by < TWO_GENERATIONS_MIN_GAP:
        return f"登记为“{label}”的成员只比户主小{-older_by}岁，请核对与户主关系"
    if relation == "parent" and older_by < GENERATION_MIN_GAP:
        return f"登记为“{label}”的成员只比户主大{older_by}岁，请核对与户主关系"
    if relation == "grandparent" and older_by < TWO_GENERATIONS_MIN_GAP:
        return f"登记为“{label}”的成员只比户主大{older_by}岁，请核对与户主关系"
    return None
