"""因病返贫 warnings (预警): the reads the check needs and the list, and raising one (row,
audit entry and outbox op in the caller's write transaction)."""

from __future__ import annotations

import sqlite_utils

from desktop.store.db import Store
from desktop.store.journal import write_journaled


def settled_burden(db: sqlite_utils.Database, person_id: str, year: int) -> list[str]:
    """The personal parts (yuan, text) of the person's settled estimates of ``year``."""
    return [
        r[0]
        for r in db.conn.execute(
            "SELECT psn_part_amt FROM estimate WHERE person_id = ? AND year = ? AND settled = 1"
            " AND psn_part_amt IS NOT NULL",
            (person_id, year),
        )
    ]


def county_figure(db: sqlite_utils.Database, person_id: str, year: int, field: str) -> str | None:
    row = db.conn.execute(
        "SELECT amount FROM person_ytd WHERE person_id = ? AND year = ? AND field = ?",
        (person_id, year, field),
    ).fetchone()
    return row[0] if row else None


def person_facts(db: sqlite_utils.Database, person_id: str) -> dict | None:
    row = db.conn.execute(
        "SELECT id, insured_category, region_code, status FROM person WHERE id = ?",
        (person_id,),
    ).fetchone()
    return (
        dict(zip(("id", "insured_category", "region_code", "status"), row, strict=True))
        if row
        else None
    )


def exists(db: sqlite_utils.Database, person_id: str, year: int) -> bool:
    return (
        db.conn.execute(
            "SELECT 1 FROM poverty_alert WHERE person_id = ? AND year = ?", (person_id, year)
        ).fetchone()
        is not None
    )


def raise_alert(db: sqlite_utils.Database, values: dict, operator_id: str | None) -> dict:
    return write_journaled(
        db, "poverty_alert", values, operator_id=operator_id, action="poverty_alert.raise"
    )


def listing(store: Store, year: int | None = None) -> list[dict]:
    """Alerts, newest first, with the person, and whether the county has it yet."""
    return store.query(
        "SELECT a.*, p.name, p.cert_no, p.cert_type, p.phone, v.name AS village,"
        " (SELECT o.status FROM outbox o WHERE o.op_type = 'poverty_alert.raise'"
        "   AND o.entity_id = a.id) AS sent"
        " FROM poverty_alert a JOIN person p ON p.id = a.person_id"
        " LEFT JOIN household h ON h.id = p.household_id LEFT JOIN village v ON v.id = h.village_id"
        " WHERE ? IS NULL OR a.year = ? ORDER BY a.created_at DESC",
        (year, year),
    )


def count(store: Store, year: int) -> int:
    return store.query_one("SELECT count(*) AS n FROM poverty_alert WHERE year = ?", (year,))["n"]
