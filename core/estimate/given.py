"""Reading an estimate from JSON (the acceptance cases' ``given``, the CLI, saved estimates)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, fields
from decimal import Decimal, InvalidOperation
from typing import Any

from core.categories import is_known_category
from core.errors import ValidationError
from core.estimate.bill import estimate, run_assistance, run_dabing
from core.estimate.records import AssistanceInput, DabingInput, EstimateInput, EstimateResult
from core.money import parse_amount
from core.policy import Policy
from core.policy.benefits import (
    OUT_OF_AREA,
    SETTINGS,
)

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
    "dabing_cap_cut": "大病限额断保降低",
    "assistance_paid_ytd": "本年已救助",
    "assistance_base_ytd": "本年救助累计基数",
    "tilted_paid_ytd": "本年倾斜救助已付",
    "tilted_base_ytd": "本年倾斜救助累计基数",
    "burden": "本次政策范围内个人负担",
    "burden_ytd_before": "本年此前大病累计负担",
    "hifp_pay": "统筹基金支付",
    "hifmi_pay": "大病保险支付",
    "in_policy_burden_after_basic": "基本医保后政策范围内个人负担",
    "level_in_policy_ytd": "本病种（项目）本年政策范围内费用",
    "level_paid_ytd": "本病种（项目）本年已支付",
}
# Whole numbers a bill may carry: field → (label, lowest, highest).
_INTS = {
    "admission_no": ("住院次数", 1, 99),
    "claim_free_years": ("连续未报销年数", 0, 50),
    "days": ("住院天数", 0, 366),
    "age": ("年龄", 0, 150),
    "continuous_years": ("连续参保年数", 0, 100),
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
            elif name in _INTS:
                kw[name] = _int(name, v, *_INTS[name])
            elif name == "after_break":
                if not isinstance(v, bool):
                    raise ValidationError({name: "断保后再参保应为 true 或 false"})
                kw[name] = v
            elif name == "out_of_area":
                if v not in ("", *OUT_OF_AREA):
                    raise ValidationError(
                        {name: f"异地就医应为 {'/'.join(OUT_OF_AREA)}（或留空表示本地就医）"}
                    )
                kw[name] = v
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
        if v is None or (f.name in ("out_of_area", "after_break") and not v):
            continue
        out[f.name] = f"{v:.2f}" if isinstance(v, Decimal) else v
    return out
