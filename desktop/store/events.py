"""Household life events (person_event), certificate numbers a person carried before, and
the refund tasks an exit leaves. Rows here are written inside the event's transaction,
beside the person and household changes (``persons.update``, ``households.insert`` …)."""

from __future__ import annotations

import json

import sqlite_utils

from desktop.store.db import Store
from desktop.store.journal import audit_event, new_id


def insert_event(
    db: sqlite_utils.Database,
    *,
    kind: str,
    household_id: str | None,
    from_household_id: str | None = None,
    person_ids: list[str],
    happened_on: str | None,
    reason: str,
    effect: list[str],
    operator_id: str | None,
    at: str,
) -> str:
    """The event itself (append-only) and its audit entry; returns its id."""
    eid = new_id()
    db.conn.execute(
        "INSERT INTO person_event(id, kind, household_id, from_household_id, person_ids,"
        " happened_on, reason, effect, operator_id, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (
            eid,
            kind,
            household_id,
            from_household_id,
            json.dumps(person_ids),
            happened_on,
            reason,
            json.dumps(effect, ensure_ascii=False),
            operator_id,
            at,
        ),
    )
    audit_event(
        db,
        operator_id=operator_id,
        action=f"household_event.{kind}",
        entity="person_event",
        entity_id=eid,
        after={"household_id": household_id, "persons": person_ids, "effect": effect},
        extra={"reason": reason, "happened_on": happened_on},
    )
    return eid


def _rows(store: Store, sql: str, params: tuple) -> list[dict]:
    out = store.query(sql, params)
    for r in out:
        r["person_ids"] = json.loads(r["person_ids"])
        r["effect"] = json.loads(r["effect"])
    return out


def of_household(store: Store, household_id: str) -> list[dict]:
    """Events that touched a household (or moved someone out of it), oldest first."""
    return _rows(
        store,
        "SELECT e.*, o.display_name AS operator FROM person_event e"
        " LEFT JOIN operator o ON o.id = e.operator_id"
        " WHERE e.household_id = ? OR e.from_household_id = ? ORDER BY e.created_at, e.rowid",
        (household_id, household_id),
    )


def of_person(store: Store, person_id: str) -> list[dict]:
    return _rows(
        store,
        "SELECT e.*, o.display_name AS operator FROM person_event e"
        " LEFT JOIN operator o ON o.id = e.operator_id"
        " WHERE e.person_ids LIKE ? ORDER BY e.created_at, e.rowid",
        (f'%"{person_id}"%',),
    )


def add_old_cert(
    db: sqlite_utils.Database, person_id: str, cert_type: str, cert_no: str, at: str, event_id: str
) -> None:
    db.conn.execute(
        "INSERT OR IGNORE INTO person_cert_history(person_id, cert_type, cert_no, replaced_at,"
        " event_id) VALUES (?,?,?,?,?)",
        (person_id, cert_type, cert_no, at, event_id),
    )


def old_cert_holders(db: sqlite_utils.Database, cert_no: str, exclude_id: str) -> list[str]:
    """Persons (other than ``exclude_id``) who carried this number before."""
    return [
        r[0]
        for r in db.conn.execute(
            "SELECT person_id FROM person_cert_history WHERE cert_no = ? AND person_id != ?",
            (cert_no, exclude_id),
        )
    ]


def old_certs(store: Store, person_id: str) -> list[dict]:
    return store.query(
        "SELECT cert_type, cert_no, replaced_at FROM person_cert_history WHERE person_id = ?"
        " ORDER BY replaced_at",
        (person_id,),
    )


def person_by_old_cert(store: Store, cert_no: str) -> str | None:
    row = store.query_one(
        "SELECT person_id FROM person_cert_history WHERE cert_no = ? LIMIT 1", (cert_no,)
    )
    return row["person_id"] if row else None


def add_refund_task(
    db: sqlite_utils.Database,
    *,
    person_id: str,
    payment_id: str,
    year: int,
    reason: str,
    event_id: str,
    at: str,
) -> None:
    db.conn.execute(
        "INSERT OR IGNORE INTO refund_task(id, person_id, payment_id, year, reason, event_id,"
        " created_at) VALUES (?,?,?,?,?,?,?)",
        (new_id(), person_id, payment_id, year, reason, event_id, at),
    )


def open_refund_tasks(store: Store) -> list[dict]:
    """Tasks whose payment is still live (a refund or void closes them), oldest first."""
    return store.query(
        "SELECT t.*, p.name, p.cert_no, pay.receipt_no, pay.amount, pay.paid_on"
        " FROM refund_task t JOIN person p ON p.id = t.person_id"
        " JOIN payment pay ON pay.id = t.payment_id"
        " WHERE pay.status IN ('local', 'confirmed') ORDER BY t.created_at, t.rowid"
    )
