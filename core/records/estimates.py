"""Saved reimbursement estimates (报销测算), declared once in the order of the store's columns
(``db/desktop/0030_estimates.sql``). Estimates stay on the desk: none of their fields is
sent to the county."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from core.records.fields import BOOK, CLERK, DERIVED, _f, _names, labels


@dataclass(frozen=True)
class SavedEstimate:
    id: str = _f("测算记录", BOOK)
    person_id: str | None = _f("参保人", CLERK)  # None: an anonymous estimate
    anon_label: str = _f("备注", CLERK)
    policy_id: str = _f("报销政策", CLERK)
    year: int = _f("年度", CLERK)
    setting: str = _f("就医类别", CLERK)
    input_json: str = _f("测算输入", CLERK)
    result_json: str = _f("测算结果", DERIVED)
    medfee_sumamt: str | None = _f("医疗费用总额", DERIVED)
    fund_pay_sumamt: str | None = _f("基金支付", DERIVED)
    psn_part_amt: str | None = _f("个人负担", DERIVED)
    settled: int = _f("已结算", CLERK, default=0)
    settled_at: str | None = _f("结算标记时间", BOOK, default=None)
    settled_by: str | None = _f("结算标记人", BOOK, default=None)
    operator_id: str = _f("经办人", BOOK, default="")
    created_at: str = _f("测算时间", BOOK, default="")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> SavedEstimate:
        return cls(**{k: row[k] for k in ESTIMATE_COLUMNS if k in row})

    def as_row(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ESTIMATE_COLUMNS}

    @property
    def result(self) -> dict[str, Any]:
        return json.loads(self.result_json)

    @property
    def input(self) -> dict[str, Any]:
        return json.loads(self.input_json)


ESTIMATE_COLUMNS = _names(SavedEstimate)
ESTIMATE_LABELS = labels(SavedEstimate)
