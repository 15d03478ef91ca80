"""Recording a payment at the window: every check first (check_payment), then one transaction."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from core.contribution import (
    Result,
)
from core.contribution.starts import in_newborn_window
from core.errors import ValidationError
from core.money import ZERO, parse_amount
from core.names import clean_free_text
from core.policy import Policy
from desktop.services.context import Actor
from desktop.services.contribution.common import (
    CHANNELS,
    _check_dates,
    _live_payments,
    _parse_back_years,
    _parse_year,
    _person,
    _person_year,
    _policy_or_error,
    _terms_for,
)
from desktop.services.registration import parse_date
from desktop.store import Store, enrollments, payments, places
from desktop.store.journal import now_iso
from desktop.store.numbering import take_receipt_no


def _validate_payment(store: Store, fields: dict, today: dt.date) -> tuple[dict, dict]:
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    person = None
    try:
        person = _person(store, fields.get("person_id"))
    except ValidationError as e:
        errors.update(e.errors)
    for key, fn in (
        ("year", lambda: _parse_year(fields.get("year"))),
        (
            "paid_on",
            lambda: parse_date(
                fields.get("paid_on"), field="paid_on", label="缴费日期", today=today
            ),
        ),
        (
            "amount",
            lambda: parse_amount(
                fields.get("amount", ""), field="amount", label="缴费金额", allow_zero=False
            ),
        ),
    ):
        try:
            clean[key] = fn()
        except ValidationError as e:
            errors.update(e.errors)
    try:
        clean["back_years"] = _parse_back_years(fields.get("back_years"))
    except ValidationError as e:
        errors.update(e.errors)
    channel = str(fields.get("channel") or "").strip()
    if channel not in CHANNELS:
        errors["channel"] = "请选择缴费方式（现金、扫码支付、银行）"
    clean["channel"] = channel
    if errors:
        raise ValidationError(errors)
    return person, clean


BACKDATE_REASON_MAX = 200


def _closed_year_reason(
    actor: Actor, fields: dict, year: int, today: dt.date, *, require: bool = True
) -> str | None:
    """A 参保年度 whose collection has closed (before this year) is recorded only by a
    supervisor, with a reason: it back-dates cover. None for an open year."""
    if year >= today.year:
        return None
    if not actor.is_supervisor:
        raise ValidationError(
            {"year": f"{year}参保年度已截止收费。补录往年缴费须由主管办理并填写原因"}
        )
    reason = clean_free_text(
        fields.get("backdate_reason"),
        field="backdate_reason",
        label="补录原因",
        limit=BACKDATE_REASON_MAX,
    )
    if not reason and require:
        raise ValidationError({"backdate_reason": "请填写补录原因，例如：去年12月已收款，今日补录"})
    return reason or ""


def _prepare_payment(
    store: Store, actor: Actor, fields: dict, today: dt.date, *, require_reason: bool = True
):
    """Every check of a payment, without writing: (person, clean fields, policy, terms,
    back-dating reason or None). Raises ValidationError with one message per field."""
    person, clean = _validate_payment(store, fields, today)
    year, paid_on, amount = clean["year"], clean["paid_on"], clean["amount"]
    if person["status"] == 3:
        since = (
            f"已于{person['exit_date']}终止参保（{person['exit_reason']}）"
            if person.get("exit_date")
            else "的参保状态为“终止参保”"
        )
        raise ValidationError(
            {
                "person_id": f"{person['name']} {since}，不能收费；"
                "如需恢复请先在参保登记页办理“恢复参保”"
            }
        )
    pol = _policy_or_error(store, person["region_code"], year)
    _check_dates(pol, year, paid_on)
    py = _person_year(person, year, paid_on, set())
    if in_newborn_window(pol.section("contribution"), paid_on, py.category, py.born_on):
        reason = None  # a newborn's birth year, paid within the window: not a back-dating
    else:
        reason = _closed_year_reason(actor, fields, year, today, require=require_reason)
    _check_not_paid(store, person, year)
    pol, res = _terms_for(store, person, year, paid_on, clean["back_years"])
    if res.subsidy_kind == "free":
        raise ValidationError(
            {
                "amount": f"{res.reasons['amount_due'].rule}，无需收费（依据：{res.reasons['amount_due'].source}）"
            }
        )
    if res.amount_due == 0 and res.subsidized_amount > 0 and not res.back_amount:
        raise ValidationError(
            {"amount": f"该人员为资助参保，个人缴费由{res.subsidized_by}全额代缴，无需收费"}
        )
    if amount != res.total_due:
        why = res.reasons["amount_due"].rule
        if res.back_amount:
            why += f"；{res.reasons['back_amount'].rule}"
        raise ValidationError(
            {
                "amount": f"金额不对：{year}年度应缴 {res.total_due} 元，"
                f"您输入的是 {amount} 元。依据：{why}"
            }
        )
    return person, clean, pol, res, reason


def _check_not_paid(store: Store, person: dict, year: int) -> None:
    existing = _live_payments(store, person["id"]).get(year)
    if existing is not None:
        raise ValidationError(
            {
                "year": f"{person['name']} {year}年度已缴费（{existing['paid_on']}，"
                f"收据号 {existing['receipt_no']}），不能重复缴费"
            }
        )


def check_payment(
    store: Store, actor: Actor, fields: dict, *, today: dt.date | None = None
) -> dict:
    """What :func:`record_payment` would record, checked before the clerk confirms (so a
    wrong amount is refused before the confirmation, not after). Writes nothing."""
    today = today or dt.date.today()
    _person_row, clean, _pol, res, reason = _prepare_payment(
        store, actor, fields, today, require_reason=False
    )
    return {
        "year": clean["year"],
        "amount": str(clean["amount"]),
        "terms": res.as_dict(),
        "backdated": reason is not None,
    }


def record_payment(
    store: Store, actor: Actor, fields: dict, *, today: dt.date | None = None
) -> dict:
    """Record one payment against a person's 参保年度.

    ``fields``: person_id, year, amount (text as typed), channel (cash|qr|bank), paid_on,
    and for a closed year (supervisor only) backdate_reason.
    Refuses (ValidationError, nothing written): unknown person, bad/future date, negative or
    non-numeric amount, no policy for the year, a date before the collection period or after
    the year's end, a closed year without a supervisor and a reason, a fully subsidized
    person, a second live payment for the same year, and an amount other than the one due —
    the message names the right amount and its rule.
    Returns {"payment": row, "terms": Result.as_dict(), "receipt_no": …}.
    """
    today = today or dt.date.today()
    person, clean, pol, res, reason = _prepare_payment(store, actor, fields, today)
    year, paid_on, amount = clean["year"], clean["paid_on"], clean["amount"]
    with store.write() as db:
        _check_not_paid(store, person, year)  # again inside the write lock: no double payment
        now = now_iso()
        enrollment = _upsert_enrollment(db, actor, person, year, pol, res, now)
        pid = places.new_row_id(db.conn)
        receipt_no = take_receipt_no(
            store, operator_id=actor.operator_id, entity="payment", entity_id=pid
        )
        row = {
            "id": pid,
            "person_id": person["id"],
            "enrollment_id": enrollment["id"],
            "year": year,
            "policy_id": pol.id,
            "amount": str(amount),
            "amount_due": str(res.total_due),
            "back_years": res.back_years_paid,
            "back_amount": str(res.back_amount or ZERO),
            "channel": clean["channel"],
            "paid_on": paid_on.isoformat(),
            "operator_id": actor.operator_id,
            "receipt_no": receipt_no,
            "status": "local",
            "created_at": now,
            "updated_at": now,
            "version": 1,
            "origin": "local",
        }
        payments.insert(
            db,
            row,
            operator_id=actor.operator_id,
            op_extra={"cert_no": person["cert_no"]},
            extra={"backdated": True, "reason": reason} if reason is not None else None,
        )
    return {"payment": row, "terms": res.as_dict(), "receipt_no": receipt_no}


def _upsert_enrollment(
    db, actor: Actor, person: dict, year: int, pol: Policy, res: Result, now: str
) -> dict:
    cols = {
        "policy_id": pol.id,
        "amount_due": str(res.amount_due),
        "subsidized_amount": str(res.subsidized_amount),
        "subsidized_by": res.subsidized_by,
        "benefits_from": res.benefits_from.isoformat(),
        "benefits_to": res.benefits_to.isoformat(),
        "waiting_unit": res.waiting_unit,
        "waiting": res.waiting,
        "continuous_years": res.continuous_years,
        "incentive_raise": str(res.incentive_raise),
        "terms_json": json.dumps(res.as_dict(), ensure_ascii=False, sort_keys=True),
    }
    return enrollments.upsert_terms(db, person, year, cols, operator_id=actor.operator_id, now=now)


# ------------------------------------------------------------------ voids and refunds
