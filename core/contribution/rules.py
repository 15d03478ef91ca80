"""The contribution rules themselves (see the package doc for the readings adopted)."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from core.contribution.incentive import incentive_raise
from core.contribution.reason import Reason
from core.contribution.starts import (
    anchor_day,
    cap_cut,
    check_accepted,
    cover_end,
    cover_start,
    in_newborn_window,
    start_rule,
    start_words,
)
from core.errors import ValidationError
from core.money import ZERO, fen
from core.policy.contribution import NEWBORN_FREE_IF, START_WHEN, ContributionTerms


@dataclass(frozen=True)
class PersonYear:
    """What the rules need to know about one person for one 参保年度."""

    category: str
    year: int
    paid_on: dt.date
    born_on: dt.date | None = None
    last_insured_year: int | None = None  # latest insured 参保年度 before ``year``; None = never
    back_years_paid: int = 0  # years of the break paid back (补缴)
    left_employee_insurance_on: dt.date | None = None
    continuous_years_before: int | None = None  # full continuous years ending at year - 1
    claim_free_years: int = 0  # consecutive years without reimbursement before ``year``
    facts: frozenset[str] = frozenset()  # local_hukou, insured_parent (a newborn's free year)
    group: str = ""  # a group the county names (or a tier inside the category), if any


@dataclass(frozen=True)
class Result:
    policy_id: str
    year: int
    phase: str  # in_period | extension | late | before_period
    amount_due: Decimal  # what the person pays
    individual: Decimal  # the individual standard
    subsidy: Decimal  # the per-capita fiscal subsidy
    subsidized_amount: Decimal  # 资助参保: paid for the person by ``subsidized_by``
    subsidized_by: str | None
    subsidy_kind: str | None  # full | fixed | None
    waiting_unit: str  # days | months
    waiting: int
    waiting_from: dt.date | None  # the day the wait is counted from (None = no wait)
    benefits_from: dt.date
    benefits_to: dt.date
    continuous_years: int
    incentive_raise: Decimal
    reasons: dict[str, Reason] = field(default_factory=dict)
    back_years_paid: int = 0  # 断保补缴 years paid with this payment (repair the wait)
    back_amount: Decimal | None = None  # what they cost (None: the policy sets no standard)
    incentive_cut: Decimal = ZERO  # the 大病 cap cut for a break (already in incentive_raise)
    words: tuple[str, ...] = ()  # the terms in a resident's words (cover start, cap cut)

    @property
    def total_due(self) -> Decimal:
        """The year's amount plus any back-payment."""
        return self.amount_due + (self.back_amount or ZERO)

    @property
    def waiting_days(self) -> int | None:
        return self.waiting if self.waiting_unit == "days" else None

    @property
    def waiting_months(self) -> int | None:
        return self.waiting if self.waiting_unit == "months" else None

    @property
    def has_benefits(self) -> bool:
        return self.benefits_from <= self.benefits_to

    def as_dict(self) -> dict:
        return {
            "policy_id": self.policy_id,
            "year": self.year,
            "phase": self.phase,
            "amount_due": str(self.amount_due),
            "individual": str(self.individual),
            "subsidy": str(self.subsidy),
            "subsidized_amount": str(self.subsidized_amount),
            "subsidized_by": self.subsidized_by,
            "subsidy_kind": self.subsidy_kind,
            "waiting_unit": self.waiting_unit,
            "waiting": self.waiting,
            "waiting_days": self.waiting_days,
            "waiting_months": self.waiting_months,
            "waiting_from": self.waiting_from.isoformat() if self.waiting_from else None,
            "benefits_from": self.benefits_from.isoformat(),
            "benefits_to": self.benefits_to.isoformat(),
            "has_benefits": self.has_benefits,
            "continuous_years": self.continuous_years,
            "incentive_raise": str(self.incentive_raise),
            "reasons": {k: v.as_dict() for k, v in self.reasons.items()},
            "back_years_paid": self.back_years_paid,
            "back_amount": str(self.back_amount) if self.back_amount is not None else None,
            "total_due": str(self.total_due),
            "incentive_cut": str(self.incentive_cut),
            "words": list(self.words),
        }


PHASE_LABELS = {
    "in_period": "集中参保期内",
    "extension": "集中参保延长期内",
    "late": "集中参保期外",
    "before_period": "集中参保期尚未开始",
}


def add_months(day: dt.date, months: int) -> dt.date:
    """Calendar months; a day past the target month's end clamps to its last day."""
    m = day.month - 1 + months
    y, m = day.year + m // 12, m % 12 + 1
    return dt.date(y, m, min(day.day, calendar.monthrange(y, m)[1]))


def phase_of(terms: ContributionTerms, paid_on: dt.date) -> str:
    p = terms.period
    if paid_on < p.start:
        return "before_period"
    if paid_on <= p.end:
        return "in_period"
    if p.extension_end is not None and paid_on <= p.extension_end:
        return "extension"
    return "late"


def continuous_years(insured_years: Iterable[int], year: int) -> int:
    """Full continuous 参保年度 ending at ``year`` (0 if ``year`` itself is not insured)."""
    ys = set(insured_years)
    n, y = 0, year
    while y in ys:
        n += 1
        y -= 1
    return n


def _in_newborn_window(terms: ContributionTerms, py: PersonYear) -> bool:
    return in_newborn_window(terms, py.paid_on, py.category, py.born_on)


def amount_due(
    terms: ContributionTerms, py: PersonYear, policy_id: str = ""
) -> tuple[Decimal, Decimal, Reason, str | None, str | None]:
    """(person pays, 资助 amount, reason, paying department, subsidy kind)."""
    free = _free_newborn(terms, py)
    if free is not None:
        return ZERO, fen(terms.individual), free, "新生儿出生当年免缴", "free"
    phase = phase_of(terms, py.paid_on)
    late_rule = terms.late
    premium = terms.individual
    from_date = late_rule.full_premium_from
    owes_full = late_rule.owes == "full_premium" or (
        from_date is not None and py.paid_on >= from_date
    )
    if phase == "late" and owes_full:
        if py.category in late_rule.exempt_members:
            why = Reason(
                f"集中参保期外缴费，但该类别免于全额缴费，按个人缴费标准 {premium} 元",
                late_rule.source,
            )
        elif _in_newborn_window(terms, py):
            why = Reason(
                f"新生儿出生后{terms.newborn.window_days}日内参保，按个人缴费标准 {premium} 元",
                terms.newborn.source,
            )
        else:
            premium = terms.full_premium
            since = "" if late_rule.owes == "full_premium" else f"{from_date.isoformat()}起"
            why = Reason(
                f"集中参保期外{since}缴费，需全额缴纳个人缴费 {terms.individual} 元"
                f"＋财政补助 {terms.subsidy} 元＝{premium} 元",
                late_rule.full_premium_source if since else late_rule.source,
            )
    elif phase == "late":
        why = Reason(
            f"集中参保期外缴费，按个人缴费标准 {premium} 元（另设待遇等待期）", late_rule.source
        )
    else:
        why = Reason(f"{PHASE_LABELS[phase]}缴费，个人缴费标准 {premium} 元", terms.source)
    sub = terms.subsidy_for(py.category, py.group)
    if sub is None:
        return fen(premium), ZERO, why, None, None
    paid_for = terms.individual if sub.kind == "full" else min(sub.amount, terms.individual)
    if sub.rest_by:
        rest = terms.individual - paid_for
        pays = fen(premium - terms.individual)
        why = Reason(
            f"{why.rule}；资助参保由{sub.department}代缴 {fen(paid_for)} 元，其余 {fen(rest)} 元"
            f"由{sub.rest_by}代缴，个人应缴 {pays} 元",
            f"{why.source}；{sub.source}",
        )
        payers = f"{sub.department}（{fen(paid_for)}元）、{sub.rest_by}（{fen(rest)}元）"
        return pays, fen(terms.individual), why, payers, sub.kind
    pays = fen(premium - paid_for)
    why = Reason(
        f"{why.rule}；资助参保（{'全额' if sub.kind == 'full' else '定额'}）由{sub.department}"
        f"代缴 {fen(paid_for)} 元，个人应缴 {pays} 元",
        f"{why.source}；{sub.source}",
    )
    return pays, fen(paid_for), why, sub.department, sub.kind


def _free_newborn(terms: ContributionTerms, py: PersonYear) -> Reason | None:
    """A newborn's birth year is free where the policy says so and a condition holds (local
    hukou, an insured parent); later years are paid as anyone's."""
    nb = terms.newborn
    if nb is None or not nb.free_if or py.category != nb.category or py.born_on is None:
        return None
    if py.born_on.year != py.year:
        return None
    held = [NEWBORN_FREE_IF[c] for c in nb.free_if if c in py.facts]
    if not held:
        return None
    return Reason(f"新生儿出生当年（{py.year}年）{'、'.join(held)}，免缴个人缴费", nb.free_source)


def _waiting(
    terms: ContributionTerms, py: PersonYear
) -> tuple[int, dt.date, dt.date | None, Reason]:
    """(waiting amount in the rule's unit, benefits_from, counted-from day, reason)."""
    w = terms.waiting
    year_start = cover_start(terms, py)
    freshman = _freshman(terms, py)
    if freshman is not None:
        return 0, py.paid_on, None, freshman
    free = _without_wait(terms, py, year_start)
    if free is not None and free[2]:
        return 0, free[0], None, free[1]
    rule = start_rule(terms, py, phase_of(terms, py.paid_on))
    if rule is not None:
        return _started(rule, py, year_start)
    if free is not None:
        return 0, free[0], None, free[1]
    counted = (
        max(py.paid_on, year_start)
        if w.count_from == "later_of_payment_and_year_start"
        else py.paid_on
    )
    if w.rule == "fixed_days":
        start = counted + dt.timedelta(days=w.days)
        return (
            w.days,
            max(start, year_start),
            counted,
            Reason(f"集中参保期外缴费，缴费满{w.days}日后享受待遇", w.source),
        )
    months, why = _months_of_wait(w, py, counted)
    return months, add_months(counted, months), counted, why


def _freshman(terms: ContributionTerms, py: PersonYear) -> Reason | None:
    """A freshman (a student never insured before) paying in the period before 1 January is
    covered from the payment day, where the policy says so."""
    st = terms.student(py.category)
    in_time = phase_of(terms, py.paid_on) in ("in_period", "before_period")
    if st is None or not st.freshmen_from_payment or py.last_insured_year is not None:
        return None
    if not in_time or py.paid_on >= dt.date(py.year, 1, 1):
        return None
    return Reason("新入学学生首次参保，自缴费之日起享受待遇（不必等到1月1日）", st.source)


def _started(rule, py: PersonYear, year_start: dt.date):
    """A ``[[contribution.starts]]`` row: cover from its anchor plus its wait (the reason is
    the rule's own: compute() shows it in a resident's words)."""
    anchor = anchor_day(rule.anchor, py.paid_on, py.year)
    if rule.wait_months:
        start, n = add_months(anchor, rule.wait_months), rule.wait_months
    else:
        start, n = anchor + dt.timedelta(days=rule.wait_days), rule.wait_days
    counted = anchor if n else None
    return (
        n,
        max(start, year_start),
        counted,
        Reason(start_words(rule, START_WHEN[rule.when]), rule.source),
    )


def _without_wait(
    terms: ContributionTerms, py: PersonYear, year_start: dt.date
) -> tuple[dt.date, Reason, bool] | None:
    """(benefits_from, reason, always) when the person waits for nothing: a newborn in the
    window, an exempt category, a worker inside the grace after employee insurance (always:
    before any start rule), a policy without a wait, or payment in time; None when a waiting
    period applies."""
    w = terms.waiting
    phase = phase_of(terms, py.paid_on)
    p = terms.period
    ext_start = (
        max(py.paid_on, year_start) if p.extension_benefits == "from_payment" else year_start
    )
    if _in_newborn_window(terms, py):
        nb = terms.newborn
        start = py.born_on if nb.covered_from == "birth" else py.paid_on
        return (
            max(start, year_start),
            Reason(
                f"新生儿出生后{nb.window_days}日内缴费，自"
                f"{'出生之日' if nb.covered_from == 'birth' else '缴费之日'}起享受待遇，无等待期",
                nb.source,
            ),
            True,
        )
    if py.category in w.exempt_members or (py.group and py.group in w.exempt_groups):
        start = (
            year_start if phase in ("in_period", "before_period") else max(py.paid_on, year_start)
        )
        return start, Reason("该人员类别不设待遇等待期", w.exempt_source), True
    if (
        w.employee_grace_months
        and py.left_employee_insurance_on is not None
        and py.left_employee_insurance_on
        <= py.paid_on
        <= add_months(py.left_employee_insurance_on, w.employee_grace_months)
    ):
        if w.employee_grace_backdate:
            day_after = py.left_employee_insurance_on + dt.timedelta(days=1)
            return (
                max(day_after, year_start),
                Reason(
                    f"职工医保中断缴费{w.employee_grace_months}个月内参加居民医保，待遇自职工医保"
                    f"停保次日（{day_after.isoformat()}）起衔接，不留空档",
                    w.employee_grace_source,
                ),
                True,
            )
        return (
            max(py.paid_on, year_start),
            Reason(
                f"职工医保中断缴费{w.employee_grace_months}个月内参加居民医保，不设待遇等待期",
                w.employee_grace_source,
            ),
            True,
        )
    if w.rule == "none":
        start = ext_start if phase == "extension" else max(py.paid_on, year_start)
        if phase in ("in_period", "before_period"):
            start = year_start
        return start, Reason("本政策不设待遇等待期", w.source), False
    continuous = py.last_insured_year is not None and py.last_insured_year >= py.year - 1
    never = py.last_insured_year is None
    in_time = phase in ("in_period", "before_period", "extension")
    needs_continuity = w.rule == "months" and w.in_period_requires_continuity
    if in_time and (not needs_continuity or continuous or (never and not w.first_enrollment_waits)):
        if phase == "extension":
            return (
                ext_start,
                Reason(
                    f"集中参保延长期内缴费，无等待期，自"
                    f"{'缴费之日' if p.extension_benefits == 'from_payment' else '1月1日'}"
                    "起享受待遇",
                    p.source,
                ),
                False,
            )
        return year_start, Reason("集中参保期内参保，不设待遇等待期", w.source), False
    return None


def _months_of_wait(w, py: PersonYear, counted: dt.date) -> tuple[int, Reason]:
    """Calendar months: fixed + variable (per year of break) − repair, with a floor."""
    never = py.last_insured_year is None
    continuous = not never and py.last_insured_year >= py.year - 1
    break_years = 0 if never else max(0, py.year - py.last_insured_year - 1)
    extra_years = max(0, break_years - w.break_years_free)
    variable = extra_years * w.variable_months_per_year
    repaired = min(variable, max(0, py.back_years_paid) * w.repair_months_per_back_year)
    months = w.fixed_months + variable - repaired
    parts = [f"固定等待期{w.fixed_months}个月"]
    if never:
        parts.insert(0, "首次参保且未在集中参保期内参保")
    elif continuous:
        parts.insert(0, "未在集中参保期内参保")
    else:
        parts.insert(0, f"断保{break_years}年")
    if variable:
        parts.append(
            f"首{w.break_years_free}年以外的断保{extra_years}年各加{w.variable_months_per_year}个月"
        )
    if repaired:
        parts.append(f"补缴{py.back_years_paid}年减{repaired}个月")
    if w.floor_months and break_years >= w.floor_after_break_years and months < w.floor_months:
        months = w.floor_months
        parts.append(
            f"连续断保{w.floor_after_break_years}年及以上，修复后不少于{w.floor_months}个月"
        )
    parts.append(f"共{months}个月，自{counted.isoformat()}起算")
    return months, Reason("，".join(parts), w.source)


def break_years(py: PersonYear) -> int:
    """Years of break between the last insured 参保年度 and ``py.year`` (0 if never insured:
    a first enrollment is not a break)."""
    if py.last_insured_year is None:
        return 0
    return max(0, py.year - py.last_insured_year - 1)


def compute(terms: ContributionTerms, py: PersonYear, policy_id: str = "") -> Result:
    """All contribution terms for one person and 参保年度 (see the module docstring)."""
    if py.back_years_paid < 0:
        raise ValidationError({"back_years_paid": "补缴年数不能为负数"})
    if py.born_on is not None and py.born_on > py.paid_on:
        raise ValidationError({"paid_on": "缴费日期早于出生日期，请核对"})
    if py.last_insured_year is not None and py.last_insured_year >= py.year:
        raise ValidationError({"last_insured_year": "上次参保年度应早于本参保年度"})
    check_accepted(terms, py)
    pays, sub_amount, amount_why, dept, kind = amount_due(terms, py, policy_id)
    waiting, benefits_from, counted, waiting_why = _waiting(terms, py)
    benefits_to = cover_end(terms, py)
    reasons = {"amount_due": amount_why, "waiting": waiting_why}
    st = terms.student(py.category)
    if st is not None and st.academic_year:
        reasons["benefits_to"] = Reason(
            f"学生按学年参保，待遇期{py.year - 1}年9月1日至{py.year}年8月31日", st.source
        )
    else:
        reasons["benefits_to"] = Reason("待遇期至参保年度末（12月31日）", terms.period.source)
    if benefits_from > benefits_to:
        reasons["benefits_from"] = Reason(
            "等待期结束已超出本参保年度，本年度不享受待遇", waiting_why.source
        )
    else:
        reasons["benefits_from"] = waiting_why
    if py.continuous_years_before is not None:
        cont_before = py.continuous_years_before
    elif py.last_insured_year == py.year - 1:
        cont_before = 1
    else:
        cont_before = 0
    # the year being paid continues the run only when it follows the previous year
    cont = cont_before + 1 if py.last_insured_year == py.year - 1 else 1
    reasons["continuous_years"] = Reason(
        f"截至{py.year}年连续参保{cont}年" + ("（断保后重新计算）" if cont == 1 else ""),
        terms.incentive.source if terms.incentive else terms.source,
    )
    back_amount = None
    bp = terms.back_payment
    if py.back_years_paid and bp is not None:
        per = terms.individual if bp.per_year == "individual" else terms.full_premium
        back_amount = fen(per * py.back_years_paid)
        reasons["back_amount"] = Reason(
            f"断保补缴{py.back_years_paid}年，每年按"
            f"{'个人缴费标准' if bp.per_year == 'individual' else '个人缴费＋财政补助'} {per} 元，"
            f"共 {back_amount} 元",
            bp.source,
        )
    raise_amt, raise_why = incentive_raise(terms, cont, py.claim_free_years, py.year)
    if raise_why is not None:
        reasons["incentive_raise"] = raise_why
    unit, words, cut = _words_unit_cut(terms, py, waiting_why, reasons)
    raise_amt -= cut
    return Result(
        policy_id=policy_id,
        year=py.year,
        phase=phase_of(terms, py.paid_on),
        amount_due=pays,
        individual=terms.individual,
        subsidy=terms.subsidy,
        subsidized_amount=sub_amount,
        subsidized_by=dept,
        subsidy_kind=kind,
        waiting_unit=unit,
        waiting=waiting,
        waiting_from=counted,
        benefits_from=benefits_from,
        benefits_to=benefits_to,
        continuous_years=cont,
        incentive_raise=raise_amt,
        reasons=reasons,
        back_years_paid=py.back_years_paid,
        back_amount=back_amount,
        incentive_cut=cut,
        words=words,
    )


def _words_unit_cut(
    terms: ContributionTerms, py: PersonYear, waiting_why: Reason, reasons: dict
) -> tuple[str, tuple[str, ...], Decimal]:
    """The wait's unit (a start rule may count days where the policy counts months), the
    terms in a resident's words, and the 大病 cap cut for a break (its reason added)."""
    words = []
    started = next(
        (
            r
            for r in terms.starts
            if waiting_why.source == r.source and waiting_why.rule.startswith(START_WHEN[r.when])
        ),
        None,
    )
    unit = "months" if terms.waiting.rule == "months" else "days"
    if started is not None:
        words.append(waiting_why.rule)
        unit = "months" if started.wait_months else "days"
    cut, cut_words = cap_cut(terms, break_years(py))
    if cut:
        reasons["incentive_cut"] = Reason(cut_words, terms.incentive.source)
        words.append(cut_words.split("（")[0])
    return unit, tuple(words), cut
