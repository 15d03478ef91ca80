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
- ``assistance`` and ``tilted_assistance`` → :class:`AssistanceSection` (in
  :mod:`core.policy.assistance`): 医疗救助 and the 倾斜救助 layer after it, with terms by
  category, and ``figures`` (named figures a limit may refer to).

Rules inside a basic section (repeat admissions, 异地就医, claim-free years, continuous
enrollment) live in :mod:`core.policy.basic_rules`; bands in :mod:`core.policy.bands`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from core.categories import expand_categories
from core.policy import Reader, register_section
from core.policy.assistance import (  # noqa: F401 (re-exported: the sections' one home)
    ASSISTANCE_BASES,
    BASE_SCOPES,
    Addition,
    AssistanceSection,
    AssistanceTerms,
    Figure,
)
from core.policy.bands import Band, _bands, _check_no_overlap, _first_terms
from core.policy.basic_rules import (  # noqa: F401 (re-exported)
    OUT_OF_AREA,
    AdmissionRule,
    ClaimFree,
    Continuous,
    OutOfArea,
    _admission_rule,
    _out_of_area,
    parse_continuous,
)

SETTINGS = ("inpatient", "outpatient", "pharmacy", "chronic")
SETTING_LABELS = {
    "inpatient": "住院",
    "outpatient": "普通门诊",
    "pharmacy": "定点药店购药",
    "chronic": "门诊慢特病/两病",
}
# What a saved estimate was of, in words: a setting, or the 大病 / 救助 layer alone (its
# ``setting`` column holds the code; screens and paper show these words, never the code).
ESTIMATE_KINDS = {
    **SETTING_LABELS,
    "dabing": "大病保险（单独测算）",
    "assistance": "医疗救助（单独测算）",
}


def estimate_kind(code: str | None) -> str:
    return ESTIMATE_KINDS.get(code or "", "")


# Year-to-date counters a basic section draws its cap and yearly deductible from.
COUNTERS = ("inpatient", "outpatient", "chronic")
DEDUCTIBLE_BASES = ("per_admission", "yearly")
BAND_BASES = ("amount", "above_deductible")
SEGMENT_BASES = ("gross", "above_deductible")

ONE = Decimal(1)


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
class Level:
    code: str
    label: str
    deductible: Decimal
    bands: tuple[Band, ...]
    cap: Decimal | None  # the level's own yearly cap (see BasicBenefit.level_counters)
    source: str
    fixed: Decimal | None = None  # 定额: a stated sum per event (or the bill if smaller)
    per_day: Decimal | None = None  # 按床日: a stated sum per bed-day
    count_in_cap: bool = False  # a fixed payment also draws on the section's counter and cap

    @property
    def is_fixed(self) -> bool:
        return self.fixed is not None or self.per_day is not None


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
    level_counters: bool = False  # each level (disease) has its own year-to-date counter
    combined_cap: Decimal | None = None  # with level_counters: the cap across all levels
    continuous: Continuous | None = None  # ratio by continuous enrollment

    def own_counter(self, level: Level) -> bool:
        """Whether ``level`` counts its payments (and yearly deductible) on its own."""
        return self.level_counters or level.is_fixed

    def in_section(self, level: Level) -> bool:
        """Whether a payment at ``level`` also counts on the section's counter and cap."""
        return not level.is_fixed or level.count_in_cap

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


# ---------------------------------------------------------------- parsing helpers


def _optional_money(r: Reader, k: str) -> Decimal | None:
    return r.money(k, None)


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
    if r.has("fixed") or r.has("per_day"):
        return _fixed_level(r, code, label)
    deductible = r.money("deductible")
    has_ratio, has_bands = r.has("ratio"), r.has("bands")
    if has_ratio == has_bands:
        raise r.error("ratio", "give exactly one of ratio or [[bands]]")
    if has_ratio:
        bands: tuple[Band, ...] = (Band(Decimal(0), None, r.ratio("ratio"), ""),)
    else:
        bands = _bands(r, "bands", start=Decimal(0), what="band")
    cap = r.money("cap", None)
    src = r.citation("cite") or r.str("source", "")
    r.done()
    return Level(code, label, deductible, bands, cap, src)


def _fixed_level(r: Reader, code: str, label: str) -> Level:
    """A level that pays a stated sum per event (``fixed``) or per bed-day (``per_day``):
    no deductible, ratio or bands; its own counter, an optional own ``cap``, and the
    section's cap only with ``count_in_cap``."""
    if r.has("fixed") and r.has("per_day"):
        raise r.error("per_day", "give fixed or per_day, not both")
    for k in ("deductible", "ratio", "bands"):
        if r.has(k):
            raise r.error(k, "a fixed payment has no deductible, ratio or bands")
    fixed = r.money("fixed", None)
    per_day = r.money("per_day", None)
    if (fixed if fixed is not None else per_day) <= 0:
        raise r.error("fixed" if fixed is not None else "per_day", "must be above 0")
    cap = r.money("cap", None)
    in_cap = r.bool("count_in_cap", False)
    src = r.source()
    r.done()
    return Level(code, label, Decimal(0), (), cap, src, fixed, per_day, in_cap)


def parse_basic(r: Reader, setting: str) -> BasicBenefit:
    source = r.source()
    counter = r.str("counter", choices=COUNTERS)
    basis = r.str("deductible_basis", choices=DEDUCTIBLE_BASES)
    band_basis = r.str("band_basis", "above_deductible", choices=BAND_BASES)
    cap = r.money("cap", None)
    per_level = r.bool("level_counters", False)
    combined = r.money("combined_cap", None)
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
    continuous = parse_continuous(r)
    _check_level_caps(r, per_level, cap, combined, levels)
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
        level_counters=per_level,
        combined_cap=combined,
        continuous=continuous,
    )


def _check_level_caps(r: Reader, per_level: bool, cap, combined, levels: dict) -> None:
    """With per-level counters the limit across levels is ``combined_cap`` (not ``cap``),
    and no lower than any level's own cap."""
    if combined is not None and not per_level:
        raise r.error("combined_cap", "goes with level_counters = true")
    if per_level and cap is not None:
        raise r.error("cap", "with level_counters, state the limit across levels as combined_cap")
    if combined is not None:
        for lv in levels.values():
            if lv.cap is not None and lv.cap > combined:
                raise r.error(
                    "combined_cap", f"{combined} is below the cap of {lv.code} ({lv.cap})"
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
