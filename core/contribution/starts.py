"""The second round of contribution rules (issue 19): when a payment is accepted for a year
(the year's end, a last payment day, newborns across the year end), when cover starts by
phase and group (``[[contribution.starts]]``: an anchor plus a wait), and the 大病 cap cut
after a break. Pure; each result carries its reason in words a resident understands."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from core.errors import ValidationError
from core.money import fen
from core.policy.contribution import START_ANCHORS, ContributionTerms, StartRule


def in_newborn_window(terms: ContributionTerms, paid_on: dt.date, category, born_on) -> bool:
    nb = terms.newborn
    return (
        nb is not None
        and category == nb.category
        and born_on is not None
        and born_on <= paid_on <= born_on + dt.timedelta(days=nb.window_days)
    )


def check_accepted(terms: ContributionTerms, py) -> None:
    """Refuse a payment the year no longer takes: after the policy's last payment day, or
    after the year's end — except a newborn paying within the window after birth (a baby
    born in December is paid for its birth year in January). One rule for the window, the
    quote and ``enroll-terms``."""
    newborn = in_newborn_window(terms, py.paid_on, py.category, py.born_on)
    if newborn:
        return
    last = terms.period.last_payment_day
    if last is not None and py.paid_on > last:
        raise ValidationError(
            {
                "paid_on": f"{py.year}参保年度缴费已于{last.isoformat()}截止，不再受理"
                f"（依据：{terms.period.last_payment_source}）"
            }
        )
    if py.paid_on > cover_end(terms, py):
        raise ValidationError(
            {"year": f"{py.year}参保年度已结束，不能再为该年度缴费；请为下一年度缴费"}
        )


def cover_start(terms: ContributionTerms, py) -> dt.date:
    """The first day a 参保年度 can cover: 1 January, or for students insured by academic
    year 1 September of the year before."""
    st = terms.student(py.category)
    if st is not None and st.academic_year:
        return dt.date(py.year - 1, 9, 1)
    return dt.date(py.year, 1, 1)


def cover_end(terms: ContributionTerms, py) -> dt.date:
    """The last day: 31 December, or 31 August for students insured by academic year."""
    st = terms.student(py.category)
    if st is not None and st.academic_year:
        return dt.date(py.year, 8, 31)
    return dt.date(py.year, 12, 31)


def _matches(rule: StartRule, terms: ContributionTerms, py, phase: str) -> bool:
    named = rule.categories or rule.groups
    if named and py.category not in rule.members and not (py.group and py.group in rule.groups):
        return False
    never = py.last_insured_year is None
    gap = 0 if never else max(0, py.year - py.last_insured_year - 1)
    nb = terms.newborn
    return {
        "in_period": phase in ("in_period", "before_period"),
        "extension": phase == "extension",
        "late": phase == "late",
        "late_newborn": nb is not None
        and py.category == nb.category
        and py.born_on is not None
        and py.paid_on > py.born_on + dt.timedelta(days=nb.window_days),
        "first_enrollment": never and phase in ("extension", "late"),
        "after_break": gap > 0,
    }[rule.when]


def start_rule(terms: ContributionTerms, py, phase: str) -> StartRule | None:
    """The first ``[[contribution.starts]]`` row that fits the payment (file order)."""
    return next((r for r in terms.starts if _matches(r, terms, py, phase)), None)


def anchor_day(anchor: str, paid_on: dt.date, year: int) -> dt.date:
    if anchor == "day_after_payment":
        return paid_on + dt.timedelta(days=1)
    if anchor == "payment_month":
        return paid_on.replace(day=1)
    if anchor == "next_month":
        return (paid_on.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    if anchor == "year_start":
        return dt.date(year, 1, 1)
    return paid_on


def start_words(rule: StartRule, label: str) -> str:
    """“集中参保期外缴费，自缴费次月1日起享受待遇” / “… 起算等待3个月”."""
    anchor = START_ANCHORS[rule.anchor]
    if rule.wait_months or rule.wait_days:
        n = f"{rule.wait_months}个月" if rule.wait_months else f"{rule.wait_days}天"
        return f"{label}，自{anchor}起算等待期{n}后享受待遇"
    return f"{label}，自{anchor}起享受待遇"


def cap_cut(terms: ContributionTerms, gap: int) -> tuple[Decimal, str]:
    """The 大病 cap cut for ``gap`` years of break: (yuan, words) — none without a rule."""
    inc = terms.incentive
    if inc is None or not inc.cut_per_break_year or gap <= 0:
        return Decimal("0.00"), ""
    cut = inc.cut_per_break_year * gap
    words = f"断保{gap}年，大病保险最高支付限额降低{fen(min(cut, inc.max_cut or cut))}元"
    words += f"（每断保1年降低{inc.cut_per_break_year}元"
    if inc.max_cut is not None:
        words += f"，最多降低{inc.max_cut}元"
        cut = min(cut, inc.max_cut)
    return fen(cut), words + "）"
