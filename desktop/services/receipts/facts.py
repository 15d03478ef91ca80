"""What goes on each document, gathered from the store (receipt, certificate, estimate sheet, day sheet)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from pathlib import Path

from core import receipt as core
from core.categories import CERT_TYPES, INSURED_CATEGORIES, SEXES, SUBSIDY_CATEGORIES
from core.errors import ValidationError
from core.estimate import LAYER_LABELS
from core.money import parse_amount
from core.policy.benefits import estimate_kind
from desktop.services import estimate as est
from desktop.services.receipts.common import CHANNEL_LABELS, LIVE, PAYMENT_STATUS
from desktop.store import Store, documents, enrollments, operators, payments, persons, places
from desktop.store.journal import canonical_json

# --------------------------------------------------------------------------- facts


def _data_dir(store: Store) -> Path | None:
    return Path(store.path).parent if store.path is not None else None


def _service_point(store: Store) -> dict:
    sp = places.service_point(store)
    if sp is None:
        raise ValidationError({"service_point": "尚未完成服务点设置，不能打印单据"})
    return sp


def _waiting_text(unit: str | None, n: int | None) -> str:
    if not n:
        return "无等待期"
    return f"{n}天" if unit == "days" else f"{n}个月"


def _payment_row(store: Store, receipt_no: str) -> dict:
    row = payments.for_receipt(store, (receipt_no or "").strip().upper())
    if row is None:
        raise ValidationError({"receipt_no": f"找不到收据号为“{receipt_no}”的缴费记录"})
    return row


def receipt_facts_from_db(store: Store, receipt_no: str) -> core.ReceiptFacts:
    row = _payment_row(store, receipt_no)
    sp = _service_point(store)
    terms = json.loads(row["terms_json"]) if row.get("terms_json") else {}
    subsidy = row.get("subsidized_amount") or "0.00"
    try:
        personal = parse_amount(row["amount"], field="personal_amount", label="个人缴费金额")
        sub = parse_amount(subsidy, field="subsidy_amount", label="资助金额")
    except ValidationError as e:
        raise ValidationError(
            {k: f"缴费记录中的金额有误：{v}" for k, v in e.errors.items()}
        ) from None
    insured = row.get("e_insured") or row.get("p_insured") or ""
    sub_cat = row.get("e_subsidy") or row.get("p_subsidy") or "none"
    return core.ReceiptFacts(
        service_point=sp["name"],
        receipt_no=row["receipt_no"],
        name=row.get("name") or "",
        cert_type=CERT_TYPES.get(row.get("cert_type") or "", "证件号码"),
        cert_no=row.get("cert_no") or "",
        region=core.region_label(row.get("region_code") or ""),
        insured_category=INSURED_CATEGORIES.get(insured, insured),
        subsidy_category=SUBSIDY_CATEGORIES.get(sub_cat, sub_cat),
        year=int(row["year"]),
        amount_due=str(personal + sub),
        personal_amount=str(personal),
        subsidy_amount=str(sub),
        subsidy_payer=row.get("subsidized_by") or "",
        paid_at=row["paid_on"],
        channel=CHANNEL_LABELS.get(row["channel"], row["channel"]),
        benefit_start=row.get("benefits_from") or "",
        benefit_end=row.get("benefits_to") or "",
        waiting_months=_waiting_text(row.get("waiting_unit"), row.get("waiting")),
        continuous_years=int(row.get("continuous_years") or 0),
        operator=row.get("operator") or "",
        insurance_type=row.get("insurance_type") or "390",
        fiscal_subsidy=terms.get("subsidy"),
        benefit_notes="；".join(terms.get("words") or []),
    )


def _facts_to_json(facts) -> str:
    return canonical_json(asdict(facts))


def receipt_facts(store: Store, receipt_no: str) -> core.ReceiptFacts:
    """The receipt's facts: the snapshot taken when it was first made, else from the db."""
    snap = documents.receipt_snapshot(store, (receipt_no or "").strip().upper())
    if snap:
        return core.ReceiptFacts(**json.loads(snap))
    return receipt_facts_from_db(store, receipt_no)


def certificate_facts(store: Store, enrollment_id: str) -> core.CertificateFacts:
    row = enrollments.with_person(store, enrollment_id or "")
    if row is None:
        raise ValidationError({"enrollment": "找不到该参保记录"})
    sp = _service_point(store)
    pay = payments.live_with_operator(store, row["person_id"], row["year"])
    subsidized = (row.get("subsidized_by") or "") and (row.get("amount_due") or "") == "0.00"
    if pay is None and not subsidized:
        raise ValidationError(
            {
                "enrollment": f"{row['name']} {row['year']}年度尚未缴费，不能打印参保凭证；"
                "请先在“缴费查询”中收费"
            }
        )
    if pay is not None:
        status = PAYMENT_STATUS.get(pay["status"], pay["status"])
    else:
        status = f"资助参保（{row['subsidized_by']}全额代缴）"
    return core.CertificateFacts(
        service_point=sp["name"],
        enrollment_id=row["id"],
        name=row.get("name") or "",
        cert_type=CERT_TYPES.get(row.get("cert_type") or "", "证件号码"),
        cert_no=row.get("cert_no") or "",
        sex=SEXES.get(row.get("sex") or "", ""),
        birth_date=row.get("birth_date") or "",
        village=row.get("village") or "",
        region=core.region_label(row.get("region_code") or ""),
        insured_category=INSURED_CATEGORIES.get(row["insured_category"], row["insured_category"]),
        subsidy_category=SUBSIDY_CATEGORIES.get(
            row.get("subsidy_category") or "none", row.get("subsidy_category") or ""
        ),
        year=int(row["year"]),
        status=status,
        benefit_start=row.get("benefits_from") or "",
        benefit_end=row.get("benefits_to") or "",
        waiting_months=_waiting_text(row.get("waiting_unit"), row.get("waiting")),
        continuous_years=int(row.get("continuous_years") or 0),
        receipt_no=pay["receipt_no"] if pay else "",
        paid_amount=pay["amount"] if pay else None,
        paid_at=pay["paid_on"] if pay else "",
        operator=(pay.get("operator") if pay else "") or "",
        insurance_type=row.get("insurance_type") or "390",
    )


def estimate_facts(store: Store, estimate_id: str) -> core.EstimateFacts:
    e = est.get(store, estimate_id)
    if e is None:
        raise ValidationError({"estimate": "找不到该测算记录"})
    sp = _service_point(store)
    person = persons.get(store, e["person_id"]) if e.get("person_id") else None
    result = e["result"]
    inp = e.get("input") or {}
    level = result.get("level") or inp.get("level") or inp.get("price_class") or ""
    policy_title = ""
    try:
        from desktop.services import (
            policies,
        )  # deferred: policy files load only for an estimate sheet

        pol = policies.get(e["policy_id"], _data_dir(store))
        policy_title = pol.title
        section = pol.section(e.get("setting") or "")
        level = f"{section.levels[level].label}" if level in section.levels else level
    except Exception:  # noqa: BLE001 - a policy file removed since: print the code
        pass
    steps = [
        core.EstimateStep(
            layer={**LAYER_LABELS, "total": "合计"}.get(s.get("layer", ""), s.get("layer", "")),
            rule=s.get("rule", ""),
            text=s.get("text", ""),
            source=s.get("source", ""),
        )
        for s in result.get("steps", [])
    ]
    cat = (person or {}).get("insured_category") or inp.get("category") or ""
    return core.EstimateFacts(
        service_point=sp["name"],
        estimate_id=e["id"],
        name=(person or {}).get("name") or e.get("anon_label") or "",
        cert_no=(person or {}).get("cert_no") or "",
        insured_category=INSURED_CATEGORIES.get(cat, cat),
        year=int(e["year"]),
        setting=estimate_kind(e.get("setting")),
        level=str(level),
        totals={k: result[k] for k in core.ESTIMATE_TOTALS if result.get(k) not in (None, "")},
        steps=steps,
        made_at=e["created_at"],
        operator=e.get("operator") or "",
        policy=policy_title,
        caveats=tuple(_estimate_caveats(store, e)),
        settled=bool(e.get("settled")),
    )


def _estimate_caveats(store: Store, e: dict) -> list[str]:
    """The same warnings the page shows, printed on the sheet (issue 11: the paper never
    drops what the screen says)."""
    try:
        return est.caveats(
            store,
            policy_id=e["policy_id"],
            person_id=e.get("person_id"),
            year=int(e["year"]),
            data_dir=_data_dir(store),
        )
    except ValidationError:  # the policy file is gone since: say so rather than nothing
        return ["本测算所用的政策文件已不在本机，测算结果仅供参考。"]


def day_sheet_key(operator_id: str, day: str | dt.date) -> str:
    d = day.isoformat() if isinstance(day, dt.date) else str(day)
    return f"{operator_id}:{d}"


def day_sheet_facts(store: Store, key: str) -> core.DaySheetFacts:
    operator_id, _, day = (key or "").partition(":")
    try:
        dt.date.fromisoformat(day)
    except ValueError:
        raise ValidationError({"day": "日期格式应为 YYYY-MM-DD"}) from None
    op = operators.public(store, operator_id)
    if op is None:
        raise ValidationError({"operator": "找不到该经办人"})
    sp = _service_point(store)
    rows = payments.of_day(store, operator_id, day)
    lines = [
        core.DayLine(
            receipt_no=r["receipt_no"] or "",
            time=r["created_at"],
            name=r["name"],
            cert_no=r["cert_no"],
            year=int(r["year"]),
            channel=CHANNEL_LABELS.get(r["channel"], r["channel"]),
            amount=r["amount"],
            voided=r["status"] not in LIVE,
            void_reason=(
                ("退费：" if r["status"] == "refunded" else "") + (r.get("void_reason") or "")
            ),
            voided_at=r.get("voided_at") or "",
        )
        for r in rows
    ]
    return core.DaySheetFacts(sp["name"], op["display_name"], operator_id, day, lines)
