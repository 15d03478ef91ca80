"""Acceptance-case input for the contribution rules: a :class:`PersonYear` from a JSON object
shaped like the ``given`` of the ``enrollment`` cases (the CLI ``enroll-terms`` reads it)."""

from __future__ import annotations

import datetime as dt

from core.categories import is_known_category
from core.contribution.rules import PersonYear
from core.errors import ValidationError

CASE_KEYS = {
    "category",
    "year",
    "paid_on",
    "born_on",
    "last_insured_year",
    "continuous_before",
    "back_years_paid",
    "left_employee_insurance_on",
    "continuous_years_before",
    "claim_free_years",
    "facts",
    "group",
}


def _case_date(given: dict, key: str, required: bool = False) -> dt.date | None:
    v = given.get(key)
    if v is None:
        if required:
            raise ValidationError({key: f"缺少 {key}"})
        return None
    try:
        return dt.date.fromisoformat(str(v))
    except ValueError:
        raise ValidationError({key: f"{key} 不是日期（YYYY-MM-DD）：{v!r}"}) from None


def _case_int(given: dict, key: str, default: int | None = None) -> int | None:
    v = given.get(key, default)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValidationError({key: f"{key} 必须是整数：{v!r}"})
    return v


def person_year_from_case(given: dict) -> PersonYear:
    """A :class:`PersonYear` from a JSON object shaped like the ``given`` of the acceptance
    ``enrollment`` cases. ``continuous_before: true`` means insured in the previous year
    (``last_insured_year = year - 1``); ``false`` without ``last_insured_year`` means no
    insured year is known."""
    if not isinstance(given, dict):
        raise ValidationError({"_": "输入必须是 JSON 对象"})
    unknown = sorted(set(given) - CASE_KEYS)
    if unknown:
        raise ValidationError({unknown[0]: f"未知字段 {unknown[0]}"})
    category = given.get("category")
    if not isinstance(category, str) or not category:
        raise ValidationError({"category": "缺少 category"})
    if not is_known_category(category):
        raise ValidationError({"category": f"未知的参保类别 {category!r}"})
    year = _case_int(given, "year")
    if year is None:
        raise ValidationError({"year": "缺少 year"})
    last = _case_int(given, "last_insured_year")
    cont = given.get("continuous_before")
    if cont is not None and not isinstance(cont, bool):
        raise ValidationError({"continuous_before": "continuous_before 必须是 true/false"})
    if "last_insured_year" not in given and cont is True:
        last = year - 1
    if cont is False and last == year - 1:
        raise ValidationError({"continuous_before": "与 last_insured_year 矛盾"})
    return PersonYear(
        category=category,
        year=year,
        paid_on=_case_date(given, "paid_on", required=True),
        born_on=_case_date(given, "born_on"),
        last_insured_year=last,
        back_years_paid=_case_int(given, "back_years_paid", 0),
        left_employee_insurance_on=_case_date(given, "left_employee_insurance_on"),
        continuous_years_before=_case_int(given, "continuous_years_before"),
        claim_free_years=_case_int(given, "claim_free_years", 0),
        facts=_facts(given.get("facts")),
        group=str(given.get("group") or ""),
    )


def _facts(v) -> frozenset[str]:
    """``facts``: what holds for the person (``local_hukou``, ``insured_parent``)."""
    if v is None:
        return frozenset()
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise ValidationError({"facts": 'facts 必须是字符串列表，如 ["insured_parent"]'})
    return frozenset(v)
