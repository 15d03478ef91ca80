"""Enrollments (参保年度) and payments (缴费): each field declared once, in the order of the
store's columns (``db/desktop/0001_initial.sql``, ``0040_payments.sql``, ``0041_…``), with
its Chinese label and whether the county receives it (:data:`core.syncproto.ENTITY_FIELDS`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.records.fields import BOOK, CLERK, DERIVED, _f, _names, labels


@dataclass(frozen=True)
class Enrollment:
    """One person's 参保年度 (table ``enrollment``), with the terms computed when the year
    was paid or subsidized."""

    id: str = _f("参保记录", BOOK, wire=True)
    person_id: str = _f("人员", BOOK, wire=True)
    year: int = _f("参保年度", CLERK, wire=True)
    insurance_type: str = _f("险种", BOOK, wire=True)
    insured_category: str = _f("参保人员类别", CLERK, wire=True)
    subsidy_category: str = _f("资助类别", CLERK, wire=True)
    status: str = _f("参保状态", BOOK, wire=True)
    created_at: str = _f("登记时间", BOOK, default="")
    updated_at: str = _f("修改时间", BOOK, default="")
    version: int = _f("版本", BOOK, default=1)
    server_version: int | None = _f("县级版本", BOOK, default=None)
    origin: str = _f("来源", BOOK, default="local")
    policy_id: str | None = _f("缴费政策", DERIVED, wire=True, default=None)
    amount_due: str | None = _f("个人应缴", DERIVED, wire=True, default=None)
    subsidized_amount: str | None = _f("资助金额", DERIVED, wire=True, default=None)
    subsidized_by: str | None = _f("资助部门", DERIVED, wire=True, default=None)
    benefits_from: str | None = _f("待遇开始", DERIVED, wire=True, default=None)
    benefits_to: str | None = _f("待遇截止", DERIVED, wire=True, default=None)
    waiting_unit: str | None = _f("等待期单位", DERIVED, wire=True, default=None)
    waiting: int | None = _f("等待期", DERIVED, wire=True, default=None)
    continuous_years: int | None = _f("连续参保年数", DERIVED, wire=True, default=None)
    incentive_raise: str | None = _f("大病限额提高", DERIVED, wire=True, default=None)
    terms_json: str | None = _f("缴费条件说明", DERIVED, default=None)  # stays on the desk
    county_confirmed_at: str | None = _f("县级确认时间", BOOK, wire=True, default=None)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Enrollment:
        return cls(**{k: row[k] for k in ENROLLMENT_COLUMNS if k in row})

    def as_row(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ENROLLMENT_COLUMNS}

    @property
    def subsidized_in_full(self) -> bool:
        """A department paid the whole personal share (资助参保)."""
        return bool(self.subsidized_by) and self.amount_due == "0.00"


@dataclass(frozen=True)
class Payment:
    """One contribution collected at the window (table ``payment``); never deleted, only
    voided or refunded."""

    id: str = _f("缴费记录", BOOK, wire=True)
    person_id: str = _f("人员", BOOK, wire=True)
    enrollment_id: str | None = _f("参保记录", BOOK, wire=True)
    year: int = _f("参保年度", CLERK, wire=True)
    policy_id: str = _f("缴费政策", DERIVED, wire=True)
    amount: str = _f("缴费金额", CLERK, wire=True)
    amount_due: str = _f("应缴金额", DERIVED, wire=True)
    channel: str = _f("缴费方式", CLERK, wire=True)
    paid_on: str = _f("缴费日期", CLERK, wire=True)
    operator_id: str | None = _f("经办人", BOOK, wire=True, default=None)
    receipt_no: str | None = _f("收据号", BOOK, wire=True, default=None)
    status: str = _f("状态", BOOK, wire=True, default="local")
    void_reason: str | None = _f("作废/退费原因", CLERK, wire=True, default=None)
    supervisor_id: str | None = _f("批准主管", BOOK, wire=True, default=None)
    voided_at: str | None = _f("作废/退费时间", BOOK, default=None)
    confirmed_at: str | None = _f("县级确认时间", BOOK, wire=True, default=None)
    confirmed_ref: str | None = _f("县级确认编号", BOOK, wire=True, default=None)
    created_at: str = _f("登记时间", BOOK, default="")
    updated_at: str = _f("修改时间", BOOK, default="")
    version: int = _f("版本", BOOK, default=1)
    server_version: int | None = _f("县级版本", BOOK, default=None)
    origin: str = _f("来源", BOOK, default="local")
    back_years: int = _f("补缴年数", CLERK, default=0)
    back_amount: str = _f("补缴金额", DERIVED, default="0.00")

    LIVE = ("local", "confirmed")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Payment:
        return cls(**{k: row[k] for k in PAYMENT_COLUMNS if k in row})

    def as_row(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in PAYMENT_COLUMNS}

    @property
    def live(self) -> bool:
        """Not voided or refunded."""
        return self.status in self.LIVE


ENROLLMENT_COLUMNS = _names(Enrollment)
ENROLLMENT_WIRE_FIELDS = _names(Enrollment, wire=True)
ENROLLMENT_LABELS = labels(Enrollment)

PAYMENT_COLUMNS = _names(Payment)
# What the county's own payment records carry besides the desk's columns (the county's
# imports from the tax bureau, 代缴 by a department): not columns on the desk.
PAYMENT_WIRE_ONLY = ("paid_at", "reason", "cert_no", "payer", "subsidy_amount", "note")
PAYMENT_WIRE_FIELDS = _names(Payment, wire=True) + PAYMENT_WIRE_ONLY
PAYMENT_LABELS = labels(Payment)
