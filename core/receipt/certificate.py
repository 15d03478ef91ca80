"""The 参保凭证 (certificate of enrollment for a year)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from core.errors import ValidationError
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
    money_text,
    show_id,
)
from core.receipt.verify import verification_payload

# --------------------------------------------------------------------------- certificate


@dataclass(frozen=True)
class CertificateFacts:
    service_point: str
    enrollment_id: str
    name: str
    cert_type: str
    cert_no: str
    sex: str  # label
    birth_date: str
    village: str
    region: str
    insured_category: str
    subsidy_category: str
    year: int
    status: str  # label, e.g. 已缴费
    benefit_start: str
    benefit_end: str
    waiting_months: int | str
    continuous_years: int
    receipt_no: str  # the payment's receipt ("" when not paid)
    paid_amount: Decimal | str | None
    paid_at: str
    operator: str
    insurance_type: str = "390"


def certificate_document(
    f: CertificateFacts,
    *,
    printed_at: str,
    mac_key: bytes | None,
    key_id: str,
    copy_no: int = 1,
    masked: bool = True,
) -> Document:
    errors: dict[str, str] = {}
    _require_text(errors, "name", f.name, "参保人没有登记姓名，请先在“参保登记”中补全姓名再打印")
    _require_text(
        errors, "cert_no", f.cert_no, "参保人没有登记证件号码，请先在“参保登记”中补全后再打印"
    )
    paid = None
    if f.paid_amount not in (None, ""):
        paid = _amount(errors, "paid_amount", f.paid_amount, "缴费金额")
    if errors:
        raise ValidationError(errors)
    payload = ""
    if f.receipt_no and paid is not None and mac_key:
        payload = verification_payload(
            mac_key, key_id, receipt_no=f.receipt_no, amount=paid, date=fmt_date(f.paid_at)
        )
    sections = _certificate_sections(f, paid, masked)
    return Document(
        kind="certificate",
        key=f.enrollment_id,
        title=KINDS["certificate"],
        issuer=f.service_point,
        number=f"{f.year}年度",
        sections=sections,
        notes=[
            f"兹证明上述人员已参加{f.year}年度城乡居民基本医疗保险。",
            "以上信息以县医保部门核定为准；扫描二维码可核验缴费收据。"
            if payload
            else "以上信息以县医保部门核定为准。",
        ],
        footer=[
            Field("经办人", f.operator, "operator"),
            Field("打印时间", printed_at, "printed_at"),
            Field("经办机构（盖章）", "", "stamp"),
        ],
        copy_no=copy_no,
        qr_payload=payload,
        masked=masked,
    )


def _certificate_sections(f: CertificateFacts, paid: Decimal | None, masked: bool) -> list[Section]:
    """Who is insured, and the year's enrollment and payment."""
    waiting_text = _waiting_label(f.waiting_months)
    itype = f.insurance_type
    return [
        Section(
            "参保人信息",
            [
                Field("姓名", f.name.strip(), "name"),
                Field(f.cert_type or "证件号码", show_id(f.cert_no, masked=masked), "cert_no"),
                Field("性别", f.sex, "sex"),
                Field("出生日期", fmt_date(f.birth_date), "birth_date"),
                Field("村（居委会）", f.village or "—", "village"),
                Field("医保区划", f.region, "region"),
            ],
        ),
        Section(
            "参保信息",
            [
                Field("参保年度", f"{f.year}年度", "year"),
                Field(
                    "险种", f"{itype} {INSURANCE_TYPES.get(itype, '')}".strip(), "insurance_type"
                ),
                Field("参保人员类别", f.insured_category, "insured_category"),
                Field("资助类别", f.subsidy_category, "subsidy_category"),
                Field("参保状态", f.status, "status"),
                Field("连续参保年数", f"{f.continuous_years}年", "continuous_years"),
                Field(
                    "待遇享受期",
                    benefit_period_text(f.benefit_start, f.benefit_end)
                    if f.benefit_start
                    else "未缴费，暂无待遇",
                    "benefit_period",
                    wide=True,
                ),
                Field("等待期", waiting_text, "waiting"),
                Field("缴费收据号", f.receipt_no or "—", "receipt_no"),
                Field("缴费金额", money_text(paid) if paid is not None else "—", "paid_amount"),
                Field("缴费日期", fmt_date(f.paid_at) or "—", "paid_at"),
            ],
        ),
    ]
