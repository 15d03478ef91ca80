"""Shared by the contribution services: which policy applies, the person and their years, quotes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from core.contribution import (
    PHASE_LABELS,
    PersonYear,
    Result,
    break_years,
    compute,
    phase_of,
)
from core.errors import ValidationError
from core.policy import NATIONAL_REGION, Policy
from core.records.contributions import Enrollment
from desktop.services import policies
from desktop.services.registration import parse_date
from desktop.store import Store, enrollments, payments, persons

CHANNELS = {"cash": "现金", "qr": "扫码支付", "bank": "银行代扣/转账"}
LIVE = payments.LIVE
STATUS_LABELS = {
    "unpaid": "未缴",
    "local": "已缴（待县级确认）",
    "confirmed": "已缴（县级已确认）",
    "subsidized": "资助参保（无需个人缴费）",
    "no_policy": "未发布缴费标准",
}
# A sync older than this many hours shows the "county data as of" banner (settings key
# ``sync_stale_hours`` overrides it; an app setting, not an insurance rule).
DEFAULT_STALE_HOURS = 24


# ------------------------------------------------------------------ helpers


def _data_dir(store: Store) -> Path | None:
    return store.path.parent if store.path is not None else None


def policy_for(
    store: Store, region: str, year: int, ps: policies.PolicySet | None = None
) -> Policy | None:
    """The policy whose ``[contribution]`` covers ``region`` and 参保年度 ``year``."""
    ps = ps or policies.load(_data_dir(store))
    found = [p for p in ps.for_region_year(region, year) if p.has("contribution")]
    if not found:
        found = [
            p
            for p in sorted(ps.policies.values(), key=lambda p: p.id)
            if p.region == NATIONAL_REGION and p.year == int(year) and p.has("contribution")
        ]
    return found[0] if found else None


def _policy_or_error(store: Store, region: str, year: int) -> Policy:
    pol = policy_for(store, region, year)
    if pol is None:
        raise ValidationError(
            {"year": f"{year}参保年度没有可用的缴费政策（未发布或政策文件有误），不能收费"}
        )
    return pol


def _parse_year(value: Any) -> int:
    s = str(value if value is not None else "").strip()
    if not s:
        raise ValidationError({"year": "请选择参保年度"})
    if not s.isdigit() or not 2000 <= int(s) <= 2100:
        raise ValidationError({"year": f"参保年度“{value}”无效，请填写四位年份"})
    return int(s)


def _person(store: Store, person_id: str) -> dict:
    row = persons.with_village(store, person_id or "")
    if row is None:
        raise ValidationError({"person_id": "找不到该参保人，请重新查找"})
    return row


def _live_payments(store: Store, person_id: str) -> dict[int, dict]:
    return payments.live_by_year(store, person_id)


def _enrollments(store: Store, person_id: str) -> dict[int, dict]:
    return enrollments.by_year(store, person_id)


def _insured_years(payments: dict[int, Any], enrollments: dict[int, Enrollment]) -> set[int]:
    """Years the person is insured: a live payment, a year confirmed by the county, or a
    year fully paid for by a department (资助参保)."""
    years = set(payments)
    for y, e in enrollments.items():
        if e.county_confirmed_at or e.subsidized_in_full:
            years.add(y)
    return years


# Who a newborn's parents are in the household, by the newborn's relation to the head.
_PARENTS = {
    "son": ("head", "spouse"),
    "daughter": ("head", "spouse"),
    "grandchild": ("son", "daughter", "child_in_law"),
}


def _newborn_facts(store: Store, person: dict, year: int) -> frozenset[str]:
    """What a newborn's free birth year may depend on: ``local_hukou`` (the household is
    registered here, not a 居住证 household) and ``insured_parent`` (a parent in the
    household insured for ``year``)."""
    facts: set[str] = set()
    hid = person.get("household_id")
    members = persons.members(store, hid) if hid else []
    if all(m.get("insured_category") != "residence_permit" for m in [person, *members]):
        facts.add("local_hukou")
    parents = _PARENTS.get(person.get("relation") or "", ())
    for m in members:
        if m["id"] == person["id"] or m.get("relation") not in parents:
            continue
        if year in _insured_years(
            _live_payments(store, m["id"]), enrollments.records(store, m["id"])
        ):
            facts.add("insured_parent")
            break
    return frozenset(facts)


def _person_year(
    person: dict,
    year: int,
    paid_on: dt.date,
    insured: set[int],
    back_years: int = 0,
    facts: frozenset[str] = frozenset(),
) -> PersonYear:
    before = [y for y in insured if y < year]
    last = max(before) if before else None
    run, y = 0, year - 1
    while y in insured:
        run += 1
        y -= 1
    born = None
    try:
        born = dt.date.fromisoformat(person["birth_date"])
    except (TypeError, ValueError):
        born = None
    return PersonYear(
        category=person["insured_category"],
        year=year,
        paid_on=paid_on,
        born_on=born if born and born <= paid_on else None,
        last_insured_year=last,
        back_years_paid=back_years,
        continuous_years_before=run,
        facts=facts,
        group=person.get("local_group") or "",
    )


def _check_dates(pol: Policy, year: int, paid_on: dt.date) -> None:
    """Collection for ``year`` opens with the period. When it closes (the year's end, a
    last payment day, newborns across the year end) the rules decide:
    ``core.contribution.compute`` refuses, for the window, the quote and ``enroll-terms``."""
    terms = pol.section("contribution")
    if phase_of(terms, paid_on) == "before_period":
        raise ValidationError(
            {
                "paid_on": f"{year}参保年度自{terms.period.start.isoformat()}起收费，"
                f"缴费日期{paid_on.isoformat()}早于收费开始日，请核对"
            }
        )


def _parse_back_years(value: Any) -> int:
    s = str(value if value is not None else "").strip()
    if not s:
        return 0
    if not s.isdigit() or int(s) > 50:
        raise ValidationError({"back_years": f"补缴年数“{value}”无效，请填写0至50的整数"})
    return int(s)


def _terms_for(
    store: Store, person: dict, year: int, paid_on: dt.date, back_years: int = 0
) -> tuple[Policy, Result]:
    pol = _policy_or_error(store, person["region_code"], year)
    insured = _insured_years(
        _live_payments(store, person["id"]), enrollments.records(store, person["id"])
    )
    insured.discard(year)
    py = _person_year(
        person, year, paid_on, insured, back_years, _newborn_facts(store, person, year)
    )
    terms = pol.section("contribution")
    if back_years:
        bp = terms.back_payment
        gap = break_years(py)
        if bp is None:
            raise ValidationError(
                {"back_years": f"{year}参保年度的政策未规定断保补缴标准，不能办理补缴"}
            )
        if gap == 0:
            raise ValidationError({"back_years": "该人员没有断保年度，无需补缴"})
        if back_years > gap:
            raise ValidationError(
                {"back_years": f"该人员断保{gap}年，最多补缴{gap}年（您填写了{back_years}年）"}
            )
        if bp.max_years is not None and back_years > bp.max_years:
            raise ValidationError({"back_years": f"政策规定一次最多补缴{bp.max_years}年"})
    return pol, compute(terms, py, pol.id)


def quote(
    store: Store,
    person_id: str,
    year: Any,
    paid_on: Any = None,
    *,
    today=None,
    back_years: Any = 0,
) -> dict:
    """What the person owes for ``year`` if paying on ``paid_on`` (default today), with the
    benefit period and waiting period that would follow. Writes nothing."""
    today = today or dt.date.today()
    person = _person(store, person_id)
    y = _parse_year(year)
    day = parse_date(paid_on, field="paid_on", label="缴费日期", today=today) if paid_on else today
    _check_dates(_policy_or_error(store, person["region_code"], y), y, day)
    pol, res = _terms_for(store, person, y, day, _parse_back_years(back_years))
    out = res.as_dict()
    out["policy_title"] = pol.title
    out["phase_label"] = PHASE_LABELS[res.phase]
    return out


# ------------------------------------------------------------------ record a payment
