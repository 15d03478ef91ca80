"""The basic fund layer: the in-policy amount, deductibles, ratio bands and caps."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from core.categories import INSURED_CATEGORIES
from core.errors import ValidationError
from core.estimate.helpers import _band_sum, _band_text, _cap_left, _m, _pct, _src
from core.estimate.records import EstimateInput, Step
from core.money import ZERO, fen
from core.policy import Policy
from core.policy.benefits import (
    OUT_OF_AREA,
    SETTING_LABELS,
    SETTINGS,
    BasicBenefit,
)

# ---------------------------------------------------------------- layers


@dataclass(frozen=True)
class _Basic:
    total: Decimal
    in_policy: Decimal
    deductible: Decimal
    fund: Decimal
    counter: str
    steps: list[Step]
    level_counter: bool = False
    in_section: bool = True
    kept_out: Decimal = ZERO  # 异地 先行自付 the policy keeps out of the later layers' burden


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
    sec, level = _section_and_level(policy, inp)
    total, inscp, steps = _in_policy(sec, inp)
    terms = sec.terms_for(inp.category)
    away, eligible = _out_of_area(sec, inp, inscp, steps)
    if level.is_fixed:
        dedc, fund = ZERO, _fixed_fund(level, inp, eligible, steps)
    else:
        ded = _deductible(sec, level, terms, inp, steps)
        dedc = _deductible_this_bill(sec, level, inp, ded, eligible, steps)
        fund = _band_fund(sec, level, terms, inp, eligible, dedc, steps, away)
    fund = _yearly_cap(sec, level, terms, inp, fund, steps)
    own, within = sec.own_counter(level), sec.in_section(level)
    kept_out = inscp - eligible if away is not None and not away.first_in_burden else ZERO
    return _Basic(total, inscp, dedc, fund, sec.counter, steps, own, within, kept_out)


def _fixed_fund(level, inp: EstimateInput, eligible: Decimal, steps: list[Step]) -> Decimal:
    """定额: the level's stated sum per event, or per bed-day × days; the bill if smaller."""
    if level.per_day is not None:
        if inp.days <= 0:
            raise ValidationError({"days": f"{level.label}按床日定额支付，请填写住院天数"})
        stated = level.per_day * inp.days
        how = f"每床日 {_m(level.per_day)} 元 × {inp.days} 天 = {_m(stated)} 元"
    else:
        stated = level.fixed
        how = f"定额 {_m(stated)} 元"
    fund = min(stated, eligible)
    steps.append(
        Step(
            "basic",
            "定额支付",
            f"{level.label}{how}；政策范围内费用 {_m(eligible)} 元"
            + ("，低于定额，按实际费用支付" if eligible < stated else "")
            + f" → {_m(fund)} 元",
            {"stated": _m(stated), "fund_before_cap": _m(fund)},
            level.source,
        )
    )
    return fund


def _out_of_area(sec, inp: EstimateInput, inscp: Decimal, steps: list[Step]):
    """Care outside the pooling area: the rule of the 备案 status, and the in-policy amount
    left for the fund after the share the person pays first (先行自付)."""
    if not inp.out_of_area:
        return None, inscp
    rule = sec.out_of_area_for(inp.out_of_area)
    label = OUT_OF_AREA.get(inp.out_of_area, inp.out_of_area)
    if rule is None:
        raise ValidationError({"out_of_area": f"本政策没有异地就医（{label}）的报销规定"})
    eligible = inscp
    if rule.self_pay_first:
        first = fen(inscp * rule.self_pay_first)
        eligible = inscp - first
        steps.append(
            Step(
                "basic",
                "异地就医先行自付",
                f"异地就医（{label}）先行自付 {_pct(rule.self_pay_first)}：{_m(first)} 元，"
                f"其余 {_m(eligible)} 元按规定报销",
                {"self_pay_first": _m(first)},
                rule.source,
            )
        )
    return rule, eligible


def _section_and_level(policy: Policy, inp: EstimateInput):
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
    return sec, level


def _deductible(sec, level, terms, inp: EstimateInput, steps: list[Step]) -> Decimal:
    """The level's deductible, as the person's category, claim-free years and the
    admission number change it (rounded to the fen)."""
    ded = level.deductible
    steps.append(
        Step(
            "basic",
            "起付线",
            f"{level.label}起付线 {_m(ded)} 元",
            {"deductible": _m(ded)},
            _src(level.source, sec.source),
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
            ded = _repeat_admission(rules[-1], ded, inp, steps)
    return fen(ded)


def _repeat_admission(a, ded: Decimal, inp: EstimateInput, steps: list[Step]) -> Decimal:
    """The deductible of a repeat admission: × a factor, less a fixed sum, or a stated
    amount; never below the rule's floor."""
    nth = f"本年第 {inp.admission_no} 次住院，"
    if a.amount is not None:
        ded, how, facts = a.amount, f"起付线为 {_m(a.amount)} 元", {"amount": _m(a.amount)}
    elif a.reduce is not None:
        ded = max(ZERO, ded - a.reduce)
        how, facts = f"起付线降低 {_m(a.reduce)} 元", {"reduce": _m(a.reduce)}
    else:
        ded = ded * a.factor
        how, facts = f"起付线 × {_pct(a.factor)}", {"factor": str(a.factor)}
    if a.floor is not None and ded < a.floor:
        ded = a.floor
        how += f"，不低于 {_m(a.floor)} 元"
    steps.append(
        Step(
            "basic",
            "多次住院起付线",
            f"{nth}{how} → {_m(fen(ded))} 元",
            {"admission_no": str(inp.admission_no), **facts},
            a.source,
        )
    )
    return ded


def _deductible_this_bill(
    sec, level, inp: EstimateInput, ded: Decimal, inscp: Decimal, steps: list[Step]
) -> Decimal:
    """What this bill pays toward the deductible: what is left of it this year (a yearly
    deductible, the yearly deductible cap), never more than the in-policy amount."""
    if sec.deductible_basis == "yearly":
        used = {
            "inpatient": inp.deductible_paid_ytd,
            "outpatient": inp.outpatient_in_policy_ytd,
            "chronic": inp.chronic_in_policy_ytd,
        }[sec.counter]
        if sec.own_counter(level):
            used = inp.level_in_policy_ytd
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
            _src(level.source, sec.source),
        )
    )
    return dedc


def _band_fund(
    sec,
    level,
    terms,
    inp: EstimateInput,
    inscp: Decimal,
    dedc: Decimal,
    steps: list[Step],
    away=None,
) -> Decimal:
    """The fund's share above the deductible, band by band (the category's ratio terms;
    outside the pooling area, lowered by the 备案 status's cut, never below its minimum)."""
    ratio_add = terms.ratio_add if terms is not None else ZERO
    fixed = terms.ratio if terms is not None else None
    if sec.band_basis == "above_deductible":
        a, b = ZERO, inscp - dedc
    else:
        a, b = dedc, inscp
    cut = away.ratio_cut if away is not None else ZERO
    floor = away.min_ratio if away is not None else None
    shift = _continuous_shift(sec, inp, steps)
    raw, parts = _band_sum(level.bands, a, b, ratio_add, fixed, cut, floor, shift)
    fund = fen(raw)
    if cut:
        label = OUT_OF_AREA.get(inp.out_of_area, inp.out_of_area)
        steps.append(
            Step(
                "basic",
                "异地就医支付比例",
                f"异地就医（{label}）支付比例降低 {_pct(cut)}"
                + (f"，不低于 {_pct(floor)}" if floor is not None else ""),
                {"ratio_cut": str(cut)},
                away.source,
            )
        )
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
    return fund


def _continuous_shift(sec, inp: EstimateInput, steps: list[Step]) -> Decimal:
    """Points on the ratio for continuous enrollment (and off it after a break)."""
    rule = sec.continuous
    if rule is None:
        return ZERO
    if inp.continuous_years is None:
        steps.append(
            Step(
                "basic",
                "连续参保",
                "未提供连续参保年数，支付比例未按连续参保调整",
                {},
                rule.source,
            )
        )
        return ZERO
    add, cut = rule.shift(inp.continuous_years, inp.after_break)
    if not add and not cut:
        return ZERO
    text = f"连续参保 {inp.continuous_years} 年"
    if add:
        text += (
            f"，支付比例提高 {_pct(add)}（每满 {rule.every_years} 年提高 {_pct(rule.ratio_add)}，"
        )
        text += f"累计不超过 {_pct(rule.max_add)}）"
    if cut:
        text += f"；断保后再参保，支付比例降低 {_pct(cut)}"
    steps.append(
        Step("basic", "连续参保", text, {"ratio_add": str(add), "break_cut": str(cut)}, rule.source)
    )
    return add - cut


def _yearly_cap(sec, level, terms, inp: EstimateInput, fund: Decimal, steps: list[Step]) -> Decimal:
    """The fund's yearly caps, less what was paid this year: a level with its own counter
    has its own cap and, when it also counts in the section, the cap across levels; else the
    level's cap (or the section's) on the section's counter."""
    if terms is not None and terms.no_cap:
        return fund
    section_paid = {
        "inpatient": inp.basic_paid_ytd,
        "outpatient": inp.outpatient_paid_ytd,
        "chronic": inp.chronic_paid_ytd,
    }[sec.counter]
    limits = []
    if sec.own_counter(level):
        if level.cap is not None:
            limits.append((level.cap, inp.level_paid_ytd, f"{level.label}年度最高支付限额", True))
        across = sec.combined_cap if sec.level_counters else sec.cap
        if sec.in_section(level) and across is not None:
            title = "各病种合计年度最高支付限额" if sec.level_counters else "年度最高支付限额"
            limits.append((across, section_paid, title, False))
    else:
        cap = level.cap if level.cap is not None else sec.cap
        if cap is not None:
            limits.append((cap, section_paid, "年度最高支付限额", False))
    for cap, paid, title, own in limits:
        left = _cap_left(cap, paid)
        if fund > left:
            steps.append(
                Step(
                    "basic",
                    "年度最高支付限额",
                    f"{title} {_m(cap)} 元，本年已支付 {_m(paid)} 元，"
                    f"尚余 {_m(left)} 元 → 统筹基金支付 {_m(left)} 元",
                    {"cap": _m(cap), "paid_ytd": _m(paid), "cap_left": _m(left)},
                    _src(level.source, sec.source) if own else sec.source,
                )
            )
            fund = left
    return fund
