"""Voids and refunds (supervisor, with a reason): a payment is never deleted."""

from __future__ import annotations

from core.errors import ValidationError
from desktop.services.context import Actor
from desktop.services.contribution.common import LIVE
from desktop.store import Store
from desktop.store.journal import now_iso, record_change


def void_payment(
    store: Store,
    actor: Actor,
    payment_id: str,
    *,
    reason: str,
    supervisor: Actor | None,
    refund: bool = False,
) -> dict:
    """Void (作废: a mistake, not yet confirmed by the county) or refund (退费) a payment.
    Needs a supervisor (logged in as ``supervisor``) and a reason; nothing is deleted:
    the payment keeps its row with the new status, reason, supervisor and time, and the
    enrollment's benefit period is cleared. Audited and queued (``payment.void`` /
    ``payment.refund``)."""
    what = "退费" if refund else "作废缴费"
    if supervisor is None:
        raise ValidationError({"supervisor": f"{what}需要主管确认，请主管输入用户名和密码"})
    supervisor.require_supervisor(what)
    reason = " ".join(str(reason or "").split())
    if len(reason) < 2:
        raise ValidationError({"reason": f"请填写{what}原因（至少2个字）"})
    if len(reason) > 200:
        raise ValidationError({"reason": "原因最多200字"})
    with store.write() as db:
        row = store.query_one("SELECT * FROM payment WHERE id = ?", (payment_id or "",))
        if row is None:
            raise ValidationError({"payment_id": "找不到该缴费记录"})
        if row["status"] not in LIVE:
            raise ValidationError({"payment_id": "该缴费已作废或已退费，不能再次办理"})
        if not refund and row["status"] == "confirmed":
            raise ValidationError(
                {"payment_id": "该缴费已经县级（税务）确认，不能作废；如需退还请办理退费"}
            )
        now = now_iso()
        status = "refunded" if refund else "voided"
        after = {
            **row,
            "status": status,
            "void_reason": reason,
            "supervisor_id": supervisor.operator_id,
            "voided_at": now,
            "updated_at": now,
            "version": row["version"] + 1,
        }
        db.conn.execute(
            "UPDATE payment SET status = ?, void_reason = ?, supervisor_id = ?, voided_at = ?,"
            " updated_at = ?, version = ? WHERE id = ?",
            (status, reason, supervisor.operator_id, now, now, after["version"], row["id"]),
        )
        action = "payment.refund" if refund else "payment.void"
        record_change(
            db,
            operator_id=actor.operator_id,
            action=action,
            entity="payment",
            entity_id=row["id"],
            before=row,
            after=after,
            op_payload={
                "id": row["id"],
                "receipt_no": row["receipt_no"],
                "status": status,
                "reason": reason,
                "supervisor_id": supervisor.operator_id,
                "at": now,
            },
            base_version=row["server_version"],
            extra={"supervisor": supervisor.username},
        )
        if row["enrollment_id"]:
            old = store.query_one("SELECT * FROM enrollment WHERE id = ?", (row["enrollment_id"],))
            if old is not None:
                new = {
                    **old,
                    "benefits_from": None,
                    "benefits_to": None,
                    "waiting": None,
                    "updated_at": now,
                    "version": old["version"] + 1,
                }
                db.conn.execute(
                    "UPDATE enrollment SET benefits_from = NULL, benefits_to = NULL,"
                    " waiting = NULL, updated_at = ?, version = ? WHERE id = ?",
                    (now, new["version"], old["id"]),
                )
                record_change(
                    db,
                    operator_id=actor.operator_id,
                    action="enrollment.update",
                    entity="enrollment",
                    entity_id=old["id"],
                    before={k: v for k, v in old.items() if k != "terms_json"},
                    after={k: v for k, v in new.items() if k != "terms_json"},
                    op_payload={k: v for k, v in new.items() if k != "terms_json"},
                    base_version=old["server_version"],
                )
    return after


# ------------------------------------------------------------------ county confirmations
