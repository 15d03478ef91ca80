"""The lists on the 打印 page: recent receipts, certificates of a year, day sheets."""

from __future__ import annotations

from decimal import Decimal

from core.ids import mask_id
from core.money import ZERO, yuan
from desktop.services.receipts.common import CHANNEL_LABELS, PAYMENT_STATUS
from desktop.services.receipts.facts import day_sheet_key
from desktop.store import Store, documents, payments

# --------------------------------------------------------------------------- lists


def recent_receipts(store: Store, *, limit: int = 100, query: str = "") -> list[dict]:
    """Recent payments with receipts (newest first), with how often each was handed out."""
    rows = documents.recent_receipts(store, limit=limit, query=query)
    for r in rows:
        r["cert_masked"] = mask_id(r["cert_no"]) if r["cert_no"] else ""
        r["channel_label"] = CHANNEL_LABELS.get(r["channel"], r["channel"])
        r["status_label"] = PAYMENT_STATUS.get(r["status"], r["status"])
    return rows


def certificate_list(store: Store, *, year: int, village_id: str | None = None) -> list[dict]:
    """Enrollments of ``year`` (optionally one village) with whether a certificate can be
    printed (paid or fully subsidized) and how often it was handed out."""
    rows = documents.certificates(store, year=int(year), village_id=village_id)
    for r in rows:
        r["cert_masked"] = mask_id(r["cert_no"]) if r["cert_no"] else ""
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
    rows = documents.collection_days(store, limit=limit)
    for r in rows:
        r["key"] = day_sheet_key(r["operator_id"], r["day"])
        amounts = payments.live_amounts_of_day(store, r["operator_id"], r["day"])
        r["sum"] = yuan(sum((Decimal(a) for a in amounts), ZERO))
    return rows
