"""The service point (one per desk) and its villages (村/居委会)."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from core import rowids
from desktop.store.cipher import sqlite3
from desktop.store.db import Store, insert_row


def service_point(store: Store) -> dict | None:
    return store.query_one("SELECT * FROM service_point LIMIT 1")


def has_service_point(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM service_point LIMIT 1").fetchone() is not None


def _region_code(conn: sqlite3.Connection) -> str:
    row = conn.execute("SELECT region_code FROM service_point LIMIT 1").fetchone()
    return row[0] if row else ""


def region_code(store: Store) -> str:
    """The service point's 6-digit 医保区划 ('' before set-up)."""
    return _region_code(store.conn)


def new_row_id(conn: sqlite3.Connection) -> str:
    """A new id for a resident, an enrollment or a payment: it carries this service point's
    county, where the county server reads it first (``core.rowids``)."""
    return rowids.new_row_id(_region_code(conn))


def summary(store: Store) -> dict | None:
    return store.query_one("SELECT name, code, region_code, device_no FROM service_point LIMIT 1")


def insert_service_point(db: sqlite_utils.Database, row: dict[str, Any]) -> None:
    insert_row(db.conn, "service_point", row)


def rename_service_point(conn: sqlite3.Connection, name: str) -> None:
    conn.execute("UPDATE service_point SET name = ?", (name,))


def villages(store: Store) -> list[dict]:
    return store.query("SELECT id, code, name FROM village ORDER BY name")


def village_ids(store: Store) -> set[str]:
    return {r["id"] for r in store.query("SELECT id FROM village")}


def village_exists(conn: sqlite3.Connection, village_id: str) -> bool:
    return conn.execute("SELECT 1 FROM village WHERE id = ?", (village_id,)).fetchone() is not None


def village_named(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM village WHERE name = ?", (name,)).fetchone() is not None


def village_id_named(store: Store, name: str) -> str | None:
    row = store.query_one("SELECT id FROM village WHERE name = ?", (name,))
    return row["id"] if row else None


def insert_village(conn: sqlite3.Connection, village_id: str, service_point_id: str, name: str):
    conn.execute(
        "INSERT INTO village(id, service_point_id, name) VALUES (?, ?, ?)",
        (village_id, service_point_id, name),
    )
