"""Reimbursement sections of a policy file (domain notes §4). Owned by the estimator (issue 3).

Sections (each a frozen dataclass, parsed by a function registered with
:func:`register_section`; every table carries ``source``; ``resources/policies/SCHEMA.md``
documents every key):

- ``inpatient``, ``outpatient``, ``pharmacy``, ``chronic`` → :class:`BasicBenefit`: the basic
  fund for one setting. Levels (price class, facility or — for ``chronic`` — disease) with a
  deductible and one ratio or cost bands; deductible per admission or per year; repeat
  admissions; a yearly deductible cap; claim-free reductions; terms by person category;
  the yearly cap and the year-to-date counter it draws on.
- ``dabing`` → :class:`DabingSection`: 大病保险 segments over the yearly cumulative burden.
- ``assistance`` and ``tilted_assistance`` → :class:`AssistanceSection`: 医疗救助 and the
  倾斜救助 layer after it, with terms by category.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from core.categories import expand_categories
from core.policy import PolicyError, Reader, register_section

SETTINGS = ("inpatient", "outpatient", "pharmacy", "chronic")
SETTING_LABELS = {
    "inpatient": "住院",
    "outpatient": "普通门诊",
    "pharmacy": "定点药店购药",
    "chronic": "门诊慢特病/两病",
}
# Year-to-date counters a basic section draws its cap and yearly deductible from.
COUNTERS = ("inpatient", "outpatient", "chronic")
DEDUCTIBLE_BASES = ("per_admission", "yearly")
BAND_BASES = ("amount", "above_deductible")
SEGMENT_BASES = ("gross", "above_deductible")
ASSISTANCE_BASES = ("after_basic", "after_dabing")
BASE_SCOPES = ("in_policy", "total")

ONE = Decimal(1)


@dataclass(frozen=True)
class Band:
    """One cost band: amounts in [lo, hi) are paid at ``ratio`` (hi None = no upper end)."""

    lo: Decimal
    hi: Decimal | None
    ratio: Decimal
    source: str


@dataclass(frozen=True)
class CategoryTerms:
    """Terms for a list of insured categories / groups (e.g. 低保 ratio +5pp)."""

    categories: tuple[str, ...]  # as written in the file (names or groups)
    members: frozenset[str]  # expanded to single categories
    deductible: Decimal | None  # a fixed deductible replacing the level's
    deductible_factor: Decimal | None  # or a factor on it (0.5 = halved)
    ratio_add: Decimal  # percentage points added to every ratio (capped at 100%)
    ratio: Decimal | None  # or one ratio replacing every band's (bounds kept)
    no_cap: bool  # the yearly cap does not apply
    source: str

    def matches(self, category: str) -> bool:
        return category in self.categories or category in self.members


@dataclass(frozen=True)
class AdmissionRule:
    """From the ``from_admission``-th admission in a year the deductible is the level's
    × ``factor``, or the level's less ``reduce`` yuan (再次住院起付线降低若干元), or a stated
    ``amount`` (a schedule by admission: 800 / 600 / 400 / 0); ``floor``: never below."""

    from_admission: int
    factor: Decimal | None
    source: str
    reduce: Decimal | None = None
    amount: Decimal | None = None
    floor: Decimal | None = None


def _admission_rule(a, n: int, levels: dict, before: list[AdmissionRule]) -> AdmissionRule:
    """One ``[[<section>.admission_deductible]]`` row: exactly one of factor, reduce,
    amount; a reduction no larger than any level's deductible; a schedule that never rises;
    a floor no higher than the deductible it bounds."""
    given = [k for k in ("factor", "reduce", "amount") if a.has(k)]
    if len(given) != 1:
        raise a.error("factor", "give exactly one of factor, reduce, amount")
    factor = a.ratio("factor") if "factor" in given else None
    reduce = a.money("reduce") if "reduce" in given else None
    amount = a.money("amount") if "amount" in given else None
    floor = a.money("floor", None)
    smallest = min((lv.deductible for lv in levels.values()), default=None)
    if reduce is not None and smallest is not None and reduce > smallest:
        raise a.error("reduce", f"{reduce} is larger than the deductible ({smallest})")
    if amount is not None:
        earlier = [r.amount for r in before if r.amount is not None]
        if earlier and amount > earlier[-1]:
            raise a.error("amount", f"{amount}: a schedule must not rise (after {earlier[-1]})")
    if floor is not None:
        if amount is not None:
            raise a.error("floor", "a floor goes with factor or reduce, not with amount")
        if smallest is not None and floor > smallest:
            raise a.error("floor", f"{floor} is above the deductible ({smallest})")
    return AdmissionRule(n, factor, a.source(), reduce, amount, floor)


OUT_OF_AREA = {"filed": "已备案", "unfiled": "未备案", "emergency": "急诊抢救"}


@dataclass(frozen=True)
class OutOfArea:
    """Care outside the pooling area (异地就医 / 转外就医) by 备案 status: the ratio lowered by
    ``ratio_cut`` percentage points (never below ``min_ratio``), and/or a ``self_pay_first``
    share of the in-policy amount the person pays first (先行自付)."""

    status: str  # filed | unfiled | emergency
    ratio_cut: Decimal
    self_pay_first: Decimal
    min_ratio: Decimal | None
    source: str


def _out_of_area(r) -> tuple[OutOfArea, ...]:
    if not r.has("out_of_area"):
        r.raw("out_of_area", None)
        return ()
    out: list[OutOfArea] = []
    for o in r.tables("out_of_area"):
        status = o.str("status")
        if status not in OUT_OF_AREA:
            raise o.error("status", f"{status!r} is not a 备案 status ({', '.join(OUT_OF_AREA)})")
        if any(x.status == status for x in out):
            raise o.error("status", f"{status} is given twice")
        cut = o.ratio("ratio_cut", Decimal(0))
        first = o.ratio("self_pay_first", Decimal(0))
        floor = o.ratio("min_ratio", None)
        if floor is not None and not cut:
            raise o.error("min_ratio", "a minimum ratio goes with ratio_cut")
        out.append(OutOfArea(status, cut, first, floor, o.source()))
        o.done()
    return tuple(out)


@dataclass(frozen=True)
class ClaimFree:
    """After ``years`` consecutive claim-free years the deductible falls by ``reduce``."""

    years: int
    reduce: Decimal
    source: str


@dataclass(frozen=True)
class Level:
    code: str
    label: str
    deductible: Decimal
    bands: tuple[Band, ...]
    cap: Decimal | None  # overrides the section cap when set
    source: str


@dataclass(frozen=True)
class BasicBenefit:
    setting: str
    source: str
    counter: str
    deductible_basis: str
    band_basis: str
    cap: Decimal | None
    class_b_self_share: Decimal | None  # None = the policy does not state it
    deductible_year_cap: Decimal | None
    levels: dict[str, Level]
    admission_rules: tuple[AdmissionRule, ...]
    claim_free: tuple[ClaimFree, ...]
    category_terms: tuple[CategoryTerms, ...]
    level_label: str  # what the levels are called on screen (收费价格类别, 医疗机构, 病种)
    out_of_area: tuple[OutOfArea, ...] = ()

    def terms_for(self, category: str) -> CategoryTerms | None:
        return _first_terms(self.category_terms, category)

    def out_of_area_for(self, status: str) -> OutOfArea | None:
        return next((o for o in self.out_of_area if o.status == status), None)


@dataclass(frozen=True)
class DabingSection:
    source: str
    settings: tuple[str, ...]
    deductible: Decimal
    segment_basis: str
    burden_includes_basic_deductible: bool
    cap: Decimal | None
    cap_raise_max_share: Decimal | None
    segments: tuple[Band, ...]
    category_terms: tuple[CategoryTerms, ...]

    def terms_for(self, category: str) -> CategoryTerms | None:
        return _first_terms(self.category_terms, category)


@dataclass(frozen=True)
class AssistanceTerms:
    categories: tuple[str, ...]
    members: frozenset[str]
    deductible: Decimal
    ratio: Decimal
    yearly_limit: Decimal | None
    source: str

    def matches(self, category: str) -> bool:
        return category in self.categories or category in self.members


@dataclass(frozen=True)
class AssistanceSection:
    name: str  # "assistance" | "tilted_assistance"
    source: str
    base: str  # after_basic | after_dabing (tilted: always after the layers before it)
    base_scope: str  # in_policy | total
    deductible_yearly: bool
    settings: tuple[str, ...]
    terms: tuple[AssistanceTerms, ...]

    def terms_for(self, category: str) -> AssistanceTerms | None:
        for t in self.terms:
            if t.matches(category):
                return t
        return None


def _first_terms(terms: tuple[CategoryTerms, ...], category: str) -> CategoryTerms | None:
    for t in terms:
        if t.matches(category):
            return t
    return None


# ---------------------------------------------------------------- parsing helpers


def _optional_money(r: Reader, k: str) -> Decimal | None:
    return r.money(k, None)


def _check_no_overlap(r: Reader, k: str, lists: list[tuple[str, ...]]) -> None:
    """A category may appear in one terms table only (else which applies is ambiguous)."""
    seen: dict[str, int] = {}
    for i, names in enumerate(lists):
        for c in expand_categories(names):
            if c in seen:
                raise PolicyError(
                    r.file, f"{r.key(k)}[{i}].categories", f"category {c!r} also in [{seen[c]}]"
                )
            seen[c] = i


def _bands(r: Reader, k: str, *, start: Decimal, what: str) -> tuple[Band, ...]:
    """Contiguous bands starting at ``start``: no overlap, no gap; only the last may be open."""
    items = r.tables(k)
    if not items:
        raise r.error(k, f"at least one {what} is needed")
    bands: list[Band] = []
    expect = start
    for i, b in enumerate(items):
        lo = b.money("from")
        hi = b.money("to", None)
        has_ratio, has_share = b.has("ratio"), b.has("personal_share")
        if has_ratio == has_share:
            raise b.error("ratio", "give exactly one of ratio or personal_share")
        ratio = b.ratio("ratio") if has_ratio else ONE - b.ratio("personal_share")
        src = b.str("source", "")
        b.done()
        if lo != expect:
            problem = (
                "overlaps the previous band"
                if lo < expect
                else "leaves a gap after the previous band"
            )
            if i == 0:
                problem = f"the first {what} must start at {expect}"
            raise b.error("from", f"{lo}: {problem} (expected {expect})")
        if hi is not None and hi <= lo:
            raise b.error("to", f"{hi} must be above from ({lo})")
        if hi is None and i != len(items) - 1:
            raise b.error("to", "only the last band may leave 'to' out")
        bands.append(Band(lo, hi, ratio, src))
        expect = hi if hi is not None else expect
    return tuple(bands)


def _category_terms(r: Reader, k: str, *, allow_no_cap: bool = True) -> tuple[CategoryTerms, ...]:
    if not r.has(k):
        r.raw(k, None)
        return ()
    out: list[CategoryTerms] = []
    for t in r.tables(k):
        cats = t.categories("categories")
        if not cats:
            raise t.error("categories", "list at least one category")
        ded = t.money("deductible", None)
        factor = t.ratio("deductible_factor", None)
        if ded is not None and factor is not None:
            raise t.error("deductible_factor", "give deductible or deductible_factor, not both")
        ratio_add = t.ratio("ratio_add", Decimal(0))
        fixed = t.ratio("ratio", None)
        if fixed is not None and ratio_add:
            raise t.error("ratio", "give ratio or ratio_add, not both")
        no_cap = t.bool("no_cap", False) if allow_no_cap else False
        src = t.source()
        t.done()
        out.append(
            CategoryTerms(cats, expand_categories(cats), ded, factor, ratio_add, fixed, no_cap, src)
        )
    _check_no_overlap(r, k, [t.categories for t in out])
    return tuple(out)


def _level(r: Reader, code: str) -> Level:
    label = r.str("label")
    deductible = r.money("deductible")
    has_ratio, has_bands = r.has("ratio"), r.has("bands")
    if has_ratio == has_bands:
        raise r.error("ratio", "give exactly one of ratio or [[bands]]")
    if has_ratio:
        bands: tuple[Band, ...] = (Band(Decimal(0), None, r.ratio("ratio"), ""),)
    else:
        bands = _bands(r, "bands", start=Decimal(0), what="band")
    cap = r.money("cap", None)
    src = r.str("source", "")
    r.done()
    return Level(code, label, deductible, bands, cap, src)


def parse_basic(r: Reader, setting: str) -> BasicBenefit:
    source = r.source()
    counter = r.str("counter", choices=COUNTERS)
    basis = r.str("deductible_basis", choices=DEDUCTIBLE_BASES)
    band_basis = r.str("band_basis", "above_deductible", choices=BAND_BASES)
    cap = r.money("cap", None)
    share = r.ratio("class_b_self_share", None)
    ded_cap = r.money("deductible_year_cap", None)
    level_label = r.str("level_label", _DEFAULT_LEVEL_LABEL[setting])
    lv = r.table("levels")
    if not lv.keys():
        raise r.error("levels", "at least one level (price class, facility or disease) is needed")
    levels = {}
    for code in lv.keys():
        if not code.replace("_", "").isalnum() or not code.isascii():
            raise lv.error(code, "level codes use letters, digits and _ (e.g. class2_county)")
        levels[code] = _level(lv.table(code), code)
    lv.done()
    rules: list[AdmissionRule] = []
    if r.has("admission_deductible"):
        if basis != "per_admission":
            raise r.error("admission_deductible", 'only with deductible_basis = "per_admission"')
        last = 1
        for a in r.tables("admission_deductible"):
            n = a.int("from_admission", min=2, max=99)
            if n <= last:
                raise a.error("from_admission", f"{n}: must increase (after {last})")
            rules.append(_admission_rule(a, n, levels, rules))
            a.done()
            last = n
    else:
        r.raw("admission_deductible", None)
    free: list[ClaimFree] = []
    if r.has("claim_free"):
        last = 0
        for c in r.tables("claim_free"):
            y = c.int("years", min=1, max=50)
            if y <= last:
                raise c.error("years", f"{y}: must increase (after {last})")
            free.append(ClaimFree(y, c.money("reduce"), c.source()))
            c.done()
            last = y
    else:
        r.raw("claim_free", None)
    terms = _category_terms(r, "category_terms")
    away = _out_of_area(r)
    r.done()
    return BasicBenefit(
        setting=setting,
        source=source,
        counter=counter,
        deductible_basis=basis,
        band_basis=band_basis,
        cap=cap,
        class_b_self_share=share,
        deductible_year_cap=ded_cap,
        levels=levels,
        admission_rules=tuple(rules),
        claim_free=tuple(free),
        category_terms=terms,
        level_label=level_label,
        out_of_area=away,
    )


_DEFAULT_LEVEL_LABEL = {
    "inpatient": "医疗机构收费价格类别",
    "outpatient": "医疗机构",
    "pharmacy": "药店类别",
    "chronic": "病种",
}


def parse_dabing(r: Reader) -> DabingSection:
    source = r.source()
    settings = r.raw("settings")
    if (
        not isinstance(settings, list)
        or not settings
        or not all(isinstance(s, str) and s in SETTINGS for s in settings)
    ):
        raise r.error("settings", f"must list settings from {list(SETTINGS)}")
    deductible = r.money("deductible")
    basis = r.str("segment_basis", choices=SEGMENT_BASES)
    incl = r.bool("burden_includes_basic_deductible")
    cap = r.money("cap", None)
    raise_share = r.ratio("cap_raise_max_share", None)
    start = deductible if basis == "gross" else Decimal(0)
    segments = _bands(r, "segments", start=start, what="segment")
    terms = _category_terms(r, "category_terms")
    r.done()
    return DabingSection(
        source=source,
        settings=tuple(settings),
        deductible=deductible,
        segment_basis=basis,
        burden_includes_basic_deductible=incl,
        cap=cap,
        cap_raise_max_share=raise_share,
        segments=segments,
        category_terms=terms,
    )


def parse_assistance(r: Reader, name: str) -> AssistanceSection:
    source = r.source()
    base = "after_assistance"  # 倾斜救助 comes after every layer before it
    if name == "assistance":
        base = r.str("base", choices=ASSISTANCE_BASES)
    scope = r.str("base_scope", choices=BASE_SCOPES)
    yearly = r.bool("deductible_yearly", False)
    settings = r.raw("settings", list(SETTINGS))
    if (
        not isinstance(settings, list)
        or not settings
        or not all(isinstance(s, str) and s in SETTINGS for s in settings)
    ):
        raise r.error("settings", f"must list settings from {list(SETTINGS)}")
    terms: list[AssistanceTerms] = []
    items = r.tables("terms")
    if not items:
        raise r.error("terms", "at least one [[terms]] table (categories, deductible, ratio)")
    for t in items:
        cats = t.categories("categories")
        if not cats:
            raise t.error("categories", "list at least one category")
        terms.append(
            AssistanceTerms(
                categories=cats,
                members=expand_categories(cats),
                deductible=t.money("deductible"),
                ratio=t.ratio("ratio"),
                yearly_limit=t.money("yearly_limit", None),
                source=t.source(),
            )
        )
        t.done()
    _check_no_overlap(r, "terms", [t.categories for t in terms])
    r.done()
    return AssistanceSection(name, source, base, scope, yearly, tuple(settings), tuple(terms))


@register_section("inpatient")
def _inpatient(r: Reader) -> BasicBenefit:
    return parse_basic(r, "inpatient")


@register_section("outpatient")
def _outpatient(r: Reader) -> BasicBenefit:
    return parse_basic(r, "outpatient")


@register_section("pharmacy")
def _pharmacy(r: Reader) -> BasicBenefit:
    return parse_basic(r, "pharmacy")


@register_section("chronic")
def _chronic(r: Reader) -> BasicBenefit:
    return parse_basic(r, "chronic")


@register_section("dabing")
def _dabing(r: Reader) -> DabingSection:
    return parse_dabing(r)


@register_section("assistance")
def _assistance(r: Reader) -> AssistanceSection:
    return parse_assistance(r, "assistance")


@register_section("tilted_assistance")
def _tilted(r: Reader) -> AssistanceSection:
    return parse_assistance(r, "tilted_assistance")
