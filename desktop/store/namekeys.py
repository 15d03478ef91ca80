"""Search keys of the other common readings of a person's name (table
``person_name_key``; the usual reading is in ``person.name_pinyin``/``name_initials``)."""

from __future__ import annotations

from core.names import other_pinyin_keys
from desktop.store.cipher import sqlite3

_INSERT = "INSERT OR IGNORE INTO person_name_key(key, person_id) VALUES (?, ?)"


def set_name_keys(
    conn: sqlite3.Connection, person_id: str, name: str, *, new: bool = False
) -> None:
    """Index the other common readings of a name (inside the caller's transaction);
    ``new``: a person just inserted, with no keys to replace."""
    if not new:
        conn.execute("DELETE FROM person_name_key WHERE person_id = ?", (person_id,))
    keys = other_pinyin_keys(name or "")
    if keys:
        conn.executemany(_INSERT, [(k, person_id) for k in keys])


def reindex_name_keys(conn: sqlite3.Connection) -> int:
    """Rebuild every person's keys (a migration step); returns the persons indexed."""
    conn.execute("DELETE FROM person_name_key")
    rows = conn.execute("SELECT id, name FROM person").fetchall()
    conn.executemany(_INSERT, [(k, pid) for pid, name in rows for k in other_pinyin_keys(name)])
    return len(rows)
