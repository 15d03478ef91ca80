"""Small helpers of the 报销测算 page."""

from __future__ import annotations

from typing import Any

from core.estimate import LAYER_LABELS
from core.receipt import ESTIMATE_TOTALS

# Amount inputs: field → label. Which are shown depends on the mode.
BILL_FIELDS = {
    "total": "医疗费总额",
    "in_policy": "政策范围内金额",
    "fully_self_paid": "全自费",
    "class_b_amount": "乙类项目金额",
    "over_limit": "超限价部分",
    "partial_self_pay": "部分自付",
}


DABING_FIELDS = {"burden": "本次政策范围内个人负担"}


ASSIST_FIELDS = {
    "total": "医疗费总额",
    "hifp_pay": "统筹基金已支付",
    "in_policy_burden_after_basic": "基本医保后政策范围内个人负担",
    "hifmi_pay": "大病保险已支付",
}


AMOUNT_FIELDS = {**BILL_FIELDS, **DABING_FIELDS, **ASSIST_FIELDS}


# (row, column) of each amount in the two-column form
AMOUNT_SLOTS = {
    "total": (6, 0),
    "in_policy": (6, 1),
    "fully_self_paid": (7, 0),
    "class_b_amount": (7, 1),
    "over_limit": (8, 0),
    "partial_self_pay": (8, 1),
    "burden": (9, 0),
    "hifp_pay": (10, 0),
    "in_policy_burden_after_basic": (10, 1),
    "hifmi_pay": (11, 0),
}


MODE_FIELDS = {"bill": BILL_FIELDS, "dabing": DABING_FIELDS, "assistance": ASSIST_FIELDS}


# YTD fields each mode sends to the engine
MODE_YTD = {
    "dabing": ("dabing_burden_ytd", "dabing_paid_ytd"),
    "assistance": ("assistance_paid_ytd", "assistance_base_ytd"),
}


YTD_EXTRA = {"dabing_cap_raise": "大病限额激励提高", "dabing_cap_cut": "大病限额断保降低"}


# the result's figures with the printed 测算单's names, in its order: what a resident reads
# on the screen is what they take home
RESULT_ROWS = list(ESTIMATE_TOTALS.items())


STEP_LAYER_LABELS = {**LAYER_LABELS, "total": "合计"}


def _short_source(text: str) -> str:
    """The document and article (before the quoted text); the full text is in the tooltip."""
    for sep in ("：", ":"):
        if sep in text:
            text = text.split(sep, 1)[0]
            break
    return text if len(text) <= 40 else text[:39] + "…"


def _dec(v: Any):
    from decimal import Decimal  # deferred: not needed for the first paint (cold start)

    return Decimal(str(v))
