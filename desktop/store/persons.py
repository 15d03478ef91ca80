"""Persons: rows, name search keys, duplicates by certificate number, search and history.

Writes run inside the caller's ``Store.write()`` transaction and go through
:func:`desktop.store.journal.write_journaled` (row + audit entry + outbox op). Reads take
the :class:`~desktop.store.Store` (its lock) unless they say ``conn``.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from core.records.persons import Person
from desktop.store.cipher import sqlite3
from desktop.store.db import Store
from desktop.store.journal import write_journaled
from desktop.store.namekeys import set_name_keys

_TOP = "\U0010ffff"
RESULT_COLS = (
    "p.id, p.name, p.cert_type, p.cert_no, p.sex, p.birth_date, p.relation, p.status,"
    " p.household_id, p.insured_category, v.name AS village"
)
RESULT_FROM = (
    " FROM person p LEFT JOIN household h ON h.id = p.household_id"
    " LEFT JOIN village v ON v.id = h.village_id"
)


def _dict(cur: sqlite3.Cursor, r: tuple | None) -> dict | None:
    if r is None:
        return None
    return dict(zip([c[0] for c in cur.description], r, strict=True))


def row(conn: sqlite3.Connection, person_id: str) -> dict | None:
    """The person's row as stored (inside a transaction: pass ``db.conn``)."""
    cur = conn.execute("SELECT * FROM person WHERE id = ?", (person_id,))
    return _dict(cur, cur.fetchone())


def get(store: Store, person_id: str) -> dict | None:
    """The person's row as stored."""
    return store.query_one("SELECT * FROM person WHERE id = ?", (person_id,))


def record(store: Store, person_id: str) -> Person | None:
    """The person as a typed row."""
    r = store.query_one("SELECT * FROM person WHERE id = ?", (person_id,))
    return Person.from_row(r) if r else None


def exists(conn: sqlite3.Connection, person_id: str) -> bool:
    return conn.execute("SELECT 1 FROM person WHERE id = ?", (person_id,)).fetchone() is not None


def with_village(store: Store, person_id: str) -> dict | None:
    """The person's row with its household's village (``village``, ``village_id``)."""
    return store.query_one(
        "SELECT p.*, v.name AS village, h.village_id FROM person p"
        " LEFT JOIN household h ON h.id = p.household_id"
        " LEFT JOIN village v ON v.id = h.village_id WHERE p.id = ?",
        (person_id,),
    )


def members(store: Store, household_id: str) -> list[dict]:
    """A household's members, head first, then spouse, then by birth date and name."""
    return store.query(
        "SELECT * FROM person WHERE household_id = ?"
        " ORDER BY relation != 'head', relation != 'spouse', birth_date, name",
        (household_id,),
    )


def count(store: Store) -> int:
    return store.query_one("SELECT COUNT(*) AS n FROM person")["n"]


def example(store: Store) -> dict | None:
    """A resident to show in examples (screenshots): one who has paid, else the first."""
    return store.query_one(
        "SELECT p.id FROM person p JOIN payment pay ON pay.person_id = p.id"
        " ORDER BY pay.paid_on, p.name LIMIT 1"
    ) or store.query_one("SELECT id FROM person ORDER BY created_at LIMIT 1")


def with_cert_no(conn: sqlite3.Connection, cert_no: str, exclude_id: str | None) -> list[dict]:
    """Records carrying this certificate number (any type), with their village."""
    cur = conn.execute(
        "SELECT p.id, p.name, p.cert_type, p.cert_no, p.sex, p.birth_date, p.household_id,"
        " p.relation, v.name AS village FROM person p"
        " LEFT JOIN household h ON h.id = p.household_id"
        " LEFT JOIN village v ON v.id = h.village_id"
        " WHERE p.cert_no = ? AND p.id IS NOT ?",
        (cert_no, exclude_id),
    )
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


# ------------------------------------------------------------------ writes


def insert(db: sqlite_utils.Database, values: dict[str, Any], operator_id: str | None) -> dict:
    """A new person: row, audit entry, ``person.create`` op, name search keys."""
    out = write_journaled(db, "person", values, operator_id=operator_id, action="person.create")
    set_name_keys(db.conn, out["id"], out["name"], new=True)
    return out


def update(
    db: sqlite_utils.Database, before: dict, sets: dict[str, Any], operator_id: str | None
) -> dict:
    """Change a person (``sets`` as written, with updated_at and version): row, audit entry
    with the whole row before and after, ``person.update`` op; name keys follow the name."""
    out = write_journaled(
        db, "person", sets, before=before, operator_id=operator_id, action="person.update"
    )
    if out["name"] != before["name"]:
        set_name_keys(db.conn, out["id"], out["name"])
    return out


# ------------------------------------------------------------------ search


def search_range(store: Store, column: str, value: str, limit: int) -> list[dict]:
    """Persons whose ``column`` (cert_no, name, name_initials, name_pinyin) starts with
    ``value``: an index range scan, exact matches first (the index is ordered)."""
    if column not in ("cert_no", "name", "name_initials", "name_pinyin"):
        raise ValueError(f"not a search column: {column}")
    return store.query(
        f"SELECT {RESULT_COLS}{RESULT_FROM} WHERE p.{column} >= ? AND p.{column} < ?"
        f" ORDER BY p.{column} LIMIT ?",
        (value, value + _TOP, limit),
    )


def search_other_readings(store: Store, value: str, limit: int) -> list[dict]:
    """Persons one of whose other name readings starts with ``value`` (pinyin)."""
    return store.query(
        f"SELECT {RESULT_COLS} FROM person_name_key k JOIN person p ON p.id = k.person_id"
        " LEFT JOIN household h ON h.id = p.household_id"
        " LEFT JOIN village v ON v.id = h.village_id"
        " WHERE k.key >= ? AND k.key < ? ORDER BY k.key LIMIT ?",
        (value, value + _TOP, limit),
    )


def duplicates(store: Store, limit: int) -> list[dict]:
    """Persons whose certificate number another not-terminated record carries."""
    return store.query(
        f"SELECT {RESULT_COLS}{RESULT_FROM} WHERE p.status != 3 AND p.cert_no IN ("
        " SELECT cert_no FROM person WHERE status != 3"
        " GROUP BY cert_no HAVING COUNT(*) > 1 LIMIT ?)"
        " ORDER BY p.cert_no, p.created_at",
        (limit,),
    )


def audit_trail(store: Store, person_id: str) -> list[dict]:
    """The person's audit entries (changes, not views: those are 查询留痕), oldest first,
    with the operator's display name."""
    return store.query(
        "SELECT a.seq, a.at, a.action, a.detail, o.display_name AS operator"
        " FROM audit_log a LEFT JOIN operator o ON o.id = a.operator_id"
        " WHERE a.entity = 'person' AND a.entity_id = ? AND a.action != 'person.view'"
        " ORDER BY a.seq",
        (person_id,),
    )
