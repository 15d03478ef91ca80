"""The lists on the 打印 page: recent receipts, certificates of a year, day sheets."""

from __future__ import annotations

from decimal import Decimal

from core import receipt as core
from core.money import ZERO, yuan
from desktop.services.receipts.common import CHANNEL_LABELS, PAYMENT_STATUS
from desktop.services.receipts.facts import day_sheet_key
from desktop.store import Store

# --------------------------------------------------------------------------- lists


def recent_receipts(store: Store, *, limit: int = 100, query: str = "") -> list[dict]:
    """Recent payments with receipts (newest first), with how often each was handed out."""
    like = f"%{query.strip()}%"
    rows = store.query(
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
    for r in rows:
        r["cert_masked"] = core.mask_id(r["cert_no"]) if r["cert_no"] else ""
        r["channel_label"] = CHANNEL_LABELS.get(r["channel"], r["channel"])
        r["status_label"] = PAYMENT_STATUS.get(r["status"], r["status"])
    return rows


def certificate_list(store: Store, *, year: int, village_id: str | None = None) -> list[dict]:
    """Enrollments of ``year`` (optionally one village) with whether a certificate can be
    printed (paid or fully subsidized) and how often it was handed out."""
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
    rows = store.query(sql, params)
    for r in rows:
        r["cert_masked"] = core.mask_id(r["cert_no"]) if r["cert_no"] else ""
        subsidized = bool(r["subsidized_by"]) and r["amount_due"] == "0.00"
        r["printable"] = bool(r["pay_status"]) or subsidized
        r["status_label"] = (
            PAYMENT_STATUS.get(r["pay_status"], "")
            if r["pay_status"]
            else ("资助参保" if subsidized else "未缴费")
        )
    return rows


def day_sheet_list(store: Store, *, limit: int = 60) -> list[dict]:
    """(operator, day) pairs that have payments, newest first, with count and sum."""
    rows = store.query(
        "SELECT pay.operator_id, o.display_name AS operator, pay.paid_on AS day,"
        " COUNT(*) AS n, SUM(pay.status IN ('local','confirmed')) AS live"
        " FROM payment pay LEFT JOIN operator o ON o.id = pay.operator_id"
        " WHERE pay.operator_id IS NOT NULL"
        " GROUP BY pay.operator_id, pay.paid_on ORDER BY pay.paid_on DESC, o.display_name"
        " LIMIT ?",
        (limit,),
    )
    for r in rows:
        r["key"] = day_sheet_key(r["operator_id"], r["day"])
        amounts = store.query(
            "SELECT amount FROM payment WHERE operator_id = ? AND paid_on = ?"
            " AND status IN ('local','confirmed')",
            (r["operator_id"], r["day"]),
        )
        r["sum"] = yuan(sum((Decimal(a["amount"]) for a in amounts), ZERO))
    return rows
