"""Migration steps that need Python (numbered like the SQL files in ``db/desktop`` and
applied in number order with them by :func:`desktop.store.db.build_migrations`)."""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

from desktop.store.namekeys import reindex_name_keys


def _person_name_keys(db: sqlite_utils.Database) -> None:
    # issue 11: index the other common readings of every existing person's name
    reindex_name_keys(db.conn)


def _audit_keyed(db: sqlite_utils.Database) -> None:
    """Issue 14: re-link the audit chain with keyed MACs (``audit_mac``). Each entry is
    re-linked only while the old chain holds (each link the plain SHA-256 of the previous
    one, or already keyed); from the first broken link on, entries are left as they were,
    so a break made before this step still shows in ``audit verify``."""
    from desktop.store import journal  # deferred: journal imports the store's driver module

    conn = db.conn
    rows = conn.execute(
        "SELECT seq, at, operator_id, action, entity, entity_id, detail, prev_hash, hash"
        " FROM audit_log ORDER BY seq"
    ).fetchall()
    relinked: list[tuple[str, str, int]] = []
    prev_old, prev_new, expected = journal.GENESIS, journal.GENESIS, 1
    for seq, at, op, action, entity, entity_id, detail, prev_hash, h in rows:
        old_body = journal._entry_body(prev_hash, seq, at, op, action, entity, entity_id, detail)
        sound = (
            seq == expected
            and prev_hash == prev_old
            and h in (journal.sha256_hex(old_body), journal._mac(conn, old_body))
        )
        if not sound:
            break
        new_hash = journal._mac(
            conn, journal._entry_body(prev_new, seq, at, op, action, entity, entity_id, detail)
        )
        relinked.append((prev_new, new_hash, seq))
        prev_old, prev_new, expected = h, new_hash, seq + 1
    if not relinked:
        return
    conn.execute("DROP TRIGGER audit_log_no_update")
    # hash is UNIQUE: park the new values first, then set them
    conn.executemany(
        "UPDATE audit_log SET hash = 'relink:' || seq WHERE seq = ?", [(r[2],) for r in relinked]
    )
    conn.executemany("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?", relinked)
    conn.execute(
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log"
        " BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
    )


PYTHON_STEPS: dict[str, Callable[[sqlite_utils.Database], None]] = {
    "0071_person_name_keys": _person_name_keys,
    "0110_audit_keyed": _audit_keyed,
}
