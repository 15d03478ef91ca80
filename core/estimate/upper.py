"""The layers above the basic fund: 大病保险 and 医疗救助 (with 倾斜救助)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from core.categories import INSURED_CATEGORIES
from core.estimate.helpers import _band_sum, _band_text, _cap_left, _m, _overlap, _pct, _rate
from core.estimate.records import LAYER_LABELS, Step
from core.money import ZERO, fen
from core.policy.benefits import (
    AssistanceSection,
    DabingSection,
)


def dabing_layer(
    sec: DabingSection,
    *,
    burden: Decimal,
    burden_ytd_before: Decimal,
    paid_ytd: Decimal,
    category: str,
    cap_raise: Decimal,
    cap_cut: Decimal = ZERO,
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

    t_after, parts_after = _dabing_total(sec, ded, after, ratio_add, fixed)
    t_before, _ = _dabing_total(sec, ded, burden_ytd_before, ratio_add, fixed)
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
        pay = _dabing_cap(sec, pay, paid_ytd, cap_raise, steps, cap_cut)
    return pay, steps


def _dabing_total(
    sec: DabingSection, ded: Decimal, cum: Decimal, ratio_add: Decimal, fixed
) -> tuple[Decimal, list]:
    """The year's 大病 amount (unrounded) for a cumulative burden ``cum``, with its bands:
    segments of the whole burden ("gross") or of the part above the deductible."""
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


def _dabing_cap(
    sec: DabingSection,
    pay: Decimal,
    paid_ytd: Decimal,
    cap_raise: Decimal,
    steps: list[Step],
    cap_cut: Decimal = ZERO,
) -> Decimal:
    """The yearly cap, raised by the continuous-enrollment incentive (within its share) and
    lowered after a break (断保后降低, never below 0)."""
    raise_ = cap_raise
    if sec.cap_raise_max_share is not None:
        raise_ = min(raise_, fen(sec.cap * sec.cap_raise_max_share))
    left = _cap_left(max(ZERO, sec.cap + raise_ - cap_cut), paid_ytd)
    if pay <= left:
        return pay
    steps.append(
        Step(
            "dabing",
            "大病保险年度限额",
            f"年度最高支付 {_m(sec.cap)} 元"
            + (f" + 激励提高 {_m(raise_)} 元" if raise_ > 0 else "")
            + (f" − 断保降低 {_m(cap_cut)} 元" if cap_cut > 0 else "")
            + f"，本年已支付 {_m(paid_ytd)} 元 → 本次 {_m(left)} 元",
            {"cap": _m(sec.cap), "cap_raise": _m(raise_), "paid_ytd": _m(paid_ytd)},
            sec.source,
        )
    )
    return left


def assistance_layer(
    sec: AssistanceSection,
    *,
    base: Decimal,
    base_text: str,
    category: str,
    paid_ytd: Decimal,
    base_ytd: Decimal,
    age: int | None = None,
) -> tuple[Decimal, list[Step]]:
    """医疗救助 (or 倾斜救助) for one claim: the part of the base above the deductible (with a
    yearly deductible, of the year's base so far) through the ratio or its bands, raised by
    additions for age or category; then the per-claim and the yearly limits."""
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
    steps: list[Step] = []
    adds = sec.additions_for(category, age)
    ratio_add = sum((a.ratio_add for a in adds), ZERO)
    limit_add = sum((a.limit_add for a in adds), ZERO)
    _addition_steps(sec, adds, age, cat_label, steps)
    ded = terms.deductible
    if sec.deductible_yearly:
        ded = max(ZERO, ded - base_ytd)
        before = max(ZERO, base_ytd - terms.deductible)
    else:
        before = ZERO
    over = max(ZERO, base - ded)
    raw, parts = _band_sum(terms.rate_bands(), before, before + over, ratio_add)
    pay = fen(raw)
    how = (
        _band_text(parts)
        if terms.bands
        else f"× {_pct(_rate(terms.rate_bands()[0], ratio_add, None))}"
    )
    steps.append(
        Step(
            layer,
            f"{label}比例",
            f"{base_text} {_m(base)} 元"
            + (f" − 起付线 {_m(ded)} 元" if ded > 0 else "（无起付线）")
            + f"，{how or '0.00'} = {_m(pay)} 元",
            {"base": _m(base), "deductible": _m(ded), "ratio": str(terms.ratio or "")},
            terms.source,
        )
    )
    if terms.claim_limit is not None and pay > terms.claim_limit:
        pay = terms.claim_limit
        steps.append(
            Step(
                layer,
                f"{label}单次限额",
                f"单次{label}不超过 {_m(terms.claim_limit)} 元 → 本次 {_m(pay)} 元",
                {"claim_limit": _m(terms.claim_limit)},
                terms.source,
            )
        )
    if terms.yearly_limit is not None:
        pay = _yearly_limit(layer, label, terms, limit_add, paid_ytd, pay, steps)
    return pay, steps


def _addition_steps(sec, adds, age, cat_label: str, steps: list[Step]) -> None:
    """Say which additions apply, and when age decides one but was not given."""
    for a in adds:
        who = a.who() or cat_label
        parts = [f"比例提高 {_pct(a.ratio_add)}" if a.ratio_add else ""]
        parts.append(f"年度限额增加 {_m(a.limit_add)} 元" if a.limit_add else "")
        steps.append(
            Step(
                sec.name,
                "救助倾斜",
                f"{who}：" + "，".join(p for p in parts if p),
                {"ratio_add": str(a.ratio_add), "limit_add": _m(a.limit_add)},
                a.source,
            )
        )
    if age is None and sec.needs_age:
        steps.append(
            Step(
                sec.name,
                "救助倾斜",
                "未提供年龄，未计算按年龄的倾斜",
                {},
                next(a.source for a in sec.additions if a.age_below is not None),
            )
        )


def _yearly_limit(layer, label, terms, limit_add, paid_ytd, pay, steps: list[Step]) -> Decimal:
    limit = terms.yearly_limit + limit_add
    left = _cap_left(limit, paid_ytd)
    if pay <= left:
        return pay
    how = f"（{terms.limit_text}）" if terms.limit_text else ""
    more = f" + 倾斜 {_m(limit_add)} 元" if limit_add else ""
    steps.append(
        Step(
            layer,
            f"{label}年度限额",
            f"年度限额 {_m(terms.yearly_limit)} 元{how}{more}，本年已救助 {_m(paid_ytd)} 元"
            f" → 本次 {_m(left)} 元",
            {"yearly_limit": _m(limit), "paid_ytd": _m(paid_ytd)},
            terms.source,
        )
    )
    return left
