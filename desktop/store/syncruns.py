"""Sync bookkeeping: one row per sync run, the last sync time and error (settings), and the
small look-ups the sync worker makes while applying what it received."""

from __future__ import annotations

import sqlite_utils

from desktop.store.cipher import sqlite3
from desktop.store.db import Store


def start_run(db: sqlite_utils.Database, at: str, trigger: str) -> int:
    return db.conn.execute(
        "INSERT INTO sync_run(started_at, trigger) VALUES (?, ?)", (at, trigger)
    ).lastrowid


def close_dangling(db: sqlite_utils.Database, at: str) -> int:
    """Runs left without an outcome (the power went, the disk was full when the run was to
    be closed) are closed as interrupted; returns how many."""
    return db.conn.execute(
        "UPDATE sync_run SET outcome = 'interrupted', finished_at = COALESCE(finished_at, ?),"
        " message = '上次同步没有完成（断电、程序被关闭或磁盘已满）' WHERE outcome IS NULL",
        (at,),
    ).rowcount


def finish_run(
    db: sqlite_utils.Database,
    run_id: int,
    *,
    finished_at: str,
    pushed: int,
    pulled: int,
    round_trips: int,
    bytes_sent: int,
    bytes_received: int,
    outcome: str,
    message: str,
) -> None:
    """Close a run; a failed one also becomes the last sync error, an ok one clears it."""
    db.conn.execute(
        "UPDATE sync_run SET finished_at = ?, pushed = ?, pulled = ?, round_trips = ?,"
        " bytes_sent = ?, bytes_received = ?, outcome = ?, message = ? WHERE id = ?",
        (
            finished_at,
            pushed,
            pulled,
            round_trips,
            bytes_sent,
            bytes_received,
            outcome,
            message[:500],
            run_id,
        ),
    )
    if outcome != "ok":
        _set(db.conn, "last_sync_error", message[:500])
    else:
        db.conn.execute("DELETE FROM settings WHERE key = 'last_sync_error'")


def set_last_sync_at(db: sqlite_utils.Database, at: str) -> None:
    _set(db.conn, "last_sync_at", at)


def _set(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO settings(key, value) VALUES (?, ?)"
        " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def open_inbox_count(store: Store) -> int:
    row = store.query_one("SELECT COUNT(*) AS n FROM sync_inbox WHERE resolved_at IS NULL")
    return row["n"] if row else 0


def mirror_rows(store: Store, entity: str) -> list[dict]:
    """The county's rows of one entity held in the mirror (not removed)."""
    return store.query(
        "SELECT id, version, data FROM server_row WHERE entity = ? AND removed = 0", (entity,)
    )


def ytd_rows_not_held(conn: sqlite3.Connection, entity: str) -> list[str]:
    """Mirrored county year-to-date rows (JSON) whose figures the estimator does not hold
    for that person, year and as-of time yet."""
    return [
        text
        for (text,) in conn.execute(
            "SELECT s.data FROM server_row s WHERE s.entity = ? AND s.removed = 0 AND NOT EXISTS"
            " (SELECT 1 FROM person_ytd y WHERE y.person_id = json_extract(s.data, '$.person_id')"
            "  AND y.year = json_extract(s.data, '$.year')"
            "  AND y.as_of = json_extract(s.data, '$.as_of'))",
            (entity,),
        ).fetchall()
    ]


def ytd_held(conn: sqlite3.Connection, person_id: str, year: int, as_of: str | None) -> bool:
    return (
        conn.execute(
            "SELECT 1 FROM person_ytd WHERE person_id = ? AND year = ? AND as_of = ? LIMIT 1",
            (person_id, year, as_of),
        ).fetchone()
        is not None
    )


def operator_exists(conn: sqlite3.Connection, operator_id: str | None) -> bool:
    return (
        conn.execute("SELECT 1 FROM operator WHERE id = ?", (operator_id,)).fetchone() is not None
    )


def person_name_and_cert(conn: sqlite3.Connection, person_id: str) -> tuple[str, str] | None:
    r = conn.execute("SELECT name, cert_no FROM person WHERE id = ?", (person_id,)).fetchone()
    return (r[0], r[1]) if r else None


def active_operator(store: Store, username: str) -> dict | None:
    """An active operator by user name (the CLI's ``--operator`` for a sync run)."""
    return store.query_one(
        "SELECT id, username, display_name, role FROM operator WHERE username = ? AND active = 1",
        (username,),
    )


def last_run(store: Store) -> dict | None:
    return store.query_one("SELECT * FROM sync_run ORDER BY id DESC LIMIT 1")


def last_failure_code(store: Store) -> str:
    """The error code of the last finished sync when it failed ('' when it went well)."""
    row = store.query_one(
        "SELECT outcome, message FROM sync_run WHERE outcome IS NOT NULL ORDER BY id DESC LIMIT 1"
    )
    if not row or row["outcome"] != "failed" or not row["message"]:
        return ""
    return row["message"].split(" ", 1)[0][:40]
