"""Documents handed out (收据, 参保凭证, 测算单, 日结单): the print log, frozen receipt
contents, and the lists of the 打印 page.

The print log is append-only like the audit log: a copy printed, saved or failed is a row
with its copy number; a reprint is a later copy, never an edit.
"""

from __future__ import annotations

import sqlite_utils

from desktop.store.db import Store
from desktop.store.journal import append_audit, new_id

HANDED_OUT = ("printed", "saved")


def copies_handed_out(store: Store, kind: str, key: str) -> int:
    row = store.query_one(
        "SELECT COUNT(*) AS n FROM print_log WHERE doc_kind = ? AND doc_key = ?"
        " AND status IN ('printed', 'saved')",
        (kind, key),
    )
    return int(row["n"]) if row else 0


def print_history(store: Store, kind: str, key: str) -> list[dict]:
    return store.query(
        "SELECT l.*, o.display_name AS operator FROM print_log l"
        " LEFT JOIN operator o ON o.id = l.operator_id"
        " WHERE l.doc_kind = ? AND l.doc_key = ? ORDER BY l.at, l.copy_no",
        (kind, key),
    )


def log_copy(
    db: sqlite_utils.Database,
    *,
    kind: str,
    key: str,
    copy_no: int,
    status: str,
    printer: str,
    at: str,
    operator_id: str | None,
    error: str,
    action: str,
    detail: dict,
) -> None:
    """One copy printed, saved or failed: a print-log row and its audit entry."""
    db.conn.execute(
        "INSERT INTO print_log(id, doc_kind, doc_key, copy_no, status, printer, at,"
        " operator_id, error) VALUES (?,?,?,?,?,?,?,?,?)",
        (new_id(), kind, key, copy_no, status, printer, at, operator_id, error),
    )
    append_audit(
        db,
        operator_id=operator_id,
        action=action,
        entity=kind,
        entity_id=key,
        detail=detail,
        at=at,
    )


# ------------------------------------------------------------------ receipt snapshots


def receipt_snapshot(store: Store, receipt_no: str) -> str | None:
    """The receipt's facts frozen when it was first made (JSON), or None."""
    row = store.query_one(
        "SELECT content FROM document_snapshot WHERE doc_kind = 'receipt' AND doc_key = ?",
        (receipt_no,),
    )
    return row["content"] if row else None


def has_receipt_snapshot(db: sqlite_utils.Database, receipt_no: str) -> bool:
    return (
        db.conn.execute(
            "SELECT 1 FROM document_snapshot WHERE doc_kind = 'receipt' AND doc_key = ?",
            (receipt_no,),
        ).fetchone()
        is not None
    )


def insert_receipt_snapshot(
    db: sqlite_utils.Database, receipt_no: str, content: str, at: str, operator_id: str | None
) -> None:
    db.conn.execute(
        "INSERT INTO document_snapshot(doc_kind, doc_key, content, created_at, operator_id)"
        " VALUES ('receipt', ?, ?, ?, ?)",
        (receipt_no, content, at, operator_id),
    )


# ------------------------------------------------------------------ the 打印 page's lists


def recent_receipts(store: Store, *, limit: int, query: str) -> list[dict]:
    """Payments with receipts, newest first, matching ``query`` in the receipt number,
    name or certificate number; with how often each receipt was handed out."""
    like = f"%{query.strip()}%"
    return store.query(
        "SELECT pay.receipt_no, pay.paid_on, pay.amount, pay.channel, pay.status, pay.year,"
        " p.name, p.cert_no, o.display_name AS operator,"
        " (SELECT COUNT(*) FROM print_log l WHERE l.doc_kind = 'receipt'"
        "   AND l.doc_key = pay.receipt_no AND l.status IN ('printed','saved')) AS copies"
        " FROM payment pay JOIN person p ON p.id = pay.person_id"
        " LEFT JOIN operator o ON o.id = pay.operator_id"
        " WHERE pay.receipt_no IS NOT NULL AND (? = '%%' OR pay.receipt_no LIKE ?"
        "   OR p.name LIKE ? OR p.cert_no LIKE ?)"
        " ORDER BY pay.created_at DESC, pay.receipt_no DESC LIMIT ?",
        (like, like, like, like, limit),
    )


def certificates(store: Store, *, year: int, village_id: str | None) -> list[dict]:
    """Enrollments of ``year`` (optionally one village) with the year's live payment status
    and how often the certificate was handed out."""
    sql = (
        "SELECT e.id AS enrollment_id, e.year, p.name, p.cert_no, v.name AS village,"
        " e.subsidized_by, e.amount_due,"
        " (SELECT pay.status FROM payment pay WHERE pay.person_id = e.person_id"
        "   AND pay.year = e.year AND pay.status IN ('local','confirmed')) AS pay_status,"
        " (SELECT COUNT(*) FROM print_log l WHERE l.doc_kind = 'certificate'"
        "   AND l.doc_key = e.id AND l.status IN ('printed','saved')) AS copies"
        " FROM enrollment e JOIN person p ON p.id = e.person_id"
        " LEFT JOIN household h ON h.id = p.household_id"
        " LEFT JOIN village v ON v.id = h.village_id WHERE e.year = ?"
    )
    params: list = [int(year)]
    if village_id:
        sql += " AND h.village_id = ?"
        params.append(village_id)
    sql += " ORDER BY v.name, p.name_pinyin, p.name"
    return store.query(sql, params)


def collection_days(store: Store, *, limit: int) -> list[dict]:
    """(operator, day) pairs that have payments, newest first, with counts."""
    return store.query(
        "SELECT pay.operator_id, o.display_name AS operator, pay.paid_on AS day,"
        " COUNT(*) AS n, SUM(pay.status IN ('local','confirmed')) AS live"
        " FROM payment pay LEFT JOIN operator o ON o.id = pay.operator_id"
        " WHERE pay.operator_id IS NOT NULL"
        " GROUP BY pay.operator_id, pay.paid_on ORDER BY pay.paid_on DESC, o.display_name"
        " LIMIT ?",
        (limit,),
    )
