"""Payments (缴费): rows, the live payment of a year, voids and county confirmations.

A payment is never deleted (a trigger refuses it): it is voided or refunded with a reason.
Writes run inside the caller's ``Store.write()`` and go through
:func:`desktop.store.journal.write_journaled` (row + audit entry + outbox op).
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from core.records.contributions import Payment
from desktop.store.db import Store
from desktop.store.journal import now_iso, record_change, write_journaled

LIVE = ("local", "confirmed")


def by_id(store: Store, payment_id: str) -> dict | None:
    return store.query_one("SELECT * FROM payment WHERE id = ?", (payment_id or "",))


def by_receipt_no(store: Store, receipt_no: str) -> dict | None:
    return store.query_one("SELECT * FROM payment WHERE receipt_no = ?", (receipt_no,))


def record(store: Store, payment_id: str) -> Payment | None:
    """The payment as a typed row."""
    row = by_id(store, payment_id)
    return Payment.from_row(row) if row else None


def record_by_receipt_no(store: Store, receipt_no: str) -> Payment | None:
    row = by_receipt_no(store, receipt_no)
    return Payment.from_row(row) if row else None


def live_records(store: Store, person_id: str) -> dict[int, Payment]:
    """The person's live payments as typed rows, by 参保年度."""
    return {y: Payment.from_row(r) for y, r in live_by_year(store, person_id).items()}


def live_by_year(store: Store, person_id: str) -> dict[int, dict]:
    """The person's live (not voided/refunded) payment of each 参保年度."""
    rows = store.query(
        "SELECT * FROM payment WHERE person_id = ? AND status IN ('local','confirmed')",
        (person_id,),
    )
    return {r["year"]: r for r in rows}


def ended(store: Store, person_id: str) -> list[dict]:
    """The person's voided and refunded payments, oldest first."""
    return store.query(
        "SELECT * FROM payment WHERE person_id = ? AND status NOT IN ('local','confirmed')"
        " ORDER BY created_at",
        (person_id,),
    )


def insert(
    db: sqlite_utils.Database,
    row: dict[str, Any],
    *,
    operator_id: str | None,
    op_extra: dict | None = None,
    extra: dict | None = None,
) -> dict:
    """A new payment: row, audit entry and ``payment.record`` op (``op_extra`` added to the
    op only, e.g. the certificate number the county matches on)."""
    return write_journaled(
        db,
        "payment",
        row,
        operator_id=operator_id,
        action="payment.record",
        op_extra=op_extra,
        read_back=False,
        extra=extra,
    )


def end(
    db: sqlite_utils.Database,
    row: dict,
    *,
    status: str,
    reason: str,
    supervisor_id: str,
    operator_id: str | None,
    extra: dict | None = None,
) -> dict:
    """Void or refund a live payment (``status`` voided | refunded); the op carries what the
    county needs to follow. Returns the row after."""
    now = now_iso()
    sets = {
        "status": status,
        "void_reason": reason,
        "supervisor_id": supervisor_id,
        "voided_at": now,
        "updated_at": now,
        "version": row["version"] + 1,
    }
    return write_journaled(
        db,
        "payment",
        sets,
        before=row,
        operator_id=operator_id,
        action="payment.refund" if status == "refunded" else "payment.void",
        op_payload={
            "id": row["id"],
            "receipt_no": row["receipt_no"],
            "status": status,
            "reason": reason,
            "supervisor_id": supervisor_id,
            "at": now,
        },
        read_back=False,
        extra=extra,
    )


def confirm(
    db: sqlite_utils.Database,
    row: dict,
    *,
    at: str,
    ref: str,
    version: int | None,
    operator_id: str | None,
) -> None:
    """The county (tax bureau) confirmed a payment: mark it and its enrollment year,
    audited (not queued: it came from the county)."""
    db.conn.execute(
        "UPDATE payment SET status = 'confirmed', confirmed_at = ?, confirmed_ref = ?,"
        " server_version = COALESCE(?, server_version), updated_at = ? WHERE id = ?",
        (at, ref, version, now_iso(), row["id"]),
    )
    if row["enrollment_id"]:
        db.conn.execute(
            "UPDATE enrollment SET county_confirmed_at = ? WHERE id = ?",
            (at, row["enrollment_id"]),
        )
    record_change(
        db,
        operator_id=operator_id,
        action="payment.confirm",
        entity="payment",
        entity_id=row["id"],
        before={"status": row["status"]},
        after={"status": "confirmed", "confirmed_at": at, "confirmed_ref": ref},
    )


# ------------------------------------------------------------------ reads for documents


def for_receipt(store: Store, receipt_no: str) -> dict | None:
    """A payment with what its receipt shows: the person, the year's terms, the operator."""
    return store.query_one(
        "SELECT pay.*, p.name, p.cert_type, p.cert_no, p.region_code,"
        " p.insured_category AS p_insured, p.subsidy_category AS p_subsidy,"
        " e.insured_category AS e_insured, e.subsidy_category AS e_subsidy,"
        " e.insurance_type, e.subsidized_amount, e.subsidized_by, e.benefits_from,"
        " e.benefits_to, e.waiting_unit, e.waiting, e.continuous_years, e.terms_json,"
        " o.display_name AS operator FROM payment pay"
        " JOIN person p ON p.id = pay.person_id"
        " LEFT JOIN enrollment e ON e.id = pay.enrollment_id"
        " LEFT JOIN operator o ON o.id = pay.operator_id"
        " WHERE pay.receipt_no = ?",
        (receipt_no,),
    )


def live_with_operator(store: Store, person_id: str, year: int) -> dict | None:
    """The live payment of a person's year with the collecting operator's name."""
    return store.query_one(
        "SELECT pay.*, o.display_name AS operator FROM payment pay"
        " LEFT JOIN operator o ON o.id = pay.operator_id"
        " WHERE pay.person_id = ? AND pay.year = ? AND pay.status IN ('local','confirmed')",
        (person_id, year),
    )


def of_day(store: Store, operator_id: str, day: str) -> list[dict]:
    """An operator's payments of one day (every status), by receipt number, with names."""
    return store.query(
        "SELECT pay.*, p.name, p.cert_no FROM payment pay JOIN person p ON p.id = pay.person_id"
        " WHERE pay.operator_id = ? AND pay.paid_on = ? ORDER BY pay.receipt_no",
        (operator_id, day),
    )


def live_amounts_of_day(store: Store, operator_id: str, day: str) -> list[str]:
    return [
        r["amount"]
        for r in store.query(
            "SELECT amount FROM payment WHERE operator_id = ? AND paid_on = ?"
            " AND status IN ('local','confirmed')",
            (operator_id, day),
        )
    ]
