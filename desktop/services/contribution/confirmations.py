"""County confirmations arriving by sync (tax-bureau payments, 县级确认)."""

from __future__ import annotations

from desktop.services.contribution.common import LIVE
from desktop.store import Store
from desktop.store.journal import now_iso, record_change


def apply_county_confirmations(
    store: Store, confirmations: list[dict], *, operator_id: str | None = None
) -> dict:
    """Mark payments confirmed by the county (tax bureau). See the module docstring."""
    out: dict[str, list] = {"confirmed": [], "already": [], "not_found": [], "not_live": []}
    with store.write() as db:
        for c in confirmations:
            if c.get("payment_id"):
                row = store.query_one("SELECT * FROM payment WHERE id = ?", (c["payment_id"],))
                key = c["payment_id"]
            else:
                key = c.get("receipt_no") or ""
                row = store.query_one("SELECT * FROM payment WHERE receipt_no = ?", (key,))
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
            ref = str(c.get("ref") or "")
            version = c.get("version")
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
            out["confirmed"].append(row["id"])
    return out


# ------------------------------------------------------------------ status per year
