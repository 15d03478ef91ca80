"""Contributions at the window (代收): quotes, payments, voids and refunds, status per year,
the yearly campaign list and its export, and county confirmations from sync.

Every change runs in ONE write transaction with its audit entry and outbox operation
(``enrollment.create`` / ``enrollment.update``, ``payment.record``, ``payment.void``,
``payment.refund``). Bad input raises :class:`ValidationError` (field → Chinese message)
before anything is written. Which policy applies: the person's region (exact, city,
province — :func:`desktop.services.policies.for_region_year`), else the national default
(region ``000000``) for that 参保年度; the policy must have a ``[contribution]`` section.

For the sync engineer — county confirmations::

    apply_county_confirmations(store, [
        {"payment_id": "…" | "receipt_no": "SP01-01-00000042",
         "confirmed_at": "2025-01-05T10:00:00+08:00", "ref": "tax bureau reference"},
    ], operator_id=None)
    -> {"confirmed": [...ids], "already": [...ids], "not_found": [...keys],
        "not_live": [...ids]}

A year the county reports as paid without a local payment (paid elsewhere) counts as paid
when its enrollment row carries ``county_confirmed_at``.

It marks each live payment ``confirmed`` (status, ``confirmed_at``, ``confirmed_ref``,
``server_version`` if given as ``version``) and the enrollment's ``county_confirmed_at``,
audited as ``payment.confirm`` with no outbox op (the fact came from the county). It is
idempotent (a payment already confirmed is reported under ``already``) and runs in the
caller's transaction if there is one. A voided/refunded payment is not revived.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from core.categories import INSURED_CATEGORIES
from core.contribution import (
    PHASE_LABELS,
    PersonYear,
    Result,
    break_years,
    compute,
    phase_of,
)
from core.errors import ValidationError
from core.ids import mask_id
from core.money import ZERO, parse_amount
from core.names import clean_free_text
from core.policy import Policy
from desktop.services import policies
from desktop.services.context import Actor
from desktop.services.registration import parse_date
from desktop.store import Store
from desktop.store.journal import new_id, now_iso, record_change
from desktop.store.numbering import take_receipt_no

NATIONAL_REGION = "000000"
CHANNELS = {"cash": "现金", "qr": "扫码支付", "bank": "银行代扣/转账"}
LIVE = ("local", "confirmed")
STATUS_LABELS = {
    "unpaid": "未缴",
    "local": "已缴（待县级确认）",
    "confirmed": "已缴（县级已确认）",
    "subsidized": "资助参保（无需个人缴费）",
    "no_policy": "未发布缴费标准",
}
# A sync older than this many hours shows the "county data as of" banner (settings key
# ``sync_stale_hours`` overrides it; an app setting, not an insurance rule).
DEFAULT_STALE_HOURS = 24


# ------------------------------------------------------------------ helpers


def _data_dir(store: Store) -> Path | None:
    return store.path.parent if store.path is not None else None


def policy_for(
    store: Store, region: str, year: int, ps: policies.PolicySet | None = None
) -> Policy | None:
    """The policy whose ``[contribution]`` covers ``region`` and 参保年度 ``year``."""
    ps = ps or policies.load(_data_dir(store))
    found = [p for p in ps.for_region_year(region, year) if p.has("contribution")]
    if not found:
        found = [
            p
            for p in sorted(ps.policies.values(), key=lambda p: p.id)
            if p.region == NATIONAL_REGION and p.year == int(year) and p.has("contribution")
        ]
    return found[0] if found else None


def _policy_or_error(store: Store, region: str, year: int) -> Policy:
    pol = policy_for(store, region, year)
    if pol is None:
        raise ValidationError(
            {"year": f"{year}参保年度没有可用的缴费政策（未发布或政策文件有误），不能收费"}
        )
    return pol


def _parse_year(value: Any) -> int:
    s = str(value if value is not None else "").strip()
    if not s:
        raise ValidationError({"year": "请选择参保年度"})
    if not s.isdigit() or not 2000 <= int(s) <= 2100:
        raise ValidationError({"year": f"参保年度“{value}”无效，请填写四位年份"})
    return int(s)


def _person(store: Store, person_id: str) -> dict:
    row = store.query_one(
        "SELECT p.*, h.village_id, v.name AS village FROM person p"
        " LEFT JOIN household h ON h.id = p.household_id"
        " LEFT JOIN village v ON v.id = h.village_id WHERE p.id = ?",
        (person_id or "",),
    )
    if row is None:
        raise ValidationError({"person_id": "找不到该参保人，请重新查找"})
    return row


def _live_payments(store: Store, person_id: str) -> dict[int, dict]:
    rows = store.query(
        "SELECT * FROM payment WHERE person_id = ? AND status IN ('local','confirmed')",
        (person_id,),
    )
    return {r["year"]: r for r in rows}


def _enrollments(store: Store, person_id: str) -> dict[int, dict]:
    return {
        r["year"]: r
        for r in store.query("SELECT * FROM enrollment WHERE person_id = ?", (person_id,))
    }


def _insured_years(payments: dict[int, dict], enrollments: dict[int, dict]) -> set[int]:
    """Years the person is insured: a live payment, a year confirmed by the county, or a
    year fully paid for by a department (资助参保)."""
    years = set(payments)
    for y, e in enrollments.items():
        if e.get("county_confirmed_at") or (
            e.get("subsidized_by") and e.get("amount_due") == "0.00"
        ):
            years.add(y)
    return years


def _person_year(
    person: dict, year: int, paid_on: dt.date, insured: set[int], back_years: int = 0
) -> PersonYear:
    before = [y for y in insured if y < year]
    last = max(before) if before else None
    run, y = 0, year - 1
    while y in insured:
        run += 1
        y -= 1
    born = None
    try:
        born = dt.date.fromisoformat(person["birth_date"])
    except (TypeError, ValueError):
        born = None
    return PersonYear(
        category=person["insured_category"],
        year=year,
        paid_on=paid_on,
        born_on=born if born and born <= paid_on else None,
        last_insured_year=last,
        back_years_paid=back_years,
        continuous_years_before=run,
    )


def _check_dates(pol: Policy, year: int, paid_on: dt.date) -> None:
    """Collection for ``year`` opens with the period and closes with the year."""
    terms = pol.section("contribution")
    if phase_of(terms, paid_on) == "before_period":
        raise ValidationError(
            {
                "paid_on": f"{year}参保年度自{terms.period.start.isoformat()}起收费，"
                f"缴费日期{paid_on.isoformat()}早于收费开始日，请核对"
            }
        )
    if paid_on > dt.date(year, 12, 31):
        raise ValidationError(
            {"year": f"{year}参保年度已结束，不能再为该年度缴费；请为下一年度缴费"}
        )


def _parse_back_years(value: Any) -> int:
    s = str(value if value is not None else "").strip()
    if not s:
        return 0
    if not s.isdigit() or int(s) > 50:
        raise ValidationError({"back_years": f"补缴年数“{value}”无效，请填写0至50的整数"})
    return int(s)


def _terms_for(
    store: Store, person: dict, year: int, paid_on: dt.date, back_years: int = 0
) -> tuple[Policy, Result]:
    pol = _policy_or_error(store, person["region_code"], year)
    insured = _insured_years(_live_payments(store, person["id"]), _enrollments(store, person["id"]))
    insured.discard(year)
    py = _person_year(person, year, paid_on, insured, back_years)
    terms = pol.section("contribution")
    if back_years:
        bp = terms.back_payment
        gap = break_years(py)
        if bp is None:
            raise ValidationError(
                {"back_years": f"{year}参保年度的政策未规定断保补缴标准，不能办理补缴"}
            )
        if gap == 0:
            raise ValidationError({"back_years": "该人员没有断保年度，无需补缴"})
        if back_years > gap:
            raise ValidationError(
                {"back_years": f"该人员断保{gap}年，最多补缴{gap}年（您填写了{back_years}年）"}
            )
        if bp.max_years is not None and back_years > bp.max_years:
            raise ValidationError({"back_years": f"政策规定一次最多补缴{bp.max_years}年"})
    return pol, compute(terms, py, pol.id)


def quote(
    store: Store,
    person_id: str,
    year: Any,
    paid_on: Any = None,
    *,
    today=None,
    back_years: Any = 0,
) -> dict:
    """What the person owes for ``year`` if paying on ``paid_on`` (default today), with the
    benefit period and waiting period that would follow. Writes nothing."""
    today = today or dt.date.today()
    person = _person(store, person_id)
    y = _parse_year(year)
    day = parse_date(paid_on, field="paid_on", label="缴费日期", today=today) if paid_on else today
    _check_dates(_policy_or_error(store, person["region_code"], y), y, day)
    pol, res = _terms_for(store, person, y, day, _parse_back_years(back_years))
    out = res.as_dict()
    out["policy_title"] = pol.title
    out["phase_label"] = PHASE_LABELS[res.phase]
    return out


# ------------------------------------------------------------------ record a payment


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
        raise ValidationError(
            {
                "person_id": f"{person['name']} 的参保状态为“终止参保”，不能收费；如需恢复请先在参保登记页办理"
            }
        )
    _check_dates(_policy_or_error(store, person["region_code"], year), year, paid_on)
    reason = _closed_year_reason(actor, fields, year, today, require=require_reason)
    _check_not_paid(store, person, year)
    pol, res = _terms_for(store, person, year, paid_on, clean["back_years"])
    if res.subsidy_kind == "full" and not res.back_amount:
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
        pid = new_id()
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
        db["payment"].insert(row)
        record_change(
            db,
            operator_id=actor.operator_id,
            action="payment.record",
            entity="payment",
            entity_id=pid,
            before=None,
            after=row,
            op_payload={**row, "cert_no": person["cert_no"]},
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
    before = db.conn.execute(
        "SELECT * FROM enrollment WHERE person_id = ? AND year = ?", (person["id"], year)
    ).fetchone()
    if before is None:
        row = {
            "id": new_id(),
            "person_id": person["id"],
            "year": year,
            "insurance_type": "390",
            "insured_category": person["insured_category"],
            "subsidy_category": person["subsidy_category"],
            "status": "registered",
            "created_at": now,
            "updated_at": now,
            "version": 1,
            "origin": "local",
            **cols,
        }
        db["enrollment"].insert(row)
        record_change(
            db,
            operator_id=actor.operator_id,
            action="enrollment.create",
            entity="enrollment",
            entity_id=row["id"],
            before=None,
            after=row,
            op_payload={k: v for k, v in row.items() if k != "terms_json"},
        )
        return row
    names = [d[0] for d in db.conn.execute("SELECT * FROM enrollment LIMIT 0").description]
    old = dict(zip(names, before, strict=True))
    new = {**old, **cols, "updated_at": now, "version": old["version"] + 1}
    sets = ", ".join(f"{k} = ?" for k in (*cols, "updated_at", "version"))
    db.conn.execute(
        f"UPDATE enrollment SET {sets} WHERE id = ?",
        (*cols.values(), now, new["version"], old["id"]),
    )
    record_change(
        db,
        operator_id=actor.operator_id,
        action="enrollment.update",
        entity="enrollment",
        entity_id=old["id"],
        before=old,
        after=new,
        op_payload={k: v for k, v in new.items() if k != "terms_json"},
        base_version=old["server_version"],
    )
    return new


# ------------------------------------------------------------------ voids and refunds


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


def _status_row(
    store: Store,
    person: dict,
    year: int,
    pay: dict | None,
    enr: dict | None,
    insured: set[int],
    today: dt.date,
    ps: policies.PolicySet | None = None,
) -> dict:
    pol = policy_for(store, person["region_code"], year, ps)
    row: dict[str, Any] = {
        "year": year,
        "policy_id": pol.id if pol else None,
        "status": "unpaid",
        "status_label": STATUS_LABELS["unpaid"],
        "amount": None,
        "amount_due": None,
        "channel": None,
        "channel_label": "",
        "paid_on": None,
        "receipt_no": None,
        "payment_id": None,
        "benefits_from": None,
        "benefits_to": None,
        "waiting_unit": None,
        "waiting": None,
        "waiting_until": None,
        "in_waiting": False,
        "continuous_years": None,
        "incentive_raise": None,
        "subsidized_by": None,
        "note": "",
    }
    if pay is not None:
        row.update(
            status=pay["status"],
            status_label=STATUS_LABELS[pay["status"]],
            amount=pay["amount"],
            amount_due=pay["amount_due"],
            channel=pay["channel"],
            channel_label=CHANNELS.get(pay["channel"], pay["channel"]),
            paid_on=pay["paid_on"],
            receipt_no=pay["receipt_no"],
            payment_id=pay["id"],
        )
        if enr is not None:
            row.update(
                benefits_from=enr["benefits_from"],
                benefits_to=enr["benefits_to"],
                waiting_unit=enr["waiting_unit"],
                waiting=enr["waiting"],
                continuous_years=enr["continuous_years"],
                incentive_raise=enr["incentive_raise"],
                subsidized_by=enr["subsidized_by"],
            )
    elif enr is not None and enr.get("county_confirmed_at"):
        row.update(status="confirmed", status_label=STATUS_LABELS["confirmed"])
        row.update(
            {k: enr.get(k) for k in ("benefits_from", "benefits_to", "waiting_unit", "waiting")}
        )
    elif pol is None:
        row.update(status="no_policy", status_label=STATUS_LABELS["no_policy"])
        row["note"] = f"{year}参保年度缴费标准未发布（无政策文件）"
        return row
    else:
        terms = pol.section("contribution")
        sub = terms.subsidy_for(person["insured_category"])
        pay_day = min(max(today, terms.period.start), dt.date(year, 12, 31))
        res = compute(
            terms, _person_year(person, year, pay_day, {y for y in insured if y < year}), pol.id
        )
        row["amount_due"] = str(res.amount_due)
        if sub is not None and sub.kind == "full":
            row.update(
                status="subsidized",
                status_label=STATUS_LABELS["subsidized"],
                subsidized_by=sub.department,
                benefits_from=res.benefits_from.isoformat(),
                benefits_to=res.benefits_to.isoformat(),
                continuous_years=res.continuous_years,
                incentive_raise=str(res.incentive_raise),
            )
            row["note"] = f"个人缴费由{sub.department}全额代缴"
        else:
            if today > dt.date(year, 12, 31):
                row["note"] = "参保年度已结束，该年度未缴费"
            else:
                row["note"] = f"如今天缴费应缴 {res.amount_due} 元（{PHASE_LABELS[res.phase]}）"
    if row["benefits_from"]:
        bf = dt.date.fromisoformat(row["benefits_from"])
        if row["waiting"]:
            row["waiting_until"] = (bf - dt.timedelta(days=1)).isoformat()
            row["in_waiting"] = today < bf
        if row["benefits_to"] and bf > dt.date.fromisoformat(row["benefits_to"]):
            row["note"] = "等待期结束已超出本参保年度，本年度不享受待遇"
    return row


def status_years(
    store: Store, person_id: str, *, today: dt.date | None = None, span: int = 5
) -> dict:
    """Each 参保年度 of one person, newest first: status (unpaid / local = paid awaiting
    county confirmation / confirmed / subsidized / no_policy), amount, channel, benefit
    period, waiting, continuous years and incentive. Years shown: those with a payment or
    enrollment, the current and the coming year, and the years a policy covers (at most
    ``span`` of the newest)."""
    today = today or dt.date.today()
    with store.read():
        person = _person(store, person_id)
        pays = _live_payments(store, person_id)
        enrs = _enrollments(store, person_id)
        insured = _insured_years(pays, enrs)
        ps = policies.load(_data_dir(store))
        region = person["region_code"]
        pol_years = {
            p.year
            for p in ps.policies.values()
            if p.has("contribution")
            and p.region in (region, region[:4] + "00", region[:2] + "0000", NATIONAL_REGION)
        }
        years = sorted(set(pays) | set(enrs) | {today.year, today.year + 1} | pol_years)
        years = sorted(years, reverse=True)[:span]
        rows = [
            _status_row(store, person, y, pays.get(y), enrs.get(y), insured, today, ps)
            for y in years
        ]
        voided = store.query(
            "SELECT * FROM payment WHERE person_id = ? AND status NOT IN ('local','confirmed')"
            " ORDER BY created_at",
            (person_id,),
        )
    return {
        "person": {
            "id": person["id"],
            "name": person["name"],
            "cert_no": person["cert_no"],
            "cert_masked": mask_id(person["cert_no"])
            if person["cert_type"] == "resident_id"
            else person["cert_no"],
            "insured_category": person["insured_category"],
            "category_label": INSURED_CATEGORIES.get(
                person["insured_category"], person["insured_category"]
            ),
            "village": person.get("village") or "",
            "household_id": person["household_id"],
            "region_code": region,
        },
        "years": rows,
        "voided": voided,
    }


# ------------------------------------------------------------------ campaign


def campaign(
    store: Store,
    *,
    year: Any,
    village_id: str | None = None,
    household_id: str | None = None,
    today: dt.date | None = None,
) -> dict:
    """Who in a village (or a household) has not paid for ``year``: one row per person with
    the amount due as if paying today (inside the collection period when it has not started
    yet), plus counts and totals. Fully subsidized persons are counted apart; persons whose
    enrollment is terminated (status 3) are left out."""
    today = today or dt.date.today()
    y = _parse_year(year)
    if not village_id and not household_id:
        raise ValidationError({"village_id": "请选择村或户"})
    where, params = (
        ("h.village_id = ?", [village_id]) if village_id else ("p.household_id = ?", [household_id])
    )
    with store.read():
        persons = store.query(
            "SELECT p.id, p.name, p.cert_no, p.cert_type, p.sex, p.birth_date, p.relation,"
            " p.insured_category, p.subsidy_category, p.region_code, p.phone, p.household_id,"
            " h.address, hp.name AS head_name, v.name AS village"
            " FROM person p JOIN household h ON h.id = p.household_id"
            " LEFT JOIN person hp ON hp.id = h.head_person_id"
            " LEFT JOIN village v ON v.id = h.village_id"
            f" WHERE {where} AND p.status != 3"
            " AND NOT EXISTS (SELECT 1 FROM payment pay WHERE pay.person_id = p.id"
            "   AND pay.year = ? AND pay.status IN ('local','confirmed'))"
            " AND NOT EXISTS (SELECT 1 FROM enrollment e WHERE e.person_id = p.id"
            "   AND e.year = ? AND e.county_confirmed_at IS NOT NULL)"
            " ORDER BY h.address, p.household_id, p.relation != 'head', p.birth_date",
            (*params, y, y),
        )
        total_persons = store.query_one(
            f"SELECT COUNT(*) AS n FROM person p JOIN household h ON h.id = p.household_id"
            f" WHERE {where} AND p.status != 3",
            params,
        )["n"]
        prev_paid = {
            r["person_id"]
            for r in store.query(
                "SELECT pay.person_id FROM payment pay JOIN person p ON p.id = pay.person_id"
                f" JOIN household h ON h.id = p.household_id WHERE {where} AND pay.year = ?"
                " AND pay.status IN ('local','confirmed')",
                (*params, y - 1),
            )
        }
    rows, subsidized = [], 0
    total = ZERO
    cache: dict[str, Policy | None] = {}
    memo: dict[tuple, Decimal] = {}
    message = ""
    for p in persons:
        region = p["region_code"]
        if region not in cache:
            cache[region] = policy_for(store, region, y)
        pol = cache[region]
        due: Decimal | None = None
        if pol is not None:
            terms = pol.section("contribution")
            sub = terms.subsidy_for(p["insured_category"])
            if sub is not None and sub.kind == "full":
                subsidized += 1
                continue
            pay_day = min(max(today, terms.period.start), dt.date(y, 12, 31))
            insured = {y - 1} if p["id"] in prev_paid else set()
            born = dt.date.fromisoformat(p["birth_date"]) if p["birth_date"] else None
            # the rules are pure: persons alike in what they read share one result (only a
            # newborn's birth date matters to them)
            nb = terms.newborn
            born_key = born if nb is not None and p["insured_category"] == nb.category else None
            key = (pol.id, p["insured_category"], max(insured) if insured else None, born_key)
            if key not in memo:
                memo[key] = compute(
                    terms,
                    PersonYear(
                        category=p["insured_category"],
                        year=y,
                        paid_on=pay_day,
                        born_on=born_key if born_key and born_key <= pay_day else None,
                        last_insured_year=key[2],
                    ),
                    pol.id,
                ).amount_due
            due = memo[key]
            total += due
        else:
            message = f"{y}参保年度缴费标准未发布（无政策文件），应缴金额暂不能计算"
        rows.append(
            {
                "person_id": p["id"],
                "name": p["name"],
                "cert_no": p["cert_no"],
                "cert_masked": mask_id(p["cert_no"])
                if p["cert_type"] == "resident_id"
                else p["cert_no"],
                "sex": "男" if p["sex"] == "male" else "女",
                "birth_date": p["birth_date"],
                "category": INSURED_CATEGORIES.get(p["insured_category"], p["insured_category"]),
                "household_id": p["household_id"],
                "head_name": p["head_name"] or "",
                "address": p["address"],
                "village": p["village"] or "",
                "phone": p["phone"],
                "paid_last_year": p["id"] in prev_paid,
                "amount_due": str(due) if due is not None else "",
            }
        )
    return {
        "year": y,
        "rows": rows,
        "unpaid_count": len(rows),
        "persons": total_persons,
        "paid_count": total_persons - len(rows) - subsidized,
        "subsidized_count": subsidized,
        "total_due": str(total),
        "households": len({r["household_id"] for r in rows}),
        "message": message,
    }


EXPORT_COLUMNS = [
    ("village", "村"),
    ("address", "住址"),
    ("head_name", "户主"),
    ("name", "姓名"),
    ("cert_masked", "证件号码"),
    ("sex", "性别"),
    ("birth_date", "出生日期"),
    ("category", "参保类别"),
    ("phone", "联系电话"),
    ("paid_last_year", "上年已缴"),
    ("amount_due", "应缴金额（元）"),
]


def _export_rows(result: dict) -> list[list[Any]]:
    out = []
    for r in result["rows"]:
        out.append(
            [("是" if r[k] else "否") if k == "paid_last_year" else r[k] for k, _ in EXPORT_COLUMNS]
        )
    return out


def _summary(result: dict) -> str:
    return (
        f"{result['year']}参保年度未缴 {result['unpaid_count']} 人（{result['households']} 户），"
        f"应缴合计 {result['total_due']} 元；已缴 {result['paid_count']} 人，"
        f"资助参保 {result['subsidized_count']} 人"
    )


def export_csv(result: dict, path: str | Path) -> Path:
    """UTF-8 with BOM (so Excel on Windows opens the Chinese correctly); ID numbers masked."""
    path = Path(path)
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow([label for _, label in EXPORT_COLUMNS])
        w.writerows(_export_rows(result))
        w.writerow([])
        w.writerow([_summary(result)])
    return path


def export_xlsx(result: dict, path: str | Path) -> Path:
    """One sheet (openpyxl write-only mode: fast for a whole township); the amount column
    holds numbers formatted to the fen, ID numbers masked, a summary line at the end."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    path = Path(path)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(f"{result['year']}未缴名单")
    for col, width in zip("ABCDEFGHIJK", (8, 20, 8, 8, 22, 6, 12, 16, 14, 8, 14), strict=True):
        ws.column_dimensions[col].width = width
    bold = Font(bold=True)
    header = []
    for _, label in EXPORT_COLUMNS:
        c = WriteOnlyCell(ws, value=label)
        c.font = bold
        header.append(c)
    ws.append(header)
    for r in _export_rows(result):
        if r[-1]:
            c = WriteOnlyCell(ws, value=Decimal(r[-1]))
            c.number_format = "#,##0.00"
            r = [*r[:-1], c]
        ws.append(r)
    ws.append([])
    ws.append([_summary(result)])
    wb.save(path)
    return path


# ------------------------------------------------------------------ sync banner


def sync_banner(store: Store, *, now: dt.datetime | None = None) -> str | None:
    """ "县级数据截至 <time>" when the last sync (settings ``last_sync_at``) is older than
    ``sync_stale_hours`` (default 24), or a never-synced notice; None when fresh."""
    now = now or dt.datetime.now().astimezone()
    last = store.setting("last_sync_at")
    try:
        hours = int(store.setting("sync_stale_hours") or DEFAULT_STALE_HOURS)
    except ValueError:
        hours = DEFAULT_STALE_HOURS
    if not last:
        return "尚未与县医保局同步：县级确认的缴费尚未到达，本机显示的是本地记录"
    try:
        at = dt.datetime.fromisoformat(last)
    except ValueError:
        return f"县级数据截至 {last}（时间无法识别，请同步一次）"
    if at.tzinfo is None:
        at = at.astimezone()
    if now - at > dt.timedelta(hours=hours):
        return f"县级数据截至 {at.strftime('%Y-%m-%d %H:%M')}，之后的县级确认尚未同步"
    return None


# ------------------------------------------------------------------ demo


# (name, 参保年度, paid_on, channel): demo collections of the 2025 campaign under
# national-2025 (the 周/黄/杨 households and 孙玉梅, fully subsidized, stay unpaid/subsidized).
# (name, 参保年度 relative to this year, payment date, channel): last year's and this year's
# contributions paid in their campaigns; this autumn's campaign for next year partly
# collected (others left for the clerk to collect on the demo's day).
_DEMO_PAYMENTS = [
    ("张三", -1, "-2-10-10", "cash"),
    ("王秀兰", -1, "-2-10-10", "cash"),
    ("张小明", -1, "-2-10-10", "cash"),
    ("李建国", -1, "-2-11-05", "qr"),
    ("刘桂英", -1, "-2-11-05", "qr"),
    ("王强", -1, "-1-03-15", "bank"),
    ("陈静", -1, "-1-03-15", "bank"),
    ("单志刚", -1, "-2-12-02", "cash"),
    ("郑浩", -1, "-2-09-20", "qr"),
    ("张三", 0, "-1-10-10", "cash"),
    ("王秀兰", 0, "-1-10-10", "cash"),
    ("张小明", 0, "-1-10-10", "cash"),
    ("李建国", 0, "-1-11-05", "qr"),
    ("刘桂英", 0, "-1-11-05", "qr"),
    ("王强", 0, "-1-11-20", "bank"),
    ("郑浩", 0, "-1-09-20", "qr"),
    ("李建国", 1, "0-09-15", "qr"),
    ("刘桂英", 1, "0-09-15", "qr"),
    ("郑浩", 1, "0-10-08", "cash"),
]


def _demo_date(today: dt.date, spec: str) -> str:
    """``"-1-10-10"`` → 10 October of last year (relative to ``today``)."""
    offset, month, day = spec.rsplit("-", 2)
    return dt.date(today.year + int(offset), int(month), int(day)).isoformat()


def seed_demo_payments(store: Store, actor: Actor) -> None:
    """Demo collections through :func:`record_payment` (audited and queued like real ones),
    each at the amount the policy asks; skipped for anyone without a covering policy."""
    today = dt.date.today()
    for name, year_offset, when, channel in _DEMO_PAYMENTS:
        year, paid_on = today.year + year_offset, _demo_date(today, when)
        person = store.query_one("SELECT id FROM person WHERE name = ?", (name,))
        if person is None or dt.date.fromisoformat(paid_on) > today:
            continue
        try:
            q = quote(store, person["id"], year, paid_on, today=today)
            record_payment(
                store,
                actor,
                {
                    "person_id": person["id"],
                    "year": year,
                    "amount": q["amount_due"],
                    "channel": channel,
                    "paid_on": paid_on,
                },
                today=dt.date.fromisoformat(paid_on),  # collected that day
            )
        except ValidationError:
            continue
