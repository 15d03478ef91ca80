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

_CAMPAIGN = """
WITH paid AS (
    SELECT person_id, max(year = :year) AS now, max(year = :prev) AS before FROM (
        SELECT person_id, year FROM payment WHERE year IN (:year, :prev)
          AND status IN ('local', 'confirmed') AND (:asof IS NULL OR paid_on <= :asof)
        UNION ALL
        SELECT person_id, year FROM enrollment WHERE year IN (:year, :prev)
          AND county_confirmed_at IS NOT NULL
          AND (:asof IS NULL OR substr(county_confirmed_at, 1, 10) <= :asof))
    GROUP BY person_id)
SELECT h.village_id, coalesce(v.name, :none) AS village, count(*) AS registered,
       sum(coalesce(paid.now, 0)) AS paid,
       sum(coalesce(paid.now, 0) = 0 AND p.insured_category IN ({now})) AS subsidized,
       sum(coalesce(paid.before, 0)) AS paid_before,
       sum(coalesce(paid.before, 0) = 0 AND p.insured_category IN ({before})) AS subsidized_before
FROM household h JOIN person p ON p.household_id = h.id
LEFT JOIN paid ON paid.person_id = p.id LEFT JOIN village v ON v.id = h.village_id
WHERE p.status != 3 AND (:asof IS NULL OR substr(p.created_at, 1, 10) <= :asof)
GROUP BY h.village_id ORDER BY v.name IS NULL, v.name
"""


def village_campaign(
    store: Store,
    year: int,
    full_subsidy: frozenset[str],
    before_subsidy: frozenset[str] = frozenset(),
    as_of: str | None = None,
) -> list[dict]:
    """Per village (in name order; households without a village last): village_id, village,
    registered, paid, subsidized for ``year`` and paid_before, subsidized_before for the
    year before (each year with its own fully subsidized categories) — one pass over the
    township. ``as_of`` (a date): as the figures stood at its end — persons registered and
    payments made by then (a report of a past month)."""
    params: dict = {"year": year, "prev": year - 1, "asof": as_of, "none": NO_VILLAGE}

    def marks(prefix: str, cats: frozenset[str]) -> str:
        names = sorted(cats)
        params.update({f"{prefix}{i}": c for i, c in enumerate(names)})
        return ", ".join(f":{prefix}{i}" for i in range(len(names))) or "NULL"

    sql = _CAMPAIGN.format(now=marks("c", full_subsidy), before=marks("b", before_subsidy))
    return store.query(sql, params)


def payments_by_day(store: Store, start: str, end: str, year: int | None = None) -> list[dict]:
    """Live payments with ``start <= paid_on <= end`` (for the 参保年度 ``year`` only, when
    given: the campaign's chart) per day and method: day, channel, n, amounts (yuan, as
    text, summed exactly by the caller)."""
    by_year = " AND year = :year" if year is not None else ""
    return store.query(
        "SELECT paid_on AS day, channel, count(*) AS n, group_concat(amount, ' ') AS amounts"
        " FROM payment WHERE paid_on BETWEEN :s AND :e AND status IN ('local', 'confirmed')"
        f"{by_year} GROUP BY paid_on, channel ORDER BY paid_on, channel",
        {"s": start, "e": end, "year": year},
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
