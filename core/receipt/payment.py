"""The 参保缴费凭证 (receipt of a contribution): its facts, their check, its document."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from core.errors import ValidationError
from core.money import parse_amount, yuan
from core.receipt.model import (
    INSURANCE_TYPES,
    KINDS,
    Document,
    Field,
    Section,
    _amount,
    _require_text,
    _waiting_label,
    benefit_period_text,
    fmt_date,
    fmt_time,
    money_text,
    show_id,
)
from core.receipt.verify import verification_payload

# --------------------------------------------------------------------------- receipt


@dataclass(frozen=True)
class ReceiptFacts:
    """Everything on a 参保缴费凭证 (domain notes §6), as gathered by the service."""

    service_point: str
    receipt_no: str
    name: str
    cert_type: str  # label, e.g. 居民身份证
    cert_no: str
    region: str  # e.g. 140121 山西省太原市清徐县
    insured_category: str  # label
    subsidy_category: str  # label
    year: int  # 参保年度
    amount_due: Decimal | str
    personal_amount: Decimal | str  # paid by the person (money taken at the window)
    subsidy_amount: Decimal | str  # paid by a department (资助参保)
    subsidy_payer: str  # who pays the subsidy, "" when none
    paid_at: str  # ISO date-time of the payment
    channel: str  # label, e.g. 现金
    benefit_start: str  # ISO date
    benefit_end: str
    waiting_months: int | str  # 0 = none; may be a text such as "30天"
    continuous_years: int
    operator: str
    insurance_type: str = "390"
    fiscal_subsidy: Decimal | str | None = None  # per-capita 财政补助 of the year, if known
    benefit_notes: str = ""  # the terms in a resident's words (次月1日起享受待遇, 限额降低…)


def check_receipt_facts(f: ReceiptFacts) -> dict[str, Decimal]:
    """Raise ValidationError (Chinese, per field) for facts that must not be printed."""
    errors: dict[str, str] = {}
    _require_text(errors, "name", f.name, "参保人没有登记姓名，请先在“参保登记”中补全姓名再打印")
    _require_text(
        errors, "cert_no", f.cert_no, "参保人没有登记证件号码，请先在“参保登记”中补全后再打印"
    )
    _require_text(errors, "receipt_no", f.receipt_no, "缴费记录没有收据号，不能打印缴费凭证")
    due = _amount(errors, "amount_due", f.amount_due, "应缴金额")
    personal = _amount(errors, "personal_amount", f.personal_amount, "个人缴费金额")
    subsidy = _amount(errors, "subsidy_amount", f.subsidy_amount, "资助金额")
    if not errors and personal + subsidy != due:
        errors["amount_due"] = (
            f"应缴金额 {yuan(due)} 元不等于个人缴费 {yuan(personal)} 元与资助 {yuan(subsidy)} 元"
            "之和，请核对缴费记录"
        )
    if not errors and subsidy > 0 and not (f.subsidy_payer or "").strip():
        errors["subsidy_payer"] = "有资助金额时必须写明资助单位"
    if errors:
        raise ValidationError(errors)
    return {"due": due, "personal": personal, "subsidy": subsidy}


def receipt_document(
    f: ReceiptFacts,
    *,
    printed_at: str,
    mac_key: bytes,
    key_id: str,
    copy_no: int = 1,
    masked: bool = True,
) -> Document:
    amounts = check_receipt_facts(f)
    paid_date = fmt_date(f.paid_at)
    payload = verification_payload(
        mac_key, key_id, receipt_no=f.receipt_no, amount=amounts["personal"], date=paid_date
    )
    waiting_text = _waiting_label(f.waiting_months)
    itype = f.insurance_type
    person = Section(
        "参保人信息",
        [
            Field("姓名", f.name.strip(), "name"),
            Field(f.cert_type or "证件号码", show_id(f.cert_no, masked=masked), "cert_no"),
            Field("医保区划", f.region, "region"),
            Field("参保人员类别", f.insured_category, "insured_category"),
            Field("资助类别", f.subsidy_category, "subsidy_category"),
            Field("险种", f"{itype} {INSURANCE_TYPES.get(itype, '')}".strip(), "insurance_type"),
            Field("参保年度", f"{f.year}年度", "year"),
        ],
    )
    money_fields = [
        Field("应缴金额", money_text(amounts["due"]), "amount_due"),
        Field("个人缴费", money_text(amounts["personal"]), "personal_amount", strong=True),
        Field("资助金额", money_text(amounts["subsidy"]), "subsidy_amount"),
        Field("资助单位", f.subsidy_payer or "—", "subsidy_payer"),
    ]
    if f.fiscal_subsidy not in (None, ""):
        money_fields.append(
            Field(
                "人均财政补助",
                money_text(parse_amount(f.fiscal_subsidy)),
                "fiscal_subsidy",
            )
        )
    money_fields += [
        Field("缴费日期", fmt_time(f.paid_at), "paid_at"),
        Field("缴费方式", f.channel, "channel"),
        Field("收据号", f.receipt_no, "receipt_no"),
    ]
    benefit = _benefit_section(f, waiting_text)
    return Document(
        kind="receipt",
        key=f.receipt_no,
        title=KINDS["receipt"],
        issuer=f.service_point,
        number=f.receipt_no,
        sections=[person, Section("缴费信息", money_fields), benefit],
        notes=[
            "本凭证为参保缴费的证明，请妥善保管；扫描二维码或凭校验码可向县医保部门核验真伪。",
        ]
        + (["证件号码已做隐藏处理。"] if masked else []),
        footer=[
            Field("经办人", f.operator, "operator"),
            Field("打印时间", printed_at, "printed_at"),
        ],
        copy_no=copy_no,
        qr_payload=payload,
        masked=masked,
    )


def _benefit_section(f: ReceiptFacts, waiting_text: str) -> Section:
    """待遇享受: the period, the wait, continuous years and the terms in words."""
    fields = [
        Field(
            "待遇享受期",
            benefit_period_text(f.benefit_start, f.benefit_end),
            "benefit_period",
            wide=True,
        ),
        Field("等待期", waiting_text, "waiting"),
        Field("连续参保年数", f"{f.continuous_years}年", "continuous_years"),
    ]
    if f.benefit_notes:
        fields.append(Field("待遇说明", f.benefit_notes, "benefit_notes", wide=True))
    return Section("待遇享受", fields)
