"""The desk's settings table (key → text; no secrets ever: they live in the OS keyring)."""

from __future__ import annotations

from desktop.store.cipher import sqlite3
from desktop.store.db import Store


def all_settings(store: Store) -> dict[str, str]:
    return {r["key"]: r["value"] for r in store.query("SELECT key, value FROM settings")}


def put(conn: sqlite3.Connection, key: str, value: str) -> None:
    """Set one key inside the caller's write transaction."""
    conn.execute(
        "INSERT INTO settings(key, value) VALUES (?, ?)"
        " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def delete(conn: sqlite3.Connection, key: str) -> None:
    """Remove one key inside the caller's write transaction."""
    conn.execute("DELETE FROM settings WHERE key = ?", (key,))


def has_registered_device(conn: sqlite3.Connection) -> bool:
    """This desk holds a county device registration (table there and one row)."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sync_device'"
    ).fetchone()
    return bool(exists) and conn.execute("SELECT COUNT(*) FROM sync_device").fetchone()[0] > 0


def set_device_server_url(conn: sqlite3.Connection, url: str) -> None:
    conn.execute("UPDATE sync_device SET server_url = ?", (url,))
