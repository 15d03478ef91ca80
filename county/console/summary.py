"""Report summaries: the counts behind the console's coverage and payment reports, kept
per 参保年度 in ``report_coverage`` / ``report_payments`` so a report at 500,000 residents
answers in milliseconds (counting them takes seconds — the way DHIS2 keeps analytics
tables). A summary is refreshed in the background every ``report_refresh_minutes``, after
an import is applied, and when a case worker asks; the report shows when it was counted.
A refresh replaces a year's rows in one transaction, so a reader sees the old figures or
the new ones, never half of each; two refreshes of one year never run at once."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

import psycopg

log = logging.getLogger(__name__)
REFRESH_LOCK = 0x7265706F  # advisory lock namespace ("repo"); the year is the second key

# {p}, {e}, {paid}: where a county's own recount (``region``) narrows each part to its
# residents' partitions; the province's count leaves them empty
COVERAGE_SQL = """
WITH p AS (
    SELECT pe.region, pe.id, pe.home_sp_id AS sp_id,
           coalesce(nullif(h.data->>'village_name', ''), '（未填村）') AS village,
           coalesce(pe.data->>'subsidy_category', 'none') AS person_subsidy
    FROM person pe
    LEFT JOIN person_link pl ON pl.person_id = pe.id AND pl.sp_id = pe.home_sp_id
    LEFT JOIN household h ON h.id = pl.household_id
    WHERE coalesce(pe.data->>'status', '1') NOT IN ('3', 'exited', 'dead'){p}
), e AS (
    SELECT DISTINCT ON (person_id) region, person_id, id, data FROM enrollment
    WHERE year = %(year)s AND conflict_status <> 'lost'{e}
    ORDER BY person_id, arrival
), paid AS (
    SELECT DISTINCT pa.enrollment_id FROM payment pa
    JOIN enrollment en ON en.region = pa.region AND en.id = pa.enrollment_id
    WHERE en.year = %(year)s AND pa.amount > 0
      AND coalesce(pa.data->>'status', '') NOT IN ('voided', 'refunded'){paid}
)
SELECT %(year)s, p.region, p.sp_id, p.village, count(*) AS registered,
       count(*) FILTER (WHERE paid.enrollment_id IS NOT NULL) AS paid,
       count(*) FILTER (WHERE paid.enrollment_id IS NULL AND e.id IS NOT NULL
           AND coalesce(e.data->>'subsidy_category', p.person_subsidy) <> 'none') AS subsidized
FROM p LEFT JOIN e ON e.region = p.region AND e.person_id = p.id LEFT JOIN paid ON paid.enrollment_id = e.id
GROUP BY p.region, p.sp_id, p.village
"""

PAYMENTS_SQL = """
SELECT %(year)s, en.region,
       coalesce(pa.data->>'paid_on', to_char(pa.created_at, 'YYYY-MM-DD')) AS day,
       coalesce(pa.data->>'channel', '') AS channel, count(*) AS n, sum(pa.amount) AS total
FROM payment pa JOIN enrollment en ON en.region = pa.region AND en.id = pa.enrollment_id
WHERE en.year = %(year)s AND coalesce(pa.data->>'status', '') NOT IN ('voided', 'refunded'){paid}
GROUP BY 2, 3, 4
"""


def _counting(sql: str, region: str) -> str:
    """``sql`` for the province (``region`` ""), or narrowed to one county's partitions."""
    if not region:
        return sql.format(p="", e="", paid="")
    return sql.format(
        p=" AND pe.region = %(region)s",
        e=" AND region = %(region)s",
        paid=" AND pa.region = %(region)s AND en.region = %(region)s",
    )


def _take_lock(conn: psycopg.Connection, year: int, first: bool) -> bool:
    """One count of a year at a time (the province's or a county's: they replace the same
    rows). ``first``: wait for one under way, and skip when it counted the year."""
    if first:
        conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (REFRESH_LOCK, year))
        return counted_at(conn, year) is None
    got = conn.execute(
        "SELECT pg_try_advisory_xact_lock(%s, %s) AS ok", (REFRESH_LOCK, year)
    ).fetchone()
    return bool(got["ok"] if isinstance(got, dict) else got[0])


def refresh(conn: psycopg.Connection, year: int, *, first: bool = False, region: str = "") -> bool:
    """Count ``year`` afresh: the province (every county), or one county's residents
    (``region``) — what a county's case worker asks for. False when another count of that
    year is under way (its result will do). ``first``: the year was never counted — wait
    for a count under way rather than skip, and do not count again what it just counted."""
    t0 = time.perf_counter()
    with conn.transaction():
        if not _take_lock(conn, year, first and not region):
            return False
        conn.execute("SET LOCAL work_mem = '64MB'")
        args = {"year": year, "region": region}
        scope = " AND region = %(region)s" if region else ""
        conn.execute("DELETE FROM report_coverage WHERE year = %(year)s" + scope, args)
        conn.execute("DELETE FROM report_payments WHERE year = %(year)s" + scope, args)
        conn.execute(
            "INSERT INTO report_coverage(year, region, sp_id, village, registered, paid,"
            " subsidized) " + _counting(COVERAGE_SQL, region),
            args,
        )
        conn.execute(
            "INSERT INTO report_payments(year, region, day, channel, n, total) "
            + _counting(PAYMENTS_SQL, region),
            args,
        )
        took = round((time.perf_counter() - t0) * 1000)
        conn.execute(
            (
                "INSERT INTO report_refresh_county(year, region, refreshed_at, took_ms)"
                " VALUES (%(year)s, %(region)s, now(), %(took)s) ON CONFLICT (year, region)"
                if region
                else "INSERT INTO report_refresh(year, refreshed_at, took_ms)"
                " VALUES (%(year)s, now(), %(took)s) ON CONFLICT (year)"
            )
            + " DO UPDATE SET refreshed_at = now(), took_ms = EXCLUDED.took_ms",
            {**args, "took": took},
        )
    log.info("report summary for %s %s counted in %d ms", year, region or "(all)", took)
    return True


def counted_at(conn: psycopg.Connection, year: int, region: str = "") -> dt.datetime | None:
    """When ``year`` was counted for the province — or, for one county (``region``), the
    later of that and the county's own recount."""
    row = conn.execute(
        "SELECT greatest((SELECT refreshed_at FROM report_refresh WHERE year = %(y)s),"
        " (SELECT refreshed_at FROM report_refresh_county WHERE year = %(y)s"
        " AND region = %(r)s AND %(r)s <> '')) AS at",
        {"y": year, "r": region},
    ).fetchone()
    return (row["at"] if isinstance(row, dict) else row[0]) if row else None


def ensure(conn: psycopg.Connection, year: int) -> dt.datetime | None:
    """The time ``year`` was counted; counted now (once, slowly) when it never was."""
    at = counted_at(conn, year)
    if at is None:
        refresh(conn, year, first=True)
        at = counted_at(conn, year)
    return at


def refresh_stale(conn: psycopg.Connection, max_age: dt.timedelta, today: dt.date) -> list[int]:
    """Refresh last year, this year and next (the campaign for next year runs in autumn)
    when counted longer than ``max_age`` ago or never; older years only when someone
    asks. Returns the years refreshed."""
    years = {
        r["year"] if isinstance(r, dict) else r[0]
        for r in conn.execute(
            "SELECT year FROM report_refresh WHERE refreshed_at < now() - %s AND year >= %s",
            (max_age, today.year - 1),
        )
    }
    counted = {
        r["year"] if isinstance(r, dict) else r[0]
        for r in conn.execute("SELECT year FROM report_refresh")
    }
    years |= {y for y in (today.year, today.year + 1) if y not in counted}
    return [y for y in sorted(years) if refresh(conn, y)]


def recent_years(today: dt.date) -> list[int]:
    """The years the campaign touches: last year's late payments, this year, next year."""
    return [today.year - 1, today.year, today.year + 1]


def request_refresh(pool, years: list[int], region: str = "") -> None:
    """Refresh ``years`` (of one county, ``region``, or all) on a background thread (after
    an import: the page stays quick)."""

    def run() -> None:
        try:
            with pool.connection() as conn:
                for y in years:
                    refresh(conn, y, region=region)
        except Exception:  # the next scheduled refresh tries again
            log.exception("report summary refresh failed")

    threading.Thread(target=run, name="report-refresh", daemon=True).start()


class Refresher:
    """The county server's background counter: every ``minutes``, the stale years; each
    round also runs ``chores(conn)`` (the worker's housekeeping). Every worker runs one:
    the refresh of a year takes an advisory lock, so one worker counts it and the others
    find it fresh."""

    def __init__(self, pool, minutes: int, chores=None):
        self.pool, self.minutes, self.chores = pool, minutes, chores
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="report-refresher", daemon=True)

    def start(self) -> Refresher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        age = dt.timedelta(minutes=self.minutes)
        while not self._stop.wait(min(60.0, self.minutes * 60.0)):
            try:
                with self.pool.connection() as conn:
                    if self.chores is not None:
                        self.chores(conn)
                        conn.commit()
                    refresh_stale(conn, age, dt.date.today())
            except Exception:  # the database was away: try at the next round
                log.exception("report summary refresh failed")
