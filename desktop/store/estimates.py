"""Saved reimbursement estimates (报销测算) and the year-to-date figures (本年已报销) the
county reports for a person. Estimates stay on the desk (audited, never queued): they are
the clerk's working notes, not claims."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from core.records.estimates import SavedEstimate
from desktop.store.db import Store, insert_row
from desktop.store.journal import record_change

NOT_AUDITED = ("input_json", "result_json")


def county_ytd(store: Store, person_id: str, year: int) -> list[dict]:
    """The county's year-to-date figures of a person (field, amount, as_of)."""
    return store.query(
        "SELECT field, amount, as_of FROM person_ytd WHERE person_id = ? AND year = ?",
        (person_id, year),
    )


def settled_results(store: Store, person_id: str, year: int) -> list[dict]:
    """The person's settled estimates of ``year`` (id, policy_id, setting, input_json,
    result_json, settled_at, created_at), in the order they were settled."""
    return store.query(
        "SELECT id, policy_id, setting, input_json, result_json, settled_at, created_at"
        " FROM estimate"
        " WHERE person_id = ? AND year = ? AND settled = 1 ORDER BY settled_at",
        (person_id, year),
    )


def set_county_ytd(
    db: sqlite_utils.Database,
    person_id: str,
    year: int,
    amounts: dict[str, str],
    *,
    as_of: str,
    source: str,
    operator_id: str | None,
) -> None:
    """Replace the county's figures of a person's year (audited)."""
    for k, v in amounts.items():
        db.conn.execute(
            "INSERT INTO person_ytd(person_id, year, field, amount, as_of, source)"
            " VALUES (?,?,?,?,?,?) ON CONFLICT(person_id, year, field) DO UPDATE SET"
            " amount = excluded.amount, as_of = excluded.as_of, source = excluded.source",
            (person_id, year, k, v, as_of, source),
        )
    record_change(
        db,
        operator_id=operator_id,
        action="estimate.ytd_set",
        entity="person",
        entity_id=person_id,
        before=None,
        after={"year": year, "as_of": as_of, **amounts},
    )


def insert(db: sqlite_utils.Database, row: dict[str, Any], *, operator_id: str | None) -> None:
    """Save an estimate (audited without its input and result JSON)."""
    insert_row(db.conn, "estimate", row)
    record_change(
        db,
        operator_id=operator_id,
        action="estimate.save",
        entity="estimate",
        entity_id=row["id"],
        before=None,
        after={k: v for k, v in row.items() if k not in NOT_AUDITED},
    )


def row(store: Store, estimate_id: str) -> dict | None:
    return store.query_one("SELECT * FROM estimate WHERE id = ?", (estimate_id,))


def record(store: Store, estimate_id: str) -> SavedEstimate | None:
    """The saved estimate as a typed row."""
    r = row(store, estimate_id)
    return SavedEstimate.from_row(r) if r else None


def set_settled(
    db: sqlite_utils.Database,
    before: dict,
    *,
    settled: bool,
    at: str | None,
    by: str | None,
    operator_id: str | None,
) -> None:
    """Mark (or unmark) an estimate as settled by the hospital the same way (audited)."""
    db.conn.execute(
        "UPDATE estimate SET settled = ?, settled_at = ?, settled_by = ? WHERE id = ?",
        (1 if settled else 0, at, by, before["id"]),
    )
    record_change(
        db,
        operator_id=operator_id,
        action="estimate.settle" if settled else "estimate.unsettle",
        entity="estimate",
        entity_id=before["id"],
        before={"settled": before["settled"], "settled_at": before["settled_at"]},
        after={"settled": 1 if settled else 0, "settled_at": at},
    )


def with_names(store: Store, estimate_id: str) -> dict | None:
    """An estimate with its person's and operator's names."""
    return store.query_one(
        "SELECT e.*, p.name AS person_name, o.display_name AS operator FROM estimate e"
        " LEFT JOIN person p ON p.id = e.person_id"
        " LEFT JOIN operator o ON o.id = e.operator_id WHERE e.id = ?",
        (estimate_id,),
    )


def listing(
    store: Store, *, person_id: str | None, year: int | None, limit: int
) -> list[dict[str, Any]]:
    """Saved estimates, newest first, optionally of one person and/or year."""
    sql = (
        "SELECT e.id, e.person_id, p.name AS person_name, e.anon_label, e.policy_id, e.year,"
        " e.setting, e.medfee_sumamt, e.fund_pay_sumamt, e.psn_part_amt, e.settled,"
        " e.settled_at, e.created_at, o.display_name AS operator FROM estimate e"
        " LEFT JOIN person p ON p.id = e.person_id LEFT JOIN operator o ON o.id = e.operator_id"
    )
    where, params = [], []
    if person_id:
        where.append("e.person_id = ?")
        params.append(person_id)
    if year:
        where.append("e.year = ?")
        params.append(int(year))
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY e.created_at DESC, e.rowid DESC LIMIT ?"
    params.append(limit)
    return store.query(sql, params)
