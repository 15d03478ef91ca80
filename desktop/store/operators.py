"""Operators (the clerks and supervisors who log in at this desk): the SQL behind
:mod:`desktop.services.auth`. Password hashes never leave this module except to be verified."""

from __future__ import annotations

import json

import sqlite_utils

from desktop.store.db import Store, insert_row

PUBLIC = "id, username, display_name, role, active, created_at, locked"


def count(db: sqlite_utils.Database) -> int:
    return db.conn.execute("SELECT COUNT(*) FROM operator").fetchone()[0]


def username_taken(db: sqlite_utils.Database, username: str) -> bool:
    return db.conn.execute("SELECT 1 FROM operator WHERE username = ?", (username,)).fetchone()


def insert(db: sqlite_utils.Database, row: dict) -> None:
    insert_row(db.conn, "operator", row)


def get(db: sqlite_utils.Database, operator_id: str) -> dict | None:
    """One operator's public fields (no password hash), inside a write transaction."""
    cur = db.conn.execute(f"SELECT {PUBLIC} FROM operator WHERE id = ?", (operator_id,))
    row = cur.fetchone()
    return dict(zip([c[0] for c in cur.description], row, strict=True)) if row else None


def public(store: Store, operator_id: str) -> dict | None:
    """One operator's public fields (no password hash)."""
    return store.query_one(f"SELECT {PUBLIC} FROM operator WHERE id = ?", (operator_id,))


def by_username(store: Store, username: str) -> dict | None:
    """The operator row for log-in (with its password hash), active or not."""
    return store.query_one("SELECT * FROM operator WHERE username = ?", (username,))


def list_all(store: Store) -> list[dict]:
    return store.query(f"SELECT {PUBLIC} FROM operator ORDER BY active DESC, role DESC, username")


def set_password_hash(db: sqlite_utils.Database, operator_id: str, password_hash: str) -> None:
    db.conn.execute(
        "UPDATE operator SET password_hash = ? WHERE id = ?", (password_hash, operator_id)
    )


def record_failure(db: sqlite_utils.Database, operator_id: str, at: str, lock_at: int) -> int:
    """One more wrong password in a row; the account locks at ``lock_at``. Returns the count."""
    db.conn.execute(
        "UPDATE operator SET failed_logins = failed_logins + 1, last_failed_at = ?,"
        " locked = CASE WHEN failed_logins + 1 >= ? THEN 1 ELSE locked END WHERE id = ?",
        (at, lock_at, operator_id),
    )
    return db.conn.execute(
        "SELECT failed_logins FROM operator WHERE id = ?", (operator_id,)
    ).fetchone()[0]


def clear_failures(db: sqlite_utils.Database, operator_id: str) -> None:
    """A successful log-in, or a supervisor's unlock: no count, no lock."""
    db.conn.execute(
        "UPDATE operator SET failed_logins = 0, last_failed_at = NULL, locked = 0 WHERE id = ?",
        (operator_id,),
    )


def set_active(db: sqlite_utils.Database, operator_id: str, active: bool) -> None:
    db.conn.execute("UPDATE operator SET active = ? WHERE id = ?", (int(active), operator_id))


def active_supervisors(db: sqlite_utils.Database) -> int:
    return db.conn.execute(
        "SELECT COUNT(*) FROM operator WHERE role = 'supervisor' AND active = 1"
    ).fetchone()[0]


def service_point_id(store: Store) -> str | None:
    row = store.query_one("SELECT id FROM service_point LIMIT 1")
    return row["id"] if row else None


def last_login_username(store: Store) -> str:
    """The user name of the last successful log-in at this desk (from the audit log), so the
    log-in box can offer it; empty on a new desk."""
    row = store.query_one(
        "SELECT detail FROM audit_log WHERE action = 'operator.login' ORDER BY seq DESC LIMIT 1"
    )
    if row is None:
        return ""
    try:
        return str(json.loads(row["detail"]).get("username") or "")
    except (ValueError, AttributeError):
        return ""
