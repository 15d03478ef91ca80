"""The reimbursement estimator (报销测算): basic fund → 大病保险 → 医疗救助 → 倾斜救助.

Pure: no Qt, no I/O. Every figure comes from a :class:`~core.policy.Policy`
(sections in :mod:`core.policy.benefits`); money is Decimal, rounded half-up to
the fen at each layer. Results use the national settlement names (``medfee_sumamt``,
``inscp_scp_amt``, ``act_pay_dedc``, ``hifp_pay``, ``hifmi_pay``, ``maf_pay``,
``fund_pay_sumamt``, ``psn_part_amt``) plus ``tilted_pay`` (倾斜救助) and a list of
:class:`Step` s, each with the rule, its numbers and its source.

Entry points: :func:`estimate` (one bill through every layer), :func:`run_dabing` and
:func:`run_assistance` (one layer on given figures), :func:`run_given` (any of these from
a JSON object shaped like the ``given`` objects of the acceptance cases) and
:func:`parse_given`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, asdict, dataclass, field, fields, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from core.categories import INSURED_CATEGORIES, is_known_category
from core.errors import ValidationError
from core.money import ZERO, fen, parse_amount, yuan
from core.policy import Policy
from core.policy.benefits import (
    SETTING_LABELS,
    SETTINGS,
    AssistanceSection,
    Band,
    BasicBenefit,
    DabingSection,
)

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
    assistance_paid_ytd: Decimal = ZERO
    assistance_base_ytd: Decimal = ZERO  # assistance base counted this year (yearly deductible)
    tilted_paid_ytd: Decimal = ZERO
    tilted_base_ytd: Decimal = ZERO


@dataclass(frozen=True)
class DabingInput:
    burden: Decimal  # in-policy burden after basic of this bill
    burden_ytd_before: Decimal = ZERO
    dabing_paid_ytd: Decimal = ZERO
    category: str = "ordinary"
    dabing_cap_raise: Decimal = ZERO


@dataclass(frozen=True)
class AssistanceInput:
    in_policy_burden_after_basic: Decimal
    total: Decimal | None = None
    hifp_pay: Decimal = ZERO
    hifmi_pay: Decimal = ZERO
    category: str = "ordinary"
    assistance_paid_ytd: Decimal = ZERO
    assistance_base_ytd: Decimal = ZERO


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

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"policy": self.policy_id, "layer": self.layer}
        for k in MONEY_FIELDS:
            v = getattr(self, k)
            if v is not None:
                out[k] = f"{v:.2f}"
        if self.layer == "all":
            out.update(setting=self.setting, level=self.level, counter=self.counter)
        out.update(
            dabing_burden=f"{self.dabing_burden:.2f}",
            assistance_base=f"{self.assistance_base:.2f}",
            tilted_base=f"{self.tilted_base:.2f}",
        )
        out["steps"] = [asdict(s) for s in self.steps]
        return out


# ---------------------------------------------------------------- helpers


def _m(v: Decimal) -> str:
    return f"{v:.2f}"


def _pct(r: Decimal) -> str:
    s = f"{(r * 100).normalize():f}"
    return f"{s}%"


def _overlap(lo: Decimal, hi: Decimal | None, a: Decimal, b: Decimal) -> Decimal:
    """Length of [lo, hi) ∩ [a, b)."""
    top = b if hi is None else min(hi, b)
    bottom = max(lo, a)
    return top - bottom if top > bottom else ZERO


def _rate(band: Band, ratio_add: Decimal, fixed: Decimal | None) -> Decimal:
    return fixed if fixed is not None else min(ONE, band.ratio + ratio_add)


def _band_sum(
    bands: tuple[Band, ...],
    a: Decimal,
    b: Decimal,
    ratio_add: Decimal,
    fixed: Decimal | None = None,
) -> tuple[Decimal, list[tuple[Band, Decimal, Decimal]]]:
    """Σ over bands of (part of [a, b) in the band) × (ratio + ratio_add, at most 100%; or
    the category's fixed ratio)."""
    total = ZERO
    parts = []
    for band in bands:
        amt = _overlap(band.lo, band.hi, a, b)
        if amt > 0:
            r = _rate(band, ratio_add, fixed)
            total += amt * r
            parts.append((band, amt, r))
    return total, parts


def _src(*candidates: str) -> str:
    for c in candidates:
        if c:
            return c
    return ""


def _band_text(parts: list[tuple[Band, Decimal, Decimal]]) -> str:
    return "；".join(
        f"{_m(amt)} × {_pct(r)}"
        + (
            ""
            if band.lo == 0 and band.hi is None
            else f"（{_m(band.lo)}–{_m(band.hi) if band.hi is not None else '以上'}段）"
        )
        for band, amt, r in parts
    )


def _cap_left(cap: Decimal, used: Decimal) -> Decimal:
    return max(ZERO, cap - used)


# ---------------------------------------------------------------- layers


@dataclass(frozen=True)
class _Basic:
    total: Decimal
    in_policy: Decimal
    deductible: Decimal
    fund: Decimal
    counter: str
    steps: list[Step]


def _in_policy(section: BasicBenefit, inp: EstimateInput) -> tuple[Decimal, Decimal, list[Step]]:
    steps: list[Step] = []
    parts = (inp.fully_self_paid, inp.class_b_amount, inp.over_limit, inp.partial_self_pay)
    if inp.in_policy is not None:
        if any(p > 0 for p in parts):
            raise ValidationError(
                {
                    "in_policy": "已直接填写政策范围内金额，请不要再填写全自费、乙类、超限价或部分自付金额"
                }
            )
        inscp = inp.in_policy
        total = inp.total if inp.total is not None else inscp
        if inscp > total:
            raise ValidationError({"in_policy": "政策范围内金额不能大于医疗费总额"})
        steps.append(
            Step(
                "in_policy",
                "政策范围内费用",
                f"医疗费总额 {_m(total)} 元，其中政策范围内 {_m(inscp)} 元（按填写），"
                f"政策范围外 {_m(total - inscp)} 元由个人负担",
                {"total": _m(total), "in_policy": _m(inscp)},
                "填写的费用明细",
            )
        )
        return total, inscp, steps
    if inp.total is None:
        raise ValidationError({"total": "请填写医疗费总额或政策范围内金额"})
    total = inp.total
    first = ZERO
    share_text = ""
    if inp.class_b_amount > 0:
        if section.class_b_self_share is None:
            raise ValidationError(
                {"class_b_amount": "本政策文件未规定乙类先行自付比例，请直接填写政策范围内金额"}
            )
        if inp.class_b_amount > total - inp.fully_self_paid:
            raise ValidationError({"class_b_amount": "乙类项目金额不能超过总费用减全自费"})
        first = fen(inp.class_b_amount * section.class_b_self_share)
        share_text = (
            f"，乙类先行自付 {_m(inp.class_b_amount)} × {_pct(section.class_b_self_share)}"
            f" = {_m(first)}"
        )
    out = inp.fully_self_paid + first + inp.over_limit + inp.partial_self_pay
    if out > total:
        raise ValidationError(
            {"total": "全自费、乙类先行自付、超限价和部分自付之和超过了医疗费总额"}
        )
    inscp = total - out
    steps.append(
        Step(
            "in_policy",
            "政策范围内费用",
            f"医疗费总额 {_m(total)} − 全自费 {_m(inp.fully_self_paid)}"
            f" − 部分自付 {_m(inp.partial_self_pay)} − 超限价 {_m(inp.over_limit)}"
            f"{share_text} → 政策范围内 {_m(inscp)} 元",
            {
                "total": _m(total),
                "fully_self_paid": _m(inp.fully_self_paid),
                "partial_self_pay": _m(inp.partial_self_pay),
                "over_limit": _m(inp.over_limit),
                "class_b_first_share": _m(first),
                "in_policy": _m(inscp),
            },
            section.source,
        )
    )
    return total, inscp, steps


def basic_layer(policy: Policy, inp: EstimateInput) -> _Basic:
    if inp.setting not in SETTINGS:
        raise ValidationError({"setting": "就医类别不正确"})
    if not policy.has(inp.setting):
        raise ValidationError(
            {"setting": f"政策“{policy.title}”没有{SETTING_LABELS[inp.setting]}待遇规定"}
        )
    sec: BasicBenefit = policy.section(inp.setting)
    level = sec.levels.get(inp.level)
    if level is None:
        choices = "、".join(f"{c}（{lv.label}）" for c, lv in sec.levels.items())
        raise ValidationError(
            {"level": f"{sec.level_label}“{inp.level}”不在本政策中，可选：{choices}"}
        )
    total, inscp, steps = _in_policy(sec, inp)
    terms = sec.terms_for(inp.category)

    # deductible
    ded = level.deductible
    src_level = _src(level.source, sec.source)
    steps.append(
        Step(
            "basic",
            "起付线",
            f"{level.label}起付线 {_m(ded)} 元",
            {"deductible": _m(ded)},
            src_level,
        )
    )
    if terms is not None and (terms.deductible is not None or terms.deductible_factor is not None):
        if terms.deductible is not None:
            ded, how = terms.deductible, f"定为 {_m(terms.deductible)} 元"
        else:
            ded, how = ded * terms.deductible_factor, f"× {_pct(terms.deductible_factor)}"
        steps.append(
            Step(
                "basic",
                "人员类别起付线",
                f"{INSURED_CATEGORIES.get(inp.category, inp.category)}起付线{how} → {_m(ded)} 元",
                {"deductible": _m(ded)},
                terms.source,
            )
        )
    free = [c for c in sec.claim_free if c.years <= inp.claim_free_years]
    if free:
        c = free[-1]
        ded = max(ZERO, ded - c.reduce)
        steps.append(
            Step(
                "basic",
                "未报销年度降低起付线",
                f"连续 {inp.claim_free_years} 年未发生报销，起付线降低 {_m(c.reduce)} 元 → {_m(ded)} 元",
                {"claim_free_years": str(inp.claim_free_years), "reduce": _m(c.reduce)},
                c.source,
            )
        )
    if sec.deductible_basis == "per_admission":
        rules = [a for a in sec.admission_rules if a.from_admission <= inp.admission_no]
        if rules:
            a = rules[-1]
            ded = ded * a.factor
            steps.append(
                Step(
                    "basic",
                    "多次住院起付线",
                    f"本年第 {inp.admission_no} 次住院，起付线 × {_pct(a.factor)} → {_m(fen(ded))} 元",
                    {"admission_no": str(inp.admission_no), "factor": str(a.factor)},
                    a.source,
                )
            )
    ded = fen(ded)
    if sec.deductible_basis == "yearly":
        used = {
            "inpatient": inp.deductible_paid_ytd,
            "outpatient": inp.outpatient_in_policy_ytd,
            "chronic": inp.chronic_in_policy_ytd,
        }[sec.counter]
        used = min(ded, used)
        if used > 0:
            ded = ded - used
            steps.append(
                Step(
                    "basic",
                    "年度起付线累计",
                    f"起付线按年度累计，本年已累计 {_m(used)} 元 → 本次尚余 {_m(ded)} 元",
                    {"used_ytd": _m(used), "deductible_left": _m(ded)},
                    sec.source,
                )
            )
    if sec.deductible_year_cap is not None:
        left = _cap_left(sec.deductible_year_cap, inp.deductible_paid_ytd)
        if ded > left:
            ded = left
            steps.append(
                Step(
                    "basic",
                    "年度起付线上限",
                    f"年度累计起付线不超过 {_m(sec.deductible_year_cap)} 元，"
                    f"本年已付 {_m(inp.deductible_paid_ytd)} 元 → 本次 {_m(ded)} 元",
                    {"deductible_year_cap": _m(sec.deductible_year_cap)},
                    sec.source,
                )
            )
    dedc = min(inscp, ded)
    steps.append(
        Step(
            "basic",
            "本次起付线",
            f"本次计入起付线 {_m(dedc)} 元（政策范围内 {_m(inscp)} 元）",
            {"act_pay_dedc": _m(dedc)},
            src_level,
        )
    )

    # ratio bands
    ratio_add = terms.ratio_add if terms is not None else ZERO
    fixed = terms.ratio if terms is not None else None
    if sec.band_basis == "above_deductible":
        a, b = ZERO, inscp - dedc
    else:
        a, b = dedc, inscp
    raw, parts = _band_sum(level.bands, a, b, ratio_add, fixed)
    fund = fen(raw)
    add_text = ""
    cat_label = INSURED_CATEGORIES.get(inp.category, inp.category)
    if ratio_add > 0:
        add_text = f"（{cat_label}比例提高 {_pct(ratio_add)}）"
    elif fixed is not None:
        add_text = f"（{cat_label}按 {_pct(fixed)} 支付）"
    steps.append(
        Step(
            "basic",
            "支付比例",
            f"起付线以上 {_m(inscp - dedc)} 元：{_band_text(parts) or '0.00'}{add_text}"
            f" = {_m(fund)} 元",
            {"eligible": _m(inscp - dedc), "fund_before_cap": _m(fund)},
            terms.source if add_text and terms is not None else _src(level.source, sec.source),
        )
    )

    # yearly cap
    cap = level.cap if level.cap is not None else sec.cap
    if cap is not None and not (terms is not None and terms.no_cap):
        paid = {
            "inpatient": inp.basic_paid_ytd,
            "outpatient": inp.outpatient_paid_ytd,
            "chronic": inp.chronic_paid_ytd,
        }[sec.counter]
        left = _cap_left(cap, paid)
        if fund > left:
            steps.append(
                Step(
                    "basic",
                    "年度最高支付限额",
                    f"年度最高支付限额 {_m(cap)} 元，本年已支付 {_m(paid)} 元，"
                    f"尚余 {_m(left)} 元 → 统筹基金支付 {_m(left)} 元",
                    {"cap": _m(cap), "paid_ytd": _m(paid), "cap_left": _m(left)},
                    sec.source,
                )
            )
            fund = left
    return _Basic(total, inscp, dedc, fund, sec.counter, steps)


def dabing_layer(
    sec: DabingSection,
    *,
    burden: Decimal,
    burden_ytd_before: Decimal,
    paid_ytd: Decimal,
    category: str,
    cap_raise: Decimal,
) -> tuple[Decimal, list[Step]]:
    """大病保险 for one bill: f(burden so far + this burden) − f(burden so far)."""
    steps: list[Step] = []
    terms = sec.terms_for(category)
    ded = sec.deductible
    if terms is not None and terms.deductible is not None:
        ded = terms.deductible
    elif terms is not None and terms.deductible_factor is not None:
        ded = fen(ded * terms.deductible_factor)
    ratio_add = terms.ratio_add if terms is not None else ZERO
    fixed = terms.ratio if terms is not None else None
    after = burden_ytd_before + burden
    steps.append(
        Step(
            "dabing",
            "大病保险起付线",
            f"本年累计政策范围内个人负担 {_m(burden_ytd_before)} + 本次 {_m(burden)}"
            f" = {_m(after)} 元；大病保险年度起付线 {_m(ded)} 元（一年只计一次）"
            + (
                f"，{INSURED_CATEGORIES.get(category, category)}享受倾斜政策"
                if terms is not None
                else ""
            ),
            {
                "burden_ytd_before": _m(burden_ytd_before),
                "burden": _m(burden),
                "burden_ytd_after": _m(after),
                "deductible": _m(ded),
            },
            terms.source if terms is not None else sec.source,
        )
    )

    def total_for(cum: Decimal) -> tuple[Decimal, list]:
        if sec.segment_basis == "gross":
            total, parts = ZERO, []
            for i, seg in enumerate(sec.segments):
                lo = ded if i == 0 else max(seg.lo, ded)
                amt = _overlap(lo, seg.hi, ZERO, cum)
                if amt > 0:
                    r = _rate(seg, ratio_add, fixed)
                    total += amt * r
                    parts.append((replace(seg, lo=lo), amt, r))
            return total, parts
        x = max(ZERO, cum - ded)
        return _band_sum(sec.segments, ZERO, x, ratio_add, fixed)

    t_after, parts_after = total_for(after)
    t_before, _ = total_for(burden_ytd_before)
    # the year's 大病 amount is rounded once (half-up to the fen) before and after this bill,
    # so bills split any way add up to the single settlement of the year
    pay = fen(t_after) - fen(t_before)
    basis = "按累计负担分段" if sec.segment_basis == "gross" else "按超过起付线部分分段"
    steps.append(
        Step(
            "dabing",
            "分段计算、累加给付",
            f"{basis}：{_band_text(parts_after) or '未超过起付线'}"
            + (f"，减去本次之前已计 {_m(fen(t_before))}" if t_before > 0 else "")
            + f" → 大病保险 {_m(pay)} 元",
            {"year_total_after": _m(fen(t_after)), "year_total_before": _m(fen(t_before))},
            sec.source,
        )
    )
    if sec.cap is not None and not (terms is not None and terms.no_cap):
        raise_ = cap_raise
        if sec.cap_raise_max_share is not None:
            raise_ = min(raise_, fen(sec.cap * sec.cap_raise_max_share))
        cap = sec.cap + raise_
        left = _cap_left(cap, paid_ytd)
        if pay > left:
            steps.append(
                Step(
                    "dabing",
                    "大病保险年度限额",
                    f"年度最高支付 {_m(sec.cap)} 元"
                    + (f" + 激励提高 {_m(raise_)} 元" if raise_ > 0 else "")
                    + f"，本年已支付 {_m(paid_ytd)} 元 → 本次 {_m(left)} 元",
                    {"cap": _m(sec.cap), "cap_raise": _m(raise_), "paid_ytd": _m(paid_ytd)},
                    sec.source,
                )
            )
            pay = left
    return pay, steps


def assistance_layer(
    sec: AssistanceSection,
    *,
    base: Decimal,
    base_text: str,
    category: str,
    paid_ytd: Decimal,
    base_ytd: Decimal,
) -> tuple[Decimal, list[Step]]:
    layer = sec.name
    terms = sec.terms_for(category)
    label = LAYER_LABELS[layer]
    cat_label = INSURED_CATEGORIES.get(category, category)
    if terms is None:
        return ZERO, [
            Step(
                layer,
                f"{label}对象",
                f"{cat_label}不属于本政策的{label}对象，{label} 0.00 元",
                {},
                sec.source,
            )
        ]
    ded = terms.deductible
    if sec.deductible_yearly:
        ded = max(ZERO, ded - base_ytd)
    over = max(ZERO, base - ded)
    pay = fen(over * terms.ratio)
    steps = [
        Step(
            layer,
            f"{label}比例",
            f"{base_text} {_m(base)} 元"
            + (f" − 起付线 {_m(ded)} 元" if ded > 0 else "（无起付线）")
            + f"，× {_pct(terms.ratio)} = {_m(pay)} 元",
            {"base": _m(base), "deductible": _m(ded), "ratio": str(terms.ratio)},
            terms.source,
        )
    ]
    if terms.yearly_limit is not None:
        left = _cap_left(terms.yearly_limit, paid_ytd)
        if pay > left:
            steps.append(
                Step(
                    layer,
                    f"{label}年度限额",
                    f"年度限额 {_m(terms.yearly_limit)} 元，本年已救助 {_m(paid_ytd)} 元"
                    f" → 本次 {_m(left)} 元",
                    {"yearly_limit": _m(terms.yearly_limit), "paid_ytd": _m(paid_ytd)},
                    terms.source,
                )
            )
            pay = left
    return pay, steps


# ---------------------------------------------------------------- whole bill


def estimate(policy: Policy, inp: EstimateInput) -> EstimateResult:
    """One bill through every layer the policy has: basic → 大病 → 救助 → 倾斜救助."""
    _check_category(inp.category)
    b = basic_layer(policy, inp)
    steps = list(b.steps)
    hifp = b.fund
    steps.append(
        Step(
            "basic",
            "统筹基金支付",
            f"基本医保统筹基金支付 {_m(hifp)} 元",
            {"hifp_pay": _m(hifp)},
            policy.section(inp.setting).source,
        )
    )
    out_of_policy = b.total - b.in_policy
    after_basic = b.in_policy - hifp

    hifmi = ZERO
    dabing_burden = ZERO
    if policy.has("dabing") and inp.setting in policy.section("dabing").settings:
        sec: DabingSection = policy.section("dabing")
        dabing_burden = (
            after_basic if sec.burden_includes_basic_deductible else after_basic - b.deductible
        )
        if not sec.burden_includes_basic_deductible:
            steps.append(
                Step(
                    "dabing",
                    "大病保险负担口径",
                    f"基本医保起付线 {_m(b.deductible)} 元不计入大病保险负担 → 本次负担 {_m(dabing_burden)} 元",
                    {"burden": _m(dabing_burden)},
                    sec.source,
                )
            )
        hifmi, st = dabing_layer(
            sec,
            burden=dabing_burden,
            burden_ytd_before=inp.dabing_burden_ytd,
            paid_ytd=inp.dabing_paid_ytd,
            category=inp.category,
            cap_raise=inp.dabing_cap_raise,
        )
        steps.extend(st)

    maf = ZERO
    assistance_base = ZERO
    if policy.has("assistance") and inp.setting in policy.section("assistance").settings:
        sec_a: AssistanceSection = policy.section("assistance")
        if sec_a.base == "after_dabing":
            base, text = after_basic - hifmi, "基本医保和大病保险后政策范围内个人负担"
        else:
            base, text = after_basic, "基本医保后政策范围内个人负担"
        if sec_a.base_scope == "total":
            base, text = base + out_of_policy, text.replace("政策范围内", "") + "（含政策范围外）"
        if sec_a.terms_for(inp.category) is not None:
            assistance_base = base
        maf, st = assistance_layer(
            sec_a,
            base=base,
            base_text=text,
            category=inp.category,
            paid_ytd=inp.assistance_paid_ytd,
            base_ytd=inp.assistance_base_ytd,
        )
        steps.extend(st)
        # a base taken before 大病 may overlap what 大病 paid: never pay beyond what is left
        left = after_basic - hifmi + (out_of_policy if sec_a.base_scope == "total" else ZERO)
        if maf > left:
            steps.append(
                Step(
                    "assistance",
                    "不超过个人剩余负担",
                    f"基本医保和大病保险后个人仅剩 {_m(left)} 元 → 医疗救助 {_m(left)} 元",
                    {"left": _m(left)},
                    sec_a.source,
                )
            )
            maf = left

    tilted = ZERO
    tilted_base = ZERO
    if (
        policy.has("tilted_assistance")
        and inp.setting in policy.section("tilted_assistance").settings
    ):
        sec_t: AssistanceSection = policy.section("tilted_assistance")
        base = max(ZERO, after_basic - hifmi - maf)
        text = "前几层报销后政策范围内个人负担"
        if sec_t.base_scope == "total":
            # all the person still pays (救助 on the total may already have covered part of
            # the out-of-policy costs: never count that part twice)
            base = b.total - hifp - hifmi - maf
            text = "前几层报销后个人负担（含政策范围外）"
        if sec_t.terms_for(inp.category) is not None:
            tilted_base = base
        tilted, st = assistance_layer(
            sec_t,
            base=base,
            base_text=text,
            category=inp.category,
            paid_ytd=inp.tilted_paid_ytd,
            base_ytd=inp.tilted_base_ytd,
        )
        steps.extend(st)

    funds = hifp + hifmi + maf + tilted
    psn = b.total - funds
    steps.append(
        Step(
            "total",
            "合计",
            f"基金支付合计 {_m(funds)} 元（统筹 {_m(hifp)} + 大病 {_m(hifmi)} + 救助 {_m(maf)}"
            + (f" + 倾斜救助 {_m(tilted)}" if tilted > 0 else "")
            + f"），个人负担 {_m(b.total)} − {_m(funds)} = {_m(psn)} 元",
            {"fund_pay_sumamt": _m(funds), "psn_part_amt": _m(psn)},
            policy.source,
        )
    )
    return EstimateResult(
        policy_id=policy.id,
        layer="all",
        medfee_sumamt=b.total,
        inscp_scp_amt=b.in_policy,
        act_pay_dedc=b.deductible,
        hifp_pay=hifp,
        hifmi_pay=hifmi,
        maf_pay=maf,
        tilted_pay=tilted,
        fund_pay_sumamt=funds,
        psn_part_amt=psn,
        steps=tuple(steps),
        setting=inp.setting,
        level=inp.level,
        counter=b.counter,
        dabing_burden=dabing_burden,
        assistance_base=assistance_base,
        tilted_base=tilted_base,
    )


def run_dabing(policy: Policy, inp: DabingInput) -> EstimateResult:
    """The 大病 layer alone, on a given burden (acceptance cases with ``layer: dabing``)."""
    _check_category(inp.category)
    if not policy.has("dabing"):
        raise ValidationError({"layer": f"政策“{policy.title}”没有大病保险规定"})
    pay, steps = dabing_layer(
        policy.section("dabing"),
        burden=inp.burden,
        burden_ytd_before=inp.burden_ytd_before,
        paid_ytd=inp.dabing_paid_ytd,
        category=inp.category,
        cap_raise=inp.dabing_cap_raise,
    )
    return EstimateResult(
        policy_id=policy.id,
        layer="dabing",
        medfee_sumamt=None,
        inscp_scp_amt=None,
        act_pay_dedc=None,
        hifp_pay=None,
        hifmi_pay=pay,
        maf_pay=None,
        tilted_pay=None,
        fund_pay_sumamt=pay,
        psn_part_amt=inp.burden - pay,
        steps=tuple(steps),
        dabing_burden=inp.burden,
    )


def run_assistance(policy: Policy, inp: AssistanceInput) -> EstimateResult:
    """医疗救助 alone, on given basic and 大病 figures (``layer: assistance`` cases)."""
    _check_category(inp.category)
    if not policy.has("assistance"):
        raise ValidationError({"layer": f"政策“{policy.title}”没有医疗救助规定"})
    sec: AssistanceSection = policy.section("assistance")
    burden = inp.in_policy_burden_after_basic
    if inp.hifmi_pay > burden:
        raise ValidationError({"hifmi_pay": "大病保险支付不能大于基本医保后的个人负担"})
    if sec.base == "after_dabing":
        base, text = burden - inp.hifmi_pay, "基本医保和大病保险后政策范围内个人负担"
    else:
        base, text = burden, "基本医保后政策范围内个人负担"
    total = inp.total
    if total is not None and total < inp.hifp_pay + burden:
        raise ValidationError({"total": "医疗费总额小于统筹支付与个人负担之和"})
    if sec.base_scope == "total":
        if total is None:
            raise ValidationError({"total": "本政策的救助基数含政策范围外费用，请填写医疗费总额"})
        base, text = (
            base + (total - inp.hifp_pay - burden),
            text.replace("政策范围内", "") + "（含政策范围外）",
        )
    maf, steps = assistance_layer(
        sec,
        base=base,
        base_text=text,
        category=inp.category,
        paid_ytd=inp.assistance_paid_ytd,
        base_ytd=inp.assistance_base_ytd,
    )
    outside = ZERO
    if sec.base_scope == "total" and total is not None:
        outside = total - inp.hifp_pay - burden
    left = burden - inp.hifmi_pay + outside
    if maf > left:
        steps.append(
            Step(
                "assistance",
                "不超过个人剩余负担",
                f"基本医保和大病保险后个人仅剩 {_m(left)} 元 → 医疗救助 {_m(left)} 元",
                {"left": _m(left)},
                sec.source,
            )
        )
        maf = left
    funds = inp.hifp_pay + inp.hifmi_pay + maf
    return EstimateResult(
        policy_id=policy.id,
        layer="assistance",
        medfee_sumamt=total,
        inscp_scp_amt=None,
        act_pay_dedc=None,
        hifp_pay=inp.hifp_pay,
        hifmi_pay=inp.hifmi_pay,
        maf_pay=maf,
        tilted_pay=None,
        fund_pay_sumamt=funds,
        psn_part_amt=(total - funds) if total is not None else None,
        steps=tuple(steps),
        assistance_base=base,
    )


def _check_category(category: str) -> None:
    if not is_known_category(category):
        raise ValidationError({"category": f"人员类别“{category}”不正确"})


# ---------------------------------------------------------------- JSON input

# Other names the same input goes by (descriptive names of published examples).
_COMMON_ALIASES = {
    "insured_category": "category",
    "person_category": "category",
    "cap_raise": "dabing_cap_raise",
}
_ALIASES = {
    "price_class": "level",
    "facility": "level",
    "hospital_level": "level",
    "disease": "level",
    "burden_ytd_before": "dabing_burden_ytd",
    "class_b": "class_b_amount",
    "over_limit_amount": "over_limit",
    **_COMMON_ALIASES,
}
_LAYER_ALIASES = {
    "dabing_burden_ytd": "burden_ytd_before",
    "in_policy_burden": "burden",
    **_COMMON_ALIASES,
}
_LABELS = {
    "setting": "就医类别（setting）",
    "level": "医疗机构类别（price_class / facility / disease）",
    "category": "人员类别",
    "total": "医疗费总额",
    "in_policy": "政策范围内金额",
    "fully_self_paid": "全自费金额",
    "class_b_amount": "乙类项目金额",
    "over_limit": "超限价金额",
    "partial_self_pay": "部分自付金额",
    "basic_paid_ytd": "本年已付统筹基金",
    "deductible_paid_ytd": "本年已付起付线",
    "outpatient_in_policy_ytd": "本年门诊政策内费用",
    "outpatient_paid_ytd": "本年门诊已报销",
    "chronic_in_policy_ytd": "本年慢特病政策内费用",
    "chronic_paid_ytd": "本年慢特病已报销",
    "dabing_burden_ytd": "本年大病累计负担",
    "dabing_paid_ytd": "本年大病已支付",
    "dabing_cap_raise": "大病限额激励提高",
    "assistance_paid_ytd": "本年已救助",
    "assistance_base_ytd": "本年救助累计基数",
    "tilted_paid_ytd": "本年倾斜救助已付",
    "tilted_base_ytd": "本年倾斜救助累计基数",
    "burden": "本次政策范围内个人负担",
    "burden_ytd_before": "本年此前大病累计负担",
    "hifp_pay": "统筹基金支付",
    "hifmi_pay": "大病保险支付",
    "in_policy_burden_after_basic": "基本医保后政策范围内个人负担",
}


def _amount(field_: str, v: Any) -> Decimal:
    if isinstance(v, float | bool):
        raise ValidationError({field_: f'{_LABELS.get(field_, field_)}请写成字符串，如 "1000.00"'})
    label = _LABELS.get(field_, field_)
    try:
        return parse_amount(v, field=field_, label=label)
    except InvalidOperation:  # e.g. "1e999": too large to round to the fen
        raise ValidationError({field_: f"{label}过大，请核对"}) from None


def _int(field_: str, v: Any, label: str, lo: int, hi: int) -> int:
    try:
        n = int(str(v).strip())
    except (TypeError, ValueError):
        raise ValidationError({field_: f"{label}应为整数"}) from None
    if isinstance(v, bool) or not lo <= n <= hi:
        raise ValidationError({field_: f"{label}应在 {lo}–{hi} 之间"})
    return n


def parse_given(given: Mapping[str, Any]) -> EstimateInput | DabingInput | AssistanceInput:
    """Build an input from a JSON object shaped like the ``given`` of the acceptance cases.

    ``layer`` ("dabing" / "assistance") selects a single layer; otherwise ``setting`` and
    ``price_class`` / ``facility`` / ``disease`` (or ``level``) describe a bill. Unknown
    keys are refused (a typo never passes silently)."""
    if not isinstance(given, Mapping):
        raise ValidationError({"input": "输入应为一个 JSON 对象"})
    data = dict(given)
    layer = data.pop("layer", None)
    if layer == "dabing":
        cls: type = DabingInput
    elif layer == "assistance":
        cls = AssistanceInput
    elif layer in (None, "all"):
        cls = EstimateInput
    else:
        raise ValidationError({"layer": f"layer 只能是 dabing 或 assistance，而不是 {layer!r}"})
    names = {f.name: f for f in fields(cls)}
    kw: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for k, v in data.items():
        name = (_ALIASES if cls is EstimateInput else _LAYER_ALIASES).get(k, k)
        if name not in names:
            errors[k] = f"不认识的字段“{k}”"
            continue
        if name in kw:
            errors[k] = f"字段“{k}”与其他字段重复"
            continue
        try:
            if v is None:
                continue
            if name in ("setting", "level", "category"):
                if not isinstance(v, str) or not v.strip():
                    raise ValidationError({name: f"请选择{_LABELS[name]}"})
                kw[name] = v.strip()
            elif name == "admission_no":
                kw[name] = _int(name, v, "住院次数", 1, 99)
            elif name == "claim_free_years":
                kw[name] = _int(name, v, "连续未报销年数", 0, 50)
            else:
                kw[name] = _amount(name, v)
        except ValidationError as e:
            errors.update(e.errors)
    for f in fields(cls):
        no_default = f.default is MISSING and f.default_factory is MISSING
        if no_default and f.name not in kw and f.name not in errors:
            errors[f.name] = f"缺少“{_LABELS.get(f.name, f.name)}”"
    if cls is EstimateInput:
        if "setting" in kw and kw["setting"] not in SETTINGS:
            errors["setting"] = f"就医类别应为 {'/'.join(SETTINGS)}"
        if "category" in kw and not is_known_category(kw["category"]):
            errors["category"] = f"人员类别“{kw['category']}”不正确"
    if errors:
        raise ValidationError(errors)
    return cls(**kw)


def run_input(policy: Policy, inp: EstimateInput | DabingInput | AssistanceInput) -> EstimateResult:
    if isinstance(inp, DabingInput):
        return run_dabing(policy, inp)
    if isinstance(inp, AssistanceInput):
        return run_assistance(policy, inp)
    return estimate(policy, inp)


def run_given(policy: Policy, given: Mapping[str, Any]) -> EstimateResult:
    return run_input(policy, parse_given(given))


def input_to_json(inp: EstimateInput | DabingInput | AssistanceInput) -> dict[str, Any]:
    """The inverse of :func:`parse_given` (money as strings), for saving."""
    out: dict[str, Any] = {}
    if isinstance(inp, DabingInput):
        out["layer"] = "dabing"
    elif isinstance(inp, AssistanceInput):
        out["layer"] = "assistance"
    for f in fields(inp):
        v = getattr(inp, f.name)
        if v is None:
            continue
        out[f.name] = f"{v:.2f}" if isinstance(v, Decimal) else v
    return out


__all__ = [
    "AssistanceInput",
    "DabingInput",
    "EstimateInput",
    "EstimateResult",
    "Step",
    "estimate",
    "input_to_json",
    "parse_given",
    "run_assistance",
    "run_dabing",
    "run_given",
    "run_input",
    "yuan",
]
