"""Checking a receipt's verification code against this desk's records."""

from __future__ import annotations

from decimal import Decimal

from core import receipt as core
from core.money import yuan
from desktop.services.receipts.common import PAYMENT_STATUS
from desktop.services.receipts.keys import verification_keys
from desktop.store import Store, payments

# --------------------------------------------------------------------------- verify


def verify(store: Store, code: str) -> dict:
    """Check a verification code with this desk's key; when the receipt is on file, also
    compare it with the payment. Returns {"ok", "message", "receipt_no", "amount", "date",
    "on_file", "status"}."""
    v = core.verify_payload(code, verification_keys(store))
    out = {
        "ok": v.ok,
        "message": v.message,
        "receipt_no": v.receipt_no,
        "amount": yuan(v.amount) if v.amount is not None else "",
        "date": v.date,
        "on_file": False,
        "status": "",
    }
    if not v.ok:
        return out
    pay = payments.record_by_receipt_no(store, v.receipt_no)
    if pay is not None:
        out["on_file"] = True
        out["status"] = PAYMENT_STATUS.get(pay.status, pay.status)
        if Decimal(pay.amount) != v.amount or pay.paid_on != v.date:
            out["ok"] = False
            out["message"] = "校验码有效，但与本机缴费记录的金额或日期不一致，请联系县医保部门核查"
        elif not pay.live:
            out["ok"] = False
            out["message"] = f"校验码有效，但该缴费{out['status']}，此收据已失效"
        else:
            out["message"] = v.message + f"；本机记录：{out['status']}"
    return out
