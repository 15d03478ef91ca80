"""Enrollments (参保年度 of a person): one row per person and year with the terms computed
when the year was paid or subsidized. ``terms_json`` (the terms with their reasons) stays
on the desk: it is never sent to the county."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from core.records.contributions import Enrollment
from desktop.store.db import Store
from desktop.store.journal import now_iso, write_journaled
from desktop.store.places import new_row_id

LOCAL_ONLY = ("terms_json",)


def by_year(store: Store, person_id: str) -> dict[int, dict]:
    """The person's enrollment of each year."""
    return {
        r["year"]: r
        for r in store.query("SELECT * FROM enrollment WHERE person_id = ?", (person_id,))
    }


def records(store: Store, person_id: str) -> dict[int, Enrollment]:
    """The person's enrollments as typed rows, by 参保年度."""
    return {y: Enrollment.from_row(r) for y, r in by_year(store, person_id).items()}


def by_id(store: Store, enrollment_id: str) -> dict | None:
    return store.query_one("SELECT * FROM enrollment WHERE id = ?", (enrollment_id,))


def _wire(row: dict) -> dict:
    return {k: v for k, v in row.items() if k not in LOCAL_ONLY}


def upsert_terms(
    db: sqlite_utils.Database,
    person: dict,
    year: int,
    terms: dict[str, Any],
    *,
    operator_id: str | None,
    now: str | None = None,
) -> dict:
    """Create the person's enrollment for ``year`` with ``terms`` (column → value), or
    update its terms: row, audit entry, ``enrollment.create`` / ``enrollment.update`` op."""
    now = now or now_iso()
    cur = db.conn.execute(
        "SELECT * FROM enrollment WHERE person_id = ? AND year = ?", (person["id"], year)
    )
    found = cur.fetchone()
    if found is None:
        row = {
            "id": new_row_id(db.conn),
            "person_id": person["id"],
            "year": year,
            "insurance_type": "390",
            "insured_category": person["insured_category"],
            "subsidy_category": person["subsidy_category"],
            "status": "registered",
            "created_at": now,
            "updated_at": now,
            "version": 1,
            "origin": "local",
            **terms,
        }
        return write_journaled(
            db,
            "enrollment",
            row,
            operator_id=operator_id,
            action="enrollment.create",
            op_payload=_wire(row),
            read_back=False,
        )
    old = dict(zip([d[0] for d in cur.description], found, strict=True))
    sets = {**terms, "updated_at": now, "version": old["version"] + 1}
    new = {**old, **sets}
    return write_journaled(
        db,
        "enrollment",
        sets,
        before=old,
        operator_id=operator_id,
        action="enrollment.update",
        op_payload=_wire(new),
        read_back=False,
    )


def clear_benefits(
    db: sqlite_utils.Database, enrollment_id: str, *, operator_id: str | None
) -> dict | None:
    """The year's payment was voided or refunded: no benefit period, no wait."""
    cur = db.conn.execute("SELECT * FROM enrollment WHERE id = ?", (enrollment_id,))
    found = cur.fetchone()
    if found is None:
        return None
    old = dict(zip([d[0] for d in cur.description], found, strict=True))
    sets = {
        "benefits_from": None,
        "benefits_to": None,
        "waiting": None,
        "updated_at": now_iso(),
        "version": old["version"] + 1,
    }
    return write_journaled(
        db,
        "enrollment",
        sets,
        before=old,
        operator_id=operator_id,
        action="enrollment.update",
        hide=LOCAL_ONLY,
        read_back=False,
    )


def with_person(store: Store, enrollment_id: str) -> dict | None:
    """An enrollment with its person's identity and village (for the 参保凭证)."""
    return store.query_one(
        "SELECT e.*, p.name, p.cert_type, p.cert_no, p.sex, p.birth_date, p.region_code,"
        " v.name AS village FROM enrollment e JOIN person p ON p.id = e.person_id"
        " LEFT JOIN household h ON h.id = p.household_id"
        " LEFT JOIN village v ON v.id = h.village_id WHERE e.id = ?",
        (enrollment_id,),
    )
