"""Voids and refunds (supervisor, with a reason): a payment is never deleted."""

from __future__ import annotations

from core.errors import ValidationError
from desktop.services.context import Actor
from desktop.services.contribution.common import LIVE
from desktop.store import Store, enrollments, payments


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
        row = payments.by_id(store, payment_id)
        if row is None:
            raise ValidationError({"payment_id": "找不到该缴费记录"})
        if row["status"] not in LIVE:
            raise ValidationError({"payment_id": "该缴费已作废或已退费，不能再次办理"})
        if not refund and row["status"] == "confirmed":
            raise ValidationError(
                {"payment_id": "该缴费已经县级（税务）确认，不能作废；如需退还请办理退费"}
            )
        after = payments.end(
            db,
            row,
            status="refunded" if refund else "voided",
            reason=reason,
            supervisor_id=supervisor.operator_id,
            operator_id=actor.operator_id,
            extra={"supervisor": supervisor.username},
        )
        if row["enrollment_id"]:
            enrollments.clear_benefits(db, row["enrollment_id"], operator_id=actor.operator_id)
    return after


# ------------------------------------------------------------------ county confirmations
