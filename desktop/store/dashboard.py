"""The home page's and the reports' counts (首页, 月报, 征缴进度): villages' campaign figures
for a 参保年度, payments by day and method, the day's work, counted in SQL. Today's campaign
figures are read from counts kept per village (``refresh_campaign_tally`` /
``tallied_campaign``): triggers take a village out at every write that can change its
figures, and only those villages are counted again; figures as they stood on a past day
(``village_campaign`` with ``as_of``) are counted over the whole township.

The campaign figures match the campaign list (征缴名单) person for person: a person counts
when not terminated (status 3); **paid** = a live payment (not voided or refunded) for the
year, or an enrollment the county confirmed; **subsidized** = not paid and in a category the
year's policy subsidizes in full (资助参保); **unpaid** = the rest — the names on the list.
"""

from __future__ import annotations

import json

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


# One village's counts for one year, person by person over the village's households.
_TALLY_VILLAGE = """
SELECT p.insured_category AS category, count(*) AS persons,
       sum(EXISTS (SELECT 1 FROM payment pay WHERE pay.person_id = p.id AND pay.year = :year
                     AND pay.status IN ('local', 'confirmed'))
           OR EXISTS (SELECT 1 FROM enrollment e WHERE e.person_id = p.id AND e.year = :year
                        AND e.county_confirmed_at IS NOT NULL)) AS paid
FROM household h JOIN person p ON p.household_id = h.id
WHERE h.village_id IS :vid AND p.status != 3
GROUP BY p.insured_category
"""

# Every village's counts for two years (:a, :b; may be the same) in one pass over the township
# (many villages to count again).
_TALLY_ALL = """
WITH paid AS (
    SELECT person_id, max(year = :a) AS a, max(year = :b) AS b FROM (
        SELECT person_id, year FROM payment WHERE year IN (:a, :b)
          AND status IN ('local', 'confirmed')
        UNION ALL
        SELECT person_id, year FROM enrollment WHERE year IN (:a, :b)
          AND county_confirmed_at IS NOT NULL)
    GROUP BY person_id)
SELECT coalesce(h.village_id, '') AS village_key, p.insured_category AS category,
       count(*) AS persons, sum(coalesce(paid.a, 0)) AS paid_a, sum(coalesce(paid.b, 0)) AS paid_b
FROM household h JOIN person p ON p.household_id = h.id
LEFT JOIN paid ON paid.person_id = p.id
WHERE p.status != 3
GROUP BY h.village_id, p.insured_category
"""

# Above this many villages to count again for a year, one pass over all is quicker.
_ONE_PASS_FROM = 3


def refresh_campaign_tally(store: Store, years: tuple[int, ...]) -> int:
    """Count again what a write took out of ``campaign_tally`` (0140_campaign_tally.sql) for
    ``years``; returns how many villages were counted. One write transaction."""
    counted = 0
    with store.write() as db:
        conn = db.conn
        keys = {
            r[0] for r in conn.execute("SELECT DISTINCT coalesce(village_id, '') FROM household")
        }
        stale: dict[int, list[str]] = {}
        for year in years:
            done = _column(conn, "SELECT village_key FROM campaign_tallied WHERE year = ?", year)
            kept = _column(conn, "SELECT village_key FROM campaign_tally WHERE year = ?", year)
            if (keys | kept) - done:
                stale[year] = sorted((keys | kept) - done)
                counted += len(stale[year])
        whole = [y for y, v in stale.items() if len(v) > _ONE_PASS_FROM]
        for i in range(0, len(whole), 2):
            pair = whole[i : i + 2]
            a, b = pair[0], pair[-1]
            rows = conn.execute(_TALLY_ALL, {"a": a, "b": b}).fetchall()
            every = sorted(keys.union(*(stale[y] for y in pair)))
            for col, year in enumerate(pair, start=3):
                _keep(conn, year, every, keys, [(r[0], r[1], r[2], r[col]) for r in rows])
        for year in stale.keys() - set(whole):
            rows = [
                (k, *r)
                for k in stale[year]
                for r in conn.execute(_TALLY_VILLAGE, {"year": year, "vid": k or None})
            ]
            _keep(conn, year, stale[year], keys, rows)
    return counted


def _column(conn, sql: str, *params) -> set:
    return {r[0] for r in conn.execute(sql, params)}


def _keep(conn, year: int, counted: list[str], keys: set[str], rows: list[tuple]) -> None:
    """Replace the year's counts of the villages ``counted`` by ``rows`` (village, category,
    persons, paid); every village of ``keys`` is now counted."""
    conn.execute(
        "DELETE FROM campaign_tally WHERE year = ? AND village_key IN"
        " (SELECT value FROM json_each(?))",
        (year, json.dumps(counted)),
    )
    conn.executemany(
        "INSERT INTO campaign_tally VALUES (?, ?, ?, ?, ?)",
        [(k, year, c, n, paid) for k, c, n, paid in rows],
    )
    conn.executemany(
        "INSERT OR IGNORE INTO campaign_tallied VALUES (?, ?)", [(k, year) for k in keys]
    )


def tallied_campaign(
    store: Store, year: int, full_subsidy: frozenset[str], before_subsidy: frozenset[str]
) -> list[dict]:
    """``village_campaign`` for today, read from the kept counts (call
    ``refresh_campaign_tally`` for both years first): the same rows, without a pass over the
    township."""
    params: dict = {
        "year": year,
        "prev": year - 1,
        "none": NO_VILLAGE,
        "now": json.dumps(sorted(full_subsidy)),
        "before": json.dumps(sorted(before_subsidy)),
    }
    return store.query(
        "SELECT nullif(t.village_key, '') AS village_id, coalesce(v.name, :none) AS village,"
        " sum(t.persons * (t.year = :year)) AS registered,"
        " sum(t.paid * (t.year = :year)) AS paid,"
        " sum((t.persons - t.paid) * (t.year = :year"
        "     AND t.category IN (SELECT value FROM json_each(:now)))) AS subsidized,"
        " sum(t.paid * (t.year = :prev)) AS paid_before,"
        " sum((t.persons - t.paid) * (t.year = :prev"
        "     AND t.category IN (SELECT value FROM json_each(:before)))) AS subsidized_before"
        " FROM campaign_tally t LEFT JOIN village v ON v.id = t.village_key"
        " WHERE t.year IN (:year, :prev) GROUP BY t.village_key"
        " HAVING sum(t.persons * (t.year = :year)) > 0"
        " ORDER BY v.name IS NULL, v.name",
        params,
    )


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
