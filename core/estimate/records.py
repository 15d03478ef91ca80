"""The estimator's inputs, steps and results, the layers' names and the year-to-date fields."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from core.money import ZERO

# Year-to-date figures the estimator takes for a person and year (field → label the clerk
# sees; also the columns of the county's YTD import and the sync protocol's ``ytd`` entity).
YTD_FIELDS: dict[str, str] = {
    "basic_paid_ytd": "本年住院统筹基金已支付",
    "deductible_paid_ytd": "本年住院已付起付线",
    "outpatient_in_policy_ytd": "本年门诊政策范围内费用",
    "outpatient_paid_ytd": "本年门诊统筹已支付",
    "chronic_in_policy_ytd": "本年慢特病政策范围内费用",
    "chronic_paid_ytd": "本年慢特病已支付",
    "dabing_burden_ytd": "本年大病保险累计负担",
    "dabing_paid_ytd": "本年大病保险已支付",
    "assistance_paid_ytd": "本年医疗救助已支付",
    "assistance_base_ytd": "本年医疗救助累计基数",
    "tilted_paid_ytd": "本年倾斜救助已支付",
    "tilted_base_ytd": "本年倾斜救助累计基数",
}

# A level (disease, fixed-payment item) with its own counter: what it used this year. Not part
# of the county's per-person figures: the desk counts them from settled estimates.
LEVEL_YTD_FIELDS: dict[str, str] = {
    "level_in_policy_ytd": "本病种本年费用",
    "level_paid_ytd": "本病种本年已支付",
}

ONE = Decimal(1)

LAYER_LABELS = {
    "in_policy": "政策范围内费用",
    "basic": "基本医保统筹基金",
    "dabing": "大病保险",
    "assistance": "医疗救助",
    "tilted_assistance": "倾斜救助",
}


# ---------------------------------------------------------------- inputs and results


@dataclass(frozen=True)
class EstimateInput:
    """One bill and what the person already used this year (all money Decimal yuan)."""

    setting: str  # inpatient | outpatient | pharmacy | chronic
    level: str  # price class / facility / disease code of the policy section
    total: Decimal | None = None  # 医疗费总额; None = in_policy + the out-of-policy parts
    in_policy: Decimal | None = None  # given directly, or derived from the parts below
    fully_self_paid: Decimal = ZERO  # 全自费
    class_b_amount: Decimal = ZERO  # 乙类 items (the policy's first share is taken out)
    over_limit: Decimal = ZERO  # 超限价部分
    partial_self_pay: Decimal = ZERO  # 部分自付 already computed by the hospital
    admission_no: int = 1  # nth admission this year
    category: str = "ordinary"
    claim_free_years: int = 0
    basic_paid_ytd: Decimal = ZERO  # inpatient basic fund paid this year
    deductible_paid_ytd: Decimal = ZERO  # inpatient deductibles paid this year
    outpatient_in_policy_ytd: Decimal = ZERO
    outpatient_paid_ytd: Decimal = ZERO
    chronic_in_policy_ytd: Decimal = ZERO
    chronic_paid_ytd: Decimal = ZERO
    dabing_burden_ytd: Decimal = ZERO  # cumulative 大病 burden before this bill
    dabing_paid_ytd: Decimal = ZERO
    dabing_cap_raise: Decimal = ZERO  # continuous-enrollment / claim-free raise (§3)
    dabing_cap_cut: Decimal = ZERO  # the cap lowered after a break (断保后降低)
    assistance_paid_ytd: Decimal = ZERO
    assistance_base_ytd: Decimal = ZERO  # assistance base counted this year (yearly deductible)
    tilted_paid_ytd: Decimal = ZERO
    tilted_base_ytd: Decimal = ZERO
    out_of_area: str = ""  # '' in the pooling area; filed | unfiled | emergency (异地就医)
    level_in_policy_ytd: Decimal = ZERO  # this level's (disease's) own counters, when it has them
    level_paid_ytd: Decimal = ZERO
    days: int = 0  # bed-days (按床日 fixed payments)
    age: int | None = None  # full years on the day of care (救助 additions by age)
    continuous_years: int | None = None  # full continuous 参保年度 up to this one
    after_break: bool = False  # enrolled again after a break (断保), within this run


@dataclass(frozen=True)
class DabingInput:
    burden: Decimal  # in-policy burden after basic of this bill
    burden_ytd_before: Decimal = ZERO
    dabing_paid_ytd: Decimal = ZERO
    category: str = "ordinary"
    dabing_cap_raise: Decimal = ZERO
    dabing_cap_cut: Decimal = ZERO


@dataclass(frozen=True)
class AssistanceInput:
    in_policy_burden_after_basic: Decimal
    total: Decimal | None = None
    hifp_pay: Decimal = ZERO
    hifmi_pay: Decimal = ZERO
    category: str = "ordinary"
    assistance_paid_ytd: Decimal = ZERO
    assistance_base_ytd: Decimal = ZERO
    age: int | None = None


@dataclass(frozen=True)
class Step:
    layer: str  # in_policy | basic | dabing | assistance | tilted_assistance
    rule: str  # short Chinese title (起付线, 支付比例 …)
    text: str  # the explanation with its numbers, as the clerk reads it
    numbers: dict[str, str] = field(default_factory=dict)
    source: str = ""


MONEY_FIELDS = (
    "medfee_sumamt",
    "inscp_scp_amt",
    "act_pay_dedc",
    "hifp_pay",
    "hifmi_pay",
    "maf_pay",
    "tilted_pay",
    "fund_pay_sumamt",
    "psn_part_amt",
)


@dataclass(frozen=True)
class EstimateResult:
    policy_id: str
    layer: str  # "all" | "dabing" | "assistance"
    medfee_sumamt: Decimal | None
    inscp_scp_amt: Decimal | None
    act_pay_dedc: Decimal | None
    hifp_pay: Decimal | None
    hifmi_pay: Decimal | None
    maf_pay: Decimal | None
    tilted_pay: Decimal | None
    fund_pay_sumamt: Decimal | None
    psn_part_amt: Decimal | None
    steps: tuple[Step, ...]
    setting: str = ""
    level: str = ""
    counter: str = ""  # which year-to-date counter the basic layer drew on
    dabing_burden: Decimal = ZERO  # burden this bill adds to the 大病 year
    assistance_base: Decimal = ZERO
    tilted_base: Decimal = ZERO
    level_counter: bool = False  # the level counted on its own counter
    in_section: bool = True  # … and on the section's counter (False: a fixed payment apart)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"policy": self.policy_id, "layer": self.layer}
        for k in MONEY_FIELDS:
            v = getattr(self, k)
            if v is not None:
                out[k] = f"{v:.2f}"
        if self.layer == "all":
            out.update(setting=self.setting, level=self.level, counter=self.counter)
            out.update(level_counter=self.level_counter, in_section=self.in_section)
        out.update(
            dabing_burden=f"{self.dabing_burden:.2f}",
            assistance_base=f"{self.assistance_base:.2f}",
            tilted_base=f"{self.tilted_base:.2f}",
        )
        out["steps"] = [asdict(s) for s in self.steps]
        return out
