"""Person aliases: a local person the county merged into another keeps resolving to it,
and the local rows are re-keyed to the county's id where they can be."""

from __future__ import annotations

import sqlite_utils

from desktop.store.cipher import sqlite3
from desktop.store.db import savepoint
from desktop.store.journal import append_audit, now_iso
from desktop.store.namekeys import set_name_keys


def add_alias(db: sqlite_utils.Database, alias_id: str, canonical_id: str, source: str) -> None:
    if alias_id == canonical_id:
        return
    db.conn.execute(
        "INSERT INTO person_alias(alias_id, canonical_id, source, created_at) VALUES (?,?,?,?)"
        " ON CONFLICT(alias_id) DO UPDATE SET canonical_id = excluded.canonical_id",
        (alias_id, canonical_id, source, now_iso()),
    )
    if rekey_person(db, alias_id, canonical_id):
        append_audit(
            db,
            operator_id=None,
            action="sync.person_merged",
            entity="person",
            entity_id=canonical_id,
            detail={"alias_id": alias_id, "canonical_id": canonical_id, "source": source},
        )


def canonical_person_id(store_or_db, person_id: str) -> str:
    row = store_or_db.conn.execute(
        "SELECT canonical_id FROM person_alias WHERE alias_id = ?", (person_id,)
    ).fetchone()
    return row[0] if row else person_id


def local_person_id(store_or_db, person_id: str) -> str | None:
    """The local person row for a county person id: the id itself (or what it was merged
    into), else a local id the county merged into it; None when the person is not here."""
    conn = store_or_db.conn
    for candidate in (person_id, canonical_person_id(store_or_db, person_id)):
        if candidate and conn.execute("SELECT 1 FROM person WHERE id = ?", (candidate,)).fetchone():
            return candidate
    row = conn.execute(
        "SELECT a.alias_id FROM person_alias a JOIN person p ON p.id = a.alias_id"
        " WHERE a.canonical_id = ? LIMIT 1",
        (person_id,),
    ).fetchone()
    return row[0] if row else None


def _person_refs(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """(table, column) pairs that hold a person id."""
    refs: list[tuple[str, str]] = []
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    for t in tables:
        for fk in conn.execute(f"PRAGMA foreign_key_list({t})"):
            if fk[2] == "person":
                refs.append((t, fk[3]))
    if ("household", "head_person_id") not in refs:
        refs.append(("household", "head_person_id"))
    return refs


def rekey_person(db: sqlite_utils.Database, old_id: str, new_id: str) -> bool:
    """Rewrite the local person ``old_id`` (merged by the county) to ``new_id`` and every
    reference to it. Outbox operations keep the old id (they are immutable; the county
    resolves them by alias). Returns False when there is nothing to rewrite or the rewrite
    would clash (both ids hold an enrollment for the same year): the alias still resolves."""
    conn = db.conn
    old = conn.execute("SELECT * FROM person WHERE id = ?", (old_id,)).fetchone()
    if old is None:
        return False
    with savepoint(conn):
        try:
            if conn.execute("SELECT 1 FROM person WHERE id = ?", (new_id,)).fetchone() is None:
                cols = [r[1] for r in conn.execute("PRAGMA table_info(person)")]
                sel = ", ".join("? AS id" if c == "id" else c for c in cols)
                conn.execute(
                    f"INSERT INTO person({', '.join(cols)}) SELECT {sel} FROM person WHERE id = ?",
                    (new_id, old_id),
                )
            for table, col in _person_refs(conn):
                if table in ("person", "person_name_key"):
                    continue
                conn.execute(f"UPDATE {table} SET {col} = ? WHERE {col} = ?", (new_id, old_id))
            # search keys belong to a name: the old id's go, the kept person's are rebuilt
            conn.execute("DELETE FROM person_name_key WHERE person_id = ?", (old_id,))
            conn.execute("DELETE FROM person WHERE id = ?", (old_id,))
            name = conn.execute("SELECT name FROM person WHERE id = ?", (new_id,)).fetchone()
            set_name_keys(conn, new_id, name[0] if name else "")
        except sqlite3.IntegrityError:
            raise RekeyClash() from None
    return True


class RekeyClash(sqlite3.IntegrityError):
    """Both ids hold rows that cannot be merged (e.g. an enrollment for the same year)."""

    pass
