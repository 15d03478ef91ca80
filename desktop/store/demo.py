"""Reads the demo seeders use to find what they made before (so a second ``--demo`` start
adds only what is missing). Demo data is written through the services like real work."""

from __future__ import annotations

from desktop.store.db import Store


def person_named(store: Store, name: str) -> dict | None:
    """The first person with this exact name (id, household_id)."""
    return store.query_one(
        "SELECT id, household_id FROM person WHERE name = ? ORDER BY created_at, rowid LIMIT 1",
        (name,),
    )


def first_person(store: Store) -> dict | None:
    return store.query_one("SELECT id FROM person ORDER BY created_at, rowid LIMIT 1")


def has_persons(store: Store) -> bool:
    return store.query_one("SELECT 1 AS x FROM person LIMIT 1") is not None


def first_estimate(store: Store) -> dict | None:
    return store.query_one("SELECT id FROM estimate ORDER BY created_at LIMIT 1")


def first_supervisor(store: Store) -> dict | None:
    """The oldest active supervisor (id, username, display_name)."""
    return store.query_one(
        "SELECT id, username, display_name FROM operator WHERE role = 'supervisor'"
        " AND active = 1 ORDER BY created_at LIMIT 1"
    )


def busiest_day(store: Store, operator_id: str, year: int) -> str | None:
    """The payment day with most of an operator's payments for ``year``."""
    row = store.query_one(
        "SELECT paid_on, COUNT(*) AS n FROM payment WHERE operator_id = ? AND year = ?"
        " GROUP BY paid_on ORDER BY n DESC, paid_on LIMIT 1",
        (operator_id, year),
    )
    return row["paid_on"] if row else None


def payments_of_day(store: Store, operator_id: str, day: str) -> list[dict]:
    return store.query(
        "SELECT id, receipt_no, channel, status FROM payment WHERE operator_id = ?"
        " AND paid_on = ? ORDER BY receipt_no",
        (operator_id, day),
    )


def unpaid_person_ids(store: Store, year: int) -> list[str]:
    """Persons without a live payment for ``year``, oldest registration first."""
    return [
        r["id"]
        for r in store.query(
            "SELECT p.id FROM person p WHERE NOT EXISTS (SELECT 1 FROM payment pay"
            " WHERE pay.person_id = p.id AND pay.year = ? AND pay.status IN"
            " ('local','confirmed')) ORDER BY p.created_at, p.rowid",
            (year,),
        )
    ]


def live_receipts(store: Store, receipts: list[str]) -> list[str]:
    """Which of ``receipts`` belong to live payments, in receipt order."""
    if not receipts:
        return []
    return [
        r["receipt_no"]
        for r in store.query(
            "SELECT receipt_no FROM payment WHERE status IN ('local','confirmed')"
            f" AND receipt_no IN ({','.join('?' * len(receipts))}) ORDER BY receipt_no",
            receipts,
        )
    ]
