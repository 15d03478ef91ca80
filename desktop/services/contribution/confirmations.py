"""County confirmations arriving by sync (tax-bureau payments, 县级确认)."""

from __future__ import annotations

from desktop.services.contribution.common import LIVE
from desktop.store import Store, payments
from desktop.store.journal import now_iso


def apply_county_confirmations(
    store: Store, confirmations: list[dict], *, operator_id: str | None = None
) -> dict:
    """Mark payments confirmed by the county (tax bureau). See the module docstring."""
    out: dict[str, list] = {"confirmed": [], "already": [], "not_found": [], "not_live": []}
    with store.write() as db:
        for c in confirmations:
            if c.get("payment_id"):
                row = payments.by_id(store, c["payment_id"])
                key = c["payment_id"]
            else:
                key = c.get("receipt_no") or ""
                row = payments.by_receipt_no(store, key)
            if row is None:
                out["not_found"].append(key)
                continue
            if row["status"] == "confirmed":
                out["already"].append(row["id"])
                continue
            if row["status"] not in LIVE:
                out["not_live"].append(row["id"])
                continue
            at = str(c.get("confirmed_at") or now_iso())
            payments.confirm(
                db,
                row,
                at=at,
                ref=str(c.get("ref") or ""),
                version=c.get("version"),
                operator_id=operator_id,
            )
            out["confirmed"].append(row["id"])
    return out


# ------------------------------------------------------------------ status per year
