"""The ``contribution`` section of a policy file (domain notes §2–3). Owned by issue 4.

One section per region and 参保年度 (the policy's ``[policy] year`` is the 参保年度 whose
contribution is described). Every table carries ``source``; ``resources/policies/SCHEMA.md``
documents every key. Parsed into :class:`ContributionTerms`, used by
``core.contribution`` (the rules) and ``desktop.services.contribution`` (payments).

Tables::

    [contribution]                  individual, subsidy, dabing_funding?, source
    [contribution.subsidy_split]    central / province / city_county shares (sum 1), source
    [contribution.period]           start, end, extension_end?, extension_benefits, source
    [contribution.late]             owes = "individual" | "full_premium", exempt, source
    [contribution.waiting]          rule = "none" | "fixed_days" | "months", … , source
    [contribution.newborn]          category, window_days, covered_from, source
    [[contribution.subsidized]]     资助参保: categories, kind full|fixed, amount, department
    [contribution.incentive]        continuous and claim-free raises of the 大病 cap
    [contribution.back_payment]     断保补缴: per_year = "individual" | "full_premium", max_years
    [[contribution.starts]]         when cover starts, by phase and group (anchor + wait)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from core.categories import CATEGORY_GROUPS, expand_categories, is_known_category
from core.money import fen
from core.policy import PolicyError, Reader, register_section

LATE_OWES = ("individual", "full_premium")
WAITING_RULES = ("none", "fixed_days", "months")
COUNT_FROM = ("payment", "later_of_payment_and_year_start")
EXTENSION_BENEFITS = ("from_payment", "from_year_start")
NEWBORN_FROM = ("birth", "payment")
# Conditions for a newborn's free birth year (any of them suffices).
NEWBORN_FREE_IF = {"local_hukou": "本地户籍", "insured_parent": "父母一方已参保"}
SUBSIDY_KINDS = ("full", "fixed")
BACK_PER_YEAR = ("individual", "full_premium")
SPLIT_LEVELS = ("central", "province", "city_county")
SPLIT_LABELS = {"central": "中央", "province": "省级", "city_county": "市县"}
# When a start rule applies (issue 19): the phase of the payment or the person's situation.
START_WHEN = {
    "in_period": "集中参保期内缴费",
    "extension": "集中参保延长期内缴费",
    "late": "集中参保期外缴费",
    "late_newborn": "新生儿超过出生后参保期限缴费",
    "first_enrollment": "首次参保且未在集中参保期内缴费",
    "after_break": "断保后再参保",
}
# What the wait is counted from.
START_ANCHORS = {
    "payment_day": "缴费之日",
    "day_after_payment": "缴费次日",
    "payment_month": "缴费当月1日",
    "next_month": "缴费次月1日",
    "year_start": "参保年度1月1日",
}


def _codes(r: Reader, k: str) -> tuple[str, ...]:
    """A list of county group codes (checked against ``[[contribution.groups]]`` later)."""
    v = r.raw(k, [])
    if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
        raise r.error(k, "must be a list of group codes")
    return tuple(v)


def _members(names: tuple[str, ...]) -> frozenset[str]:
    """Categories named by ``names`` (groups expanded) plus the group names themselves,
    so a person recorded by group (e.g. ``rural_low_income``) also matches."""
    return expand_categories(names) | frozenset(n for n in names if n in CATEGORY_GROUPS)


@dataclass(frozen=True)
class SubsidySplit:
    shares: dict[str, Decimal]  # level -> share of the subsidy (sum 1)
    source: str


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    extension_end: dt.date | None
    extension_benefits: str  # from_payment | from_year_start
    source: str
    last_payment_day: dt.date | None = None  # after it no payment for the year is accepted
    last_payment_source: str = ""


@dataclass(frozen=True)
class StartRule:
    """When cover starts for one phase or situation (and, optionally, only some groups):
    ``anchor`` (the payment day, the day after, the 1st of the payment month or of the next
    month, 1 January) plus a wait in days or months."""

    when: str
    categories: tuple[str, ...]
    members: frozenset[str]
    anchor: str
    wait_days: int
    wait_months: int
    source: str
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class Late:
    owes: str  # individual | full_premium
    exempt: tuple[str, ...]
    exempt_members: frozenset[str]
    source: str
    full_premium_from: dt.date | None = None  # from this day a late payer owes the full premium
    full_premium_source: str = ""


@dataclass(frozen=True)
class Waiting:
    rule: str  # none | fixed_days | months
    source: str
    days: int  # fixed_days
    fixed_months: int  # months: for anyone not enrolled in the period or not continuous
    variable_months_per_year: int  # each year of break beyond `break_years_free`
    break_years_free: int
    repair_months_per_back_year: int  # each back-year paid removes this much variable part
    floor_after_break_years: int  # a break of this many years or more …
    floor_months: int  # … keeps at least this many months after repair (0 = no floor)
    count_from: str  # payment | later_of_payment_and_year_start
    in_period_requires_continuity: bool  # national: paying in the period is not enough
    first_enrollment_waits: bool  # someone never insured before, paying in the period
    exempt: tuple[str, ...]
    exempt_members: frozenset[str]
    exempt_source: str
    employee_grace_months: int  # joining within N months of leaving employee insurance
    employee_grace_source: str
    employee_grace_backdate: bool = False  # … cover from the day after leaving (no gap)
    exempt_groups: tuple[str, ...] = ()  # county-named groups with no waiting


@dataclass(frozen=True)
class Newborn:
    category: str
    window_days: int  # paid within N days of birth
    covered_from: str  # birth | payment
    source: str
    free_if: tuple[str, ...] = ()  # the birth year is free when any of these holds
    free_source: str = ""


@dataclass(frozen=True)
class Group:
    """A group the county names (退役军人及军属, 刑满释放人员, 一类低保 …): a person holds at
    most one; ``within`` makes it a tier inside that insured category."""

    code: str
    label: str
    within: str
    source: str


@dataclass(frozen=True)
class Students:
    """Students' cover: by academic year (1 September of the year before to 31 August) and/or
    freshmen (first enrollment, paying in the period) covered from the payment day, before
    1 January."""

    categories: tuple[str, ...]
    members: frozenset[str]
    academic_year: bool
    freshmen_from_payment: bool
    source: str


@dataclass(frozen=True)
class Subsidized:
    """资助参保: the person's own share is paid (fully or a fixed amount) by a department."""

    categories: tuple[str, ...]
    members: frozenset[str]
    kind: str  # full | fixed
    amount: Decimal | None  # fixed: the amount the department pays
    department: str
    source: str
    rest_by: str = ""  # a second payer for what ``department`` does not cover (fixed kind)
    groups: tuple[str, ...] = ()  # county-named groups (or tiers) the row covers


@dataclass(frozen=True)
class Incentive:
    """Raises of the 大病 annual cap (continuous enrollment, claim-free years)."""

    continuous_threshold_years: int  # after this many full continuous years …
    raise_per_continuous_year: Decimal  # … each further year raises the cap by this
    claim_free_raise: Decimal  # each year without reimbursement raises next year's cap
    max_raise_ratio: Decimal | None  # total raise ≤ this share of the cap
    cap_base: Decimal | None  # the 大病 cap the ratio applies to, if the file gives it
    counted_from_year: int | None  # continuous years before this year do not count
    source: str
    cut_per_break_year: Decimal = Decimal("0.00")  # the cap falls by this per year of break
    max_cut: Decimal | None = None  # … by at most this in all


@dataclass(frozen=True)
class BackPayment:
    """断保补缴: what each back-year paid costs (at the benefit year's standard)."""

    per_year: str  # individual | full_premium
    max_years: int | None  # at most this many back-years counted (None = the whole break)
    source: str


@dataclass(frozen=True)
class ContributionTerms:
    individual: Decimal
    subsidy: Decimal
    dabing_funding: Decimal | None
    source: str
    subsidy_split: SubsidySplit | None
    period: Period
    late: Late
    waiting: Waiting
    newborn: Newborn | None
    subsidized: tuple[Subsidized, ...]
    incentive: Incentive | None
    back_payment: BackPayment | None = None
    starts: tuple[StartRule, ...] = ()
    students: Students | None = None
    groups: tuple[Group, ...] = ()

    def group(self, code: str) -> Group | None:
        return next((g for g in self.groups if g.code == code), None)

    def student(self, category: str) -> Students | None:
        s = self.students
        return s if s is not None and category in s.members else None

    @property
    def full_premium(self) -> Decimal:
        return self.individual + self.subsidy

    def subsidy_for(self, category: str, group: str = "") -> Subsidized | None:
        """The 资助 row for a person: one naming their county group (a tier) first, then
        one naming their category."""
        if group:
            for s in self.subsidized:
                if group in s.groups:
                    return s
        for s in self.subsidized:
            if category in s.members:
                return s
        return None

    def split_amounts(self) -> dict[str, Decimal]:
        """The subsidy by level in yuan (half-up to the fen), empty if no split is given."""
        if self.subsidy_split is None:
            return {}
        return {k: fen(self.subsidy * v) for k, v in self.subsidy_split.shares.items()}


def _split(r: Reader) -> SubsidySplit:
    source = r.source()
    shares = {lvl: r.ratio(lvl) for lvl in SPLIT_LEVELS}
    r.done()
    if sum(shares.values()) != Decimal(1):
        raise r.error("central", f"shares must add up to 1 (they add up to {sum(shares.values())})")
    return SubsidySplit(shares, source)


def _period(r: Reader) -> Period:
    source = r.source()
    start, end = r.date("start"), r.date("end")
    if end < start:
        raise r.error("end", "is before start")
    ext = r.date("extension_end", None)
    if ext is not None and ext <= end:
        raise r.error("extension_end", "must be after end")
    ext_benefits = r.str("extension_benefits", "from_payment", choices=EXTENSION_BENEFITS)
    last = r.date("last_payment_day", None)
    if last is not None and last < (ext or end):
        raise r.error("last_payment_day", f"{last} is before the collection period ends")
    last_source = r.str("last_payment_source", source)
    r.done()
    return Period(start, end, ext, ext_benefits, source, last, last_source)


def _late(r: Reader) -> Late:
    source = r.source()
    owes = r.str("owes", choices=LATE_OWES)
    exempt = r.categories("exempt", ())
    full_from = r.date("full_premium_from", None)
    if full_from is not None and owes == "full_premium":
        raise r.error("full_premium_from", "late payers already owe the full premium (owes)")
    full_source = r.str("full_premium_source", source)
    r.done()
    return Late(owes, exempt, _members(exempt), source, full_from, full_source)


def _waiting(r: Reader) -> Waiting:
    source = r.source()
    rule = r.str("rule", choices=WAITING_RULES)
    months = rule == "months"
    days = r.int("days", min=1, max=366) if rule == "fixed_days" else r.int("days", 0, min=0)
    fixed = r.int("fixed_months", min=0, max=24) if months else r.int("fixed_months", 0, min=0)
    w = Waiting(
        rule=rule,
        source=source,
        days=days,
        fixed_months=fixed,
        variable_months_per_year=r.int("variable_months_per_year", 0, min=0, max=12),
        break_years_free=r.int("break_years_free", 1, min=0, max=50),
        repair_months_per_back_year=r.int("repair_months_per_back_year", 0, min=0, max=12),
        floor_after_break_years=r.int("floor_after_break_years", 0, min=0, max=50),
        floor_months=r.int("floor_months", 0, min=0, max=36),
        count_from=r.str("count_from", "payment", choices=COUNT_FROM),
        in_period_requires_continuity=r.bool("in_period_requires_continuity", False),
        first_enrollment_waits=r.bool("first_enrollment_waits", False),
        exempt=(ex := r.categories("exempt", ())),
        exempt_members=_members(ex),
        exempt_source=r.str("exempt_source", source),
        employee_grace_months=r.int("employee_grace_months", 0, min=0, max=24),
        employee_grace_source=r.str("employee_grace_source", source),
        employee_grace_backdate=r.bool("employee_grace_backdate", False),
        exempt_groups=_codes(r, "exempt_groups"),
    )
    if w.employee_grace_backdate and not w.employee_grace_months:
        raise r.error("employee_grace_backdate", "goes with employee_grace_months")
    if w.floor_months and not w.floor_after_break_years:
        raise r.error("floor_after_break_years", "floor_months needs floor_after_break_years")
    r.done()
    return w


def _newborn(r: Reader) -> Newborn:
    source = r.source()
    category = r.str("category", "newborn")
    r.category(category)
    free_if = r.raw("free_if", [])
    if not isinstance(free_if, list) or any(c not in NEWBORN_FREE_IF for c in free_if):
        raise r.error("free_if", f"list conditions from {sorted(NEWBORN_FREE_IF)}")
    n = Newborn(
        category=category,
        window_days=r.int("window_days", min=0, max=366),
        covered_from=r.str("covered_from", "birth", choices=NEWBORN_FROM),
        source=source,
        free_if=tuple(free_if),
        free_source=r.str("free_source", source),
    )
    r.done()
    return n


def _subsidized(r: Reader) -> Subsidized:
    source = r.source()
    cats = r.categories("categories", ())
    groups = _codes(r, "groups")
    if not cats and not groups:
        raise r.error("categories", "name at least one category or group")
    kind = r.str("kind", choices=SUBSIDY_KINDS)
    amount = r.money("amount") if kind == "fixed" else r.money("amount", None)
    if kind == "full" and amount is not None:
        raise r.error("amount", "a full subsidy has no amount (it is the individual share)")
    department = r.str("department")
    rest_by = r.str("rest_by", "")
    if rest_by and kind != "fixed":
        raise r.error("rest_by", "a second payer goes with a fixed subsidy (kind = fixed)")
    r.done()
    return Subsidized(cats, _members(cats), kind, amount, department, source, rest_by, groups)


def _incentive(r: Reader) -> Incentive:
    source = r.source()
    inc = Incentive(
        continuous_threshold_years=r.int("continuous_threshold_years", min=0, max=50),
        raise_per_continuous_year=r.money("raise_per_continuous_year"),
        claim_free_raise=r.money("claim_free_raise", Decimal("0.00")),
        max_raise_ratio=r.ratio("max_raise_ratio", None),
        cap_base=r.money("cap_base", None),
        counted_from_year=r.int("counted_from_year", None, min=2000, max=2100),
        source=source,
        cut_per_break_year=r.money("cut_per_break_year", Decimal("0.00")),
        max_cut=r.money("max_cut", None),
    )
    if inc.max_cut is not None and not inc.cut_per_break_year:
        raise r.error("max_cut", "goes with cut_per_break_year")
    biggest = inc.max_cut if inc.max_cut is not None else inc.cut_per_break_year
    if inc.cap_base is not None and biggest > inc.cap_base:
        raise r.error(
            "max_cut" if inc.max_cut is not None else "cut_per_break_year",
            f"{biggest} is larger than the cap ({inc.cap_base})",
        )
    r.done()
    return inc


def _students(r: Reader) -> Students:
    source = r.source()
    cats = r.categories("categories", ("child_student", "university_student"))
    academic = r.bool("academic_year", False)
    freshmen = r.bool("freshmen_from_payment", False)
    if not academic and not freshmen:
        raise r.error(
            "academic_year", "a students table needs academic_year or freshmen_from_payment"
        )
    r.done()
    return Students(cats, _members(cats), academic, freshmen, source)


def _start(r: Reader) -> StartRule:
    source = r.source()
    when = r.str("when", choices=START_WHEN)
    cats = r.categories("categories", ())
    anchor = r.str("anchor", choices=START_ANCHORS)
    days = r.int("wait_days", 0, min=0, max=366)
    months = r.int("wait_months", 0, min=0, max=24)
    if days and months:
        raise r.error("wait_months", "give wait_days or wait_months, not both")
    groups = _codes(r, "groups")
    r.done()
    return StartRule(when, cats, _members(cats), anchor, days, months, source, groups)


def _group(r: Reader) -> Group:
    source = r.source()
    code = r.str("code")
    if not code.replace("_", "").isalnum() or not code.isascii():
        raise r.error("code", "group codes use letters, digits and _ (e.g. veteran)")
    label = r.str("label")
    within = r.str("within", "")
    if within and not is_known_category(within):
        raise r.error("within", f"unknown category {within!r}")
    r.done()
    return Group(code, label, within, source)


def _check_groups(r: Reader, terms) -> None:
    """Every group a table names is declared; a tier (``within``) is listed only with its
    own category (or alone)."""
    known = {g.code: g for g in terms.groups}
    if len(known) != len(terms.groups):
        raise r.error("groups", "a group code is declared twice")
    uses = [(f"subsidized[{i}]", s.groups, s.categories) for i, s in enumerate(terms.subsidized)]
    uses += [(f"starts[{i}]", s.groups, s.categories) for i, s in enumerate(terms.starts)]
    uses.append(("waiting", terms.waiting.exempt_groups, ()))
    for where, groups, cats in uses:
        for code in groups:
            g = known.get(code)
            if g is None:
                raise PolicyError(r.file, f"{r.key(where)}.groups", f"{code!r} is not declared")
            if g.within and cats and g.within not in _members(cats):
                raise PolicyError(
                    r.file,
                    f"{r.key(where)}.groups",
                    f"{code!r} is a tier of {g.within!r}, not of {list(cats)}",
                )


def _back_payment(r: Reader) -> BackPayment:
    source = r.source()
    b = BackPayment(
        per_year=r.str("per_year", choices=BACK_PER_YEAR),
        max_years=r.int("max_years", None, min=1, max=50),
        source=source,
    )
    r.done()
    return b


@register_section("contribution")
def parse_contribution(r: Reader) -> ContributionTerms:
    source = r.source()
    individual = r.money("individual")
    subsidy = r.money("subsidy")
    dabing = r.money("dabing_funding", None)
    split = r.table("subsidy_split", None)
    terms = ContributionTerms(
        individual=individual,
        subsidy=subsidy,
        dabing_funding=dabing,
        source=source,
        subsidy_split=_split(split) if split is not None else None,
        period=_period(r.table("period")),
        late=_late(r.table("late")),
        waiting=_waiting(r.table("waiting")),
        newborn=_newborn(nb) if (nb := r.table("newborn", None)) is not None else None,
        subsidized=tuple(_subsidized(x) for x in r.tables("subsidized", [])),
        incentive=_incentive(inc) if (inc := r.table("incentive", None)) is not None else None,
        back_payment=_back_payment(bp)
        if (bp := r.table("back_payment", None)) is not None
        else None,
        starts=tuple(_start(x) for x in r.tables("starts", [])),
        students=_students(st) if (st := r.table("students", None)) is not None else None,
        groups=tuple(_group(g) for g in r.tables("groups", [])),
    )
    _check_groups(r, terms)
    full_from = terms.late.full_premium_from
    if full_from is not None and full_from <= (terms.period.extension_end or terms.period.end):
        raise PolicyError(
            r.file,
            f"{r.key('late')}.full_premium_from",
            f"{full_from} is inside the collection period (it ends {terms.period.end})",
        )
    for s in terms.subsidized:
        if s.kind == "fixed" and s.amount is not None and s.amount > individual:
            raise r.error("subsidized", f"fixed amount {s.amount} exceeds the individual share")
    seen: set[str] = set()
    for s in terms.subsidized:
        both = seen & s.members
        if both:
            raise r.error("subsidized", f"category {sorted(both)[0]!r} is listed twice")
        seen |= s.members
    r.done()
    return terms
