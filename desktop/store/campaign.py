"""The campaign list's reads (征缴名单): who in a village or household has not paid a year.

A scope is a village (``village_id``) or one household (``household_id``). Persons whose
enrollment is terminated (status 3) are outside every campaign.
"""

from __future__ import annotations

from desktop.store.db import Store


def _scope(village_id: str | None, household_id: str | None) -> tuple[str, list]:
    if village_id:
        return "h.village_id = ?", [village_id]
    return "p.household_id = ?", [household_id]


def unpaid(
    store: Store, year: int, *, village_id: str | None = None, household_id: str | None = None
) -> list[dict]:
    """Persons in scope with no live payment and no county-confirmed enrollment for
    ``year``, household by household (head first, then by birth date)."""
    where, params = _scope(village_id, household_id)
    return store.query(
        "SELECT p.id, p.name, p.cert_no, p.cert_type, p.sex, p.birth_date, p.relation,"
        " p.insured_category, p.subsidy_category, p.region_code, p.phone, p.household_id,"
        " h.address, hp.name AS head_name, v.name AS village"
        " FROM person p JOIN household h ON h.id = p.household_id"
        " LEFT JOIN person hp ON hp.id = h.head_person_id"
        " LEFT JOIN village v ON v.id = h.village_id"
        f" WHERE {where} AND p.status != 3"
        " AND NOT EXISTS (SELECT 1 FROM payment pay WHERE pay.person_id = p.id"
        "   AND pay.year = ? AND pay.status IN ('local','confirmed'))"
        " AND NOT EXISTS (SELECT 1 FROM enrollment e WHERE e.person_id = p.id"
        "   AND e.year = ? AND e.county_confirmed_at IS NOT NULL)"
        " ORDER BY h.address, p.household_id, p.relation != 'head', p.birth_date",
        (*params, year, year),
    )


def persons_in_scope(
    store: Store, *, village_id: str | None = None, household_id: str | None = None
) -> int:
    """How many not-terminated persons the scope holds."""
    where, params = _scope(village_id, household_id)
    return store.query_one(
        "SELECT COUNT(*) AS n FROM person p JOIN household h ON h.id = p.household_id"
        f" WHERE {where} AND p.status != 3",
        params,
    )["n"]


def payers(
    store: Store, year: int, *, village_id: str | None = None, household_id: str | None = None
) -> set[str]:
    """Persons in scope with a live payment for ``year``."""
    where, params = _scope(village_id, household_id)
    return {
        r["person_id"]
        for r in store.query(
            "SELECT pay.person_id FROM payment pay JOIN person p ON p.id = pay.person_id"
            f" JOIN household h ON h.id = p.household_id WHERE {where} AND pay.year = ?"
            " AND pay.status IN ('local','confirmed')",
            (*params, year),
        )
    }
