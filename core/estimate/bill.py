"""One bill through every layer (estimate), or one layer on given figures."""

from __future__ import annotations

from core.categories import is_known_category
from core.errors import ValidationError
from core.estimate.basic import basic_layer
from core.estimate.helpers import _m
from core.estimate.records import AssistanceInput, DabingInput, EstimateInput, EstimateResult, Step
from core.estimate.upper import assistance_layer, dabing_layer
from core.money import ZERO
from core.policy import Policy
from core.policy.benefits import (
    AssistanceSection,
    DabingSection,
)

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
    # a 异地 先行自付 share the policy keeps out of the burden is the person's, like costs
    # outside the policy, for 大病 and 救助
    out_of_policy = b.total - b.in_policy + b.kept_out
    after_basic = b.in_policy - hifp - b.kept_out
    if b.kept_out:
        steps.append(
            Step(
                "basic",
                "异地就医先行自付",
                f"异地就医先行自付 {_m(b.kept_out)} 元不计入大病保险和医疗救助的个人负担",
                {"kept_out": _m(b.kept_out)},
                policy.section(inp.setting).out_of_area_for(inp.out_of_area).source,
            )
        )
    hifmi, dabing_burden = _dabing(policy, inp, b, after_basic, steps)
    maf, assistance_base = _assistance(policy, inp, after_basic, out_of_policy, hifmi, steps)
    tilted, tilted_base = _tilted(policy, inp, b, after_basic, hifp, hifmi, maf, steps)
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
        level_counter=b.level_counter,
        in_section=b.in_section,
    )


def _covers(policy: Policy, layer: str, setting: str) -> bool:
    return policy.has(layer) and setting in policy.section(layer).settings


def _dabing(policy: Policy, inp: EstimateInput, b, after_basic, steps: list[Step]):
    """大病保险 on the burden left after the basic fund: (fund paid, burden counted)."""
    if not _covers(policy, "dabing", inp.setting):
        return ZERO, ZERO
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
        cap_cut=inp.dabing_cap_cut,
    )
    steps.extend(st)
    return hifmi, dabing_burden


def _assistance(policy: Policy, inp, after_basic, out_of_policy, hifmi, steps: list[Step]):
    """医疗救助 on its base (after the basic fund or after 大病; in-policy or total):
    (fund paid, base counted)."""
    if not _covers(policy, "assistance", inp.setting):
        return ZERO, ZERO
    sec_a: AssistanceSection = policy.section("assistance")
    if sec_a.base == "after_dabing":
        base, text = after_basic - hifmi, "基本医保和大病保险后政策范围内个人负担"
    else:
        base, text = after_basic, "基本医保后政策范围内个人负担"
    if sec_a.base_scope == "total":
        base, text = base + out_of_policy, text.replace("政策范围内", "") + "（含政策范围外）"
    assistance_base = base if sec_a.terms_for(inp.category) is not None else ZERO
    maf, st = assistance_layer(
        sec_a,
        base=base,
        base_text=text,
        category=inp.category,
        paid_ytd=inp.assistance_paid_ytd,
        base_ytd=inp.assistance_base_ytd,
        age=inp.age,
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
    return maf, assistance_base


def _tilted(policy: Policy, inp, b, after_basic, hifp, hifmi, maf, steps: list[Step]):
    """倾斜救助 on what the person still pays after every other layer: (paid, base)."""
    if not _covers(policy, "tilted_assistance", inp.setting):
        return ZERO, ZERO
    sec_t: AssistanceSection = policy.section("tilted_assistance")
    base = max(ZERO, after_basic - hifmi - maf)
    text = "前几层报销后政策范围内个人负担"
    if sec_t.base_scope == "total":
        # all the person still pays (救助 on the total may already have covered part of
        # the out-of-policy costs: never count that part twice)
        base = b.total - hifp - hifmi - maf
        text = "前几层报销后个人负担（含政策范围外）"
    tilted_base = base if sec_t.terms_for(inp.category) is not None else ZERO
    tilted, st = assistance_layer(
        sec_t,
        base=base,
        base_text=text,
        category=inp.category,
        paid_ytd=inp.tilted_paid_ytd,
        base_ytd=inp.tilted_base_ytd,
        age=inp.age,
    )
    steps.extend(st)
    return tilted, tilted_base


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
        cap_cut=inp.dabing_cap_cut,
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
        age=inp.age,
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
