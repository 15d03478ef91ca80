"""Households: rows (written with their audit entry and outbox op) and lists by village."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from core.records.persons import Household
from desktop.store.cipher import sqlite3
from desktop.store.db import Store
from desktop.store.journal import write_journaled


def row(conn: sqlite3.Connection, household_id: str) -> dict | None:
    """The household's row as stored (inside a transaction: pass ``db.conn``)."""
    cur = conn.execute("SELECT * FROM household WHERE id = ?", (household_id,))
    r = cur.fetchone()
    return None if r is None else dict(zip([c[0] for c in cur.description], r, strict=True))


def record(store: Store, household_id: str) -> Household | None:
    """The household as a typed row."""
    r = store.query_one("SELECT * FROM household WHERE id = ?", (household_id,))
    return Household.from_row(r) if r else None


def with_village(store: Store, household_id: str) -> dict | None:
    """The household's row and its village's name (``village``)."""
    return store.query_one(
        "SELECT h.*, v.name AS village FROM household h"
        " LEFT JOIN village v ON v.id = h.village_id WHERE h.id = ?",
        (household_id,),
    )


def insert(db: sqlite_utils.Database, values: dict[str, Any], operator_id: str | None) -> dict:
    """A new household: row, audit entry and ``household.create`` op."""
    return write_journaled(
        db,
        "household",
        values,
        operator_id=operator_id,
        action="household.create",
        op_extra=_village_name(db, values.get("village_id")),
    )


def _village_name(db: sqlite_utils.Database, village_id: str | None) -> dict:
    """The county receives the village's name beside its id (its reports are by village)."""
    if not village_id:
        return {}
    row = db.conn.execute("SELECT name FROM village WHERE id = ?", (village_id,)).fetchone()
    return {"village_name": row[0]} if row else {}


def update(
    db: sqlite_utils.Database, before: dict, sets: dict[str, Any], operator_id: str | None
) -> dict:
    """Change a household (``sets`` as written): row, audit entry, ``household.update`` op."""
    return write_journaled(
        db,
        "household",
        sets,
        before=before,
        operator_id=operator_id,
        action="household.update",
        op_extra=_village_name(db, sets.get("village_id")),
    )


def listing(store: Store, village_id: str | None, limit: int) -> list[dict]:
    """Households, newest first, with village, head's name and member count."""
    sql = (
        "SELECT h.id, h.household_no, h.address, v.name AS village, p.name AS head_name,"
        " (SELECT COUNT(*) FROM person m WHERE m.household_id = h.id) AS members"
        " FROM household h LEFT JOIN village v ON v.id = h.village_id"
        " LEFT JOIN person p ON p.id = h.head_person_id"
    )
    params: list[Any] = []
    if village_id:
        sql += " WHERE h.village_id = ?"
        params.append(village_id)
    sql += " ORDER BY h.created_at DESC LIMIT ?"
    params.append(limit)
    return store.query(sql, params)
