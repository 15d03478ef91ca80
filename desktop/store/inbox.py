"""The sync inbox: what the county (or a refused upload) asks the clerk to do."""

from __future__ import annotations

import json

import sqlite_utils

from desktop.store.db import Store
from desktop.store.journal import canonical_json, now_iso


def add_inbox(
    db: sqlite_utils.Database,
    *,
    id: str,
    kind: str,
    title: str,
    action: str,
    severity: str = "warn",
    op_id: str | None = None,
    entity: str | None = None,
    entity_id: str | None = None,
    detail: dict | None = None,
    resolved: bool = False,
) -> None:
    now = now_iso()
    db.conn.execute(
        "INSERT INTO sync_inbox(id, kind, severity, op_id, entity, entity_id, title, action,"
        " detail, created_at, resolved_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
        " ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, title = excluded.title,"
        " action = excluded.action, detail = excluded.detail, severity = excluded.severity,"
        " resolved_at = CASE WHEN excluded.resolved_at IS NOT NULL"
        "   THEN COALESCE(sync_inbox.resolved_at, excluded.resolved_at)"
        "   ELSE sync_inbox.resolved_at END",
        (
            id,
            kind,
            severity,
            op_id,
            entity,
            entity_id,
            title,
            action,
            canonical_json(detail or {}),
            now,
            now if resolved else None,
        ),
    )


def inbox(store: Store, *, include_resolved: bool = False) -> list[dict]:
    where = "" if include_resolved else "WHERE resolved_at IS NULL"
    rows = store.query(
        f"SELECT * FROM sync_inbox {where} ORDER BY resolved_at IS NOT NULL, created_at DESC, id"
    )
    for r in rows:
        r["detail"] = json.loads(r["detail"] or "{}")
    return rows


def resolve_inbox(db: sqlite_utils.Database, item_id: str, operator_id: str) -> bool:
    cur = db.conn.execute(
        "UPDATE sync_inbox SET resolved_at = ?, resolved_by = ? WHERE id = ? AND resolved_at IS NULL",
        (now_iso(), operator_id, item_id),
    )
    return cur.rowcount == 1
