"""The home page's and the reports' counts (首页, 月报, 征缴进度): villages' campaign figures
for a 参保年度, payments by day and method, the day's work. Counted in SQL: a township of
50,000 residents answers in milliseconds.

The campaign figures match the campaign list (征缴名单) person for person: a person counts
when not terminated (status 3); **paid** = a live payment (not voided or refunded) for the
year, or an enrollment the county confirmed; **subsidized** = not paid and in a category the
year's policy subsidizes in full (资助参保); **unpaid** = the rest — the names on the list.
"""

from __future__ import annotations

from desktop.store.db import Store

NO_VILLAGE = "（未填村）"

_PAID = (
    "(EXISTS (SELECT 1 FROM payment pay WHERE pay.person_id = p.id AND pay.year = :year"
    "   AND pay.status IN ('local', 'confirmed') AND (:asof IS NULL OR pay.paid_on <= :asof))"
    " OR EXISTS (SELECT 1 FROM enrollment e WHERE e.person_id = p.id AND e.year = :year"
    "   AND e.county_confirmed_at IS NOT NULL"
    "   AND (:asof IS NULL OR substr(e.county_confirmed_at, 1, 10) <= :asof)))"
)


def village_campaign(
    store: Store, year: int, full_subsidy: frozenset[str], as_of: str | None = None
) -> list[dict]:
    """Per village (in name order; households without a village last): village_id, village,
    registered, paid, subsidized. ``as_of`` (a date): as the figures stood at its end —
    persons registered and payments made by then (a report of a past month)."""
    cats = sorted(full_subsidy)
    marks = ", ".join(f":c{i}" for i in range(len(cats))) or "NULL"
    params: dict = {"year": year, "asof": as_of, **{f"c{i}": c for i, c in enumerate(cats)}}
    return store.query(
        "SELECT h.village_id, coalesce(v.name, :none) AS village, count(*) AS registered,"
        f" sum(q.paid) AS paid, sum(NOT q.paid AND q.cat IN ({marks})) AS subsidized"
        f" FROM (SELECT p.household_id, p.insured_category AS cat, {_PAID} AS paid"
        "   FROM person p WHERE p.status != 3"
        "   AND (:asof IS NULL OR substr(p.created_at, 1, 10) <= :asof)) q"
        " JOIN household h ON h.id = q.household_id LEFT JOIN village v ON v.id = h.village_id"
        " GROUP BY h.village_id ORDER BY v.name IS NULL, v.name",
        {**params, "none": NO_VILLAGE},
    )


def payments_by_day(store: Store, start: str, end: str) -> list[dict]:
    """Live payments with ``start <= paid_on <= end`` per day and method: day, channel, n,
    total (yuan, as text summed exactly by the caller)."""
    return store.query(
        "SELECT paid_on AS day, channel, count(*) AS n, group_concat(amount, ' ') AS amounts"
        " FROM payment WHERE paid_on BETWEEN ? AND ? AND status IN ('local', 'confirmed')"
        " GROUP BY paid_on, channel ORDER BY paid_on, channel",
        (start, end),
    )


def estimates_on(store: Store, start: str, end: str) -> dict:
    """Estimates made between two local dates (inclusive): how many, how many settled."""
    return store.query_one(
        "SELECT count(*) AS n, coalesce(sum(settled), 0) AS settled FROM estimate"
        " WHERE substr(created_at, 1, 10) BETWEEN ? AND ?",
        (start, end),
    )


def registrations_on(store: Store, start: str, end: str) -> dict:
    """Persons and households registered between two local dates (inclusive)."""
    return store.query_one(
        "SELECT (SELECT count(*) FROM person WHERE substr(created_at, 1, 10) BETWEEN :s AND :e)"
        " AS persons, (SELECT count(*) FROM household"
        "  WHERE substr(created_at, 1, 10) BETWEEN :s AND :e) AS households",
        {"s": start, "e": end},
    )


def voids_on(store: Store, start: str, end: str) -> dict:
    """Payments voided or refunded with their recording day in the period."""
    return store.query_one(
        "SELECT count(*) AS n FROM payment WHERE status IN ('voided', 'refunded')"
        " AND paid_on BETWEEN ? AND ?",
        (start, end),
    )
