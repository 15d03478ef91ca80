"""医疗救助 and 倾斜救助 sections (``[assistance]``, ``[tilted_assistance]``) and the policy's
named figures (``[figures]``) a limit may be stated in.

Terms by category: a deductible, one ratio or ratio bands over the amount above it, a
per-claim limit, a yearly limit (in yuan or as a multiple of another figure of the policy:
``yearly_limit_of = "figures.income"`` / ``"dabing.cap"`` / ``"inpatient.cap"``), and
section-wide additions by age band or category (ratio points, limit yuan)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal

from core.categories import expand_categories
from core.policy import PolicyError, Reader, register_finish, register_section
from core.policy.bands import Band, _bands, _check_no_overlap

SETTINGS = ("inpatient", "outpatient", "pharmacy", "chronic")
ASSISTANCE_BASES = ("after_basic", "after_dabing")
BASE_SCOPES = ("in_policy", "total")
# What a yearly limit may be a multiple of (besides a named figure of [figures]).
LIMIT_REFERENCES = {
    "dabing.cap": "大病保险年度最高支付限额",
    "inpatient.cap": "住院年度最高支付限额",
}


@dataclass(frozen=True)
class Figure:
    """A figure the policy states once and rules refer to (上年居民人均可支配收入 …)."""

    name: str
    label: str
    value: Decimal
    source: str


@dataclass(frozen=True)
class AssistanceTerms:
    categories: tuple[str, ...]
    members: frozenset[str]
    deductible: Decimal
    ratio: Decimal | None  # one ratio, or None with bands
    yearly_limit: Decimal | None
    source: str
    bands: tuple[Band, ...] = ()  # ratio bands over the amount above the deductible
    claim_limit: Decimal | None = None  # 单次救助限额
    limit_of: str = ""  # the yearly limit is limit_times × this figure ("figures.x" …)
    limit_times: Decimal | None = None
    limit_text: str = ""  # how the yearly limit was found, for the step text

    def matches(self, category: str) -> bool:
        return category in self.categories or category in self.members

    def rate_bands(self) -> tuple[Band, ...]:
        return self.bands or (Band(Decimal(0), None, self.ratio, ""),)


@dataclass(frozen=True)
class Addition:
    """More for some of the people the terms cover: children under ``age_below`` or the
    listed categories get ``ratio_add`` points (capped at 100%) and ``limit_add`` yuan."""

    age_below: int | None
    categories: tuple[str, ...]
    members: frozenset[str]
    ratio_add: Decimal
    limit_add: Decimal
    source: str

    def applies(self, category: str, age: int | None) -> bool:
        if self.age_below is not None:
            return age is not None and age < self.age_below
        return category in self.categories or category in self.members

    def who(self) -> str:
        return f"未满{self.age_below}周岁" if self.age_below is not None else ""


@dataclass(frozen=True)
class AssistanceSection:
    name: str  # "assistance" | "tilted_assistance"
    source: str
    base: str  # after_basic | after_dabing (tilted: always after the layers before it)
    base_scope: str  # in_policy | total
    deductible_yearly: bool
    settings: tuple[str, ...]
    terms: tuple[AssistanceTerms, ...]
    additions: tuple[Addition, ...] = ()

    def terms_for(self, category: str) -> AssistanceTerms | None:
        for t in self.terms:
            if t.matches(category):
                return t
        return None

    def additions_for(self, category: str, age: int | None) -> list[Addition]:
        return [a for a in self.additions if a.applies(category, age)]

    @property
    def needs_age(self) -> bool:
        return any(a.age_below is not None for a in self.additions)


def _terms(t: Reader) -> AssistanceTerms:
    cats = t.categories("categories")
    if not cats:
        raise t.error("categories", "list at least one category")
    has_ratio, has_bands = t.has("ratio"), t.has("bands")
    if has_ratio == has_bands:
        raise t.error("ratio", "give exactly one of ratio or [[bands]]")
    ratio = t.ratio("ratio") if has_ratio else None
    bands = _bands(t, "bands", start=Decimal(0), what="band") if has_bands else ()
    yearly = t.money("yearly_limit", None)
    limit_of = t.str("yearly_limit_of", "")
    times = t.decimal("yearly_limit_times", None, min=Decimal("0.01"), max=Decimal(100))
    if yearly is not None and limit_of:
        raise t.error("yearly_limit_of", "give yearly_limit or yearly_limit_of, not both")
    if bool(limit_of) != (times is not None):
        raise t.error("yearly_limit_times", "yearly_limit_of and yearly_limit_times go together")
    if limit_of and limit_of not in LIMIT_REFERENCES and not limit_of.startswith("figures."):
        known = ", ".join([*LIMIT_REFERENCES, "figures.<name>"])
        raise t.error("yearly_limit_of", f"{limit_of!r}: refer to one of {known}")
    claim = t.money("claim_limit", None)
    if claim is not None and yearly is not None and claim > yearly:
        raise t.error("claim_limit", f"{claim} is above the yearly limit ({yearly})")
    out = AssistanceTerms(
        categories=cats,
        members=expand_categories(cats),
        deductible=t.money("deductible"),
        ratio=ratio,
        yearly_limit=yearly,
        source=t.source(),
        bands=bands,
        claim_limit=claim,
        limit_of=limit_of,
        limit_times=times,
    )
    t.done()
    return out


def _additions(r: Reader) -> tuple[Addition, ...]:
    if not r.has("additions"):
        r.raw("additions", None)
        return ()
    out = []
    for a in r.tables("additions"):
        age = a.int("age_below", None, min=1, max=120)
        cats = a.categories("categories", ())
        if (age is None) == (not cats):
            raise a.error("age_below", "give exactly one of age_below or categories")
        add = a.ratio("ratio_add", Decimal(0))
        more = a.money("limit_add", Decimal(0))
        if not add and not more:
            raise a.error("ratio_add", "an addition adds ratio_add and/or limit_add")
        out.append(Addition(age, cats, expand_categories(cats), add, more, a.source()))
        a.done()
    return tuple(out)


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
    items = r.tables("terms")
    if not items:
        raise r.error("terms", "at least one [[terms]] table (categories, deductible, ratio)")
    terms = [_terms(t) for t in items]
    _check_no_overlap(r, "terms", [t.categories for t in terms])
    additions = _additions(r)
    r.done()
    return AssistanceSection(
        name, source, base, scope, yearly, tuple(settings), tuple(terms), additions
    )


def parse_figures(r: Reader) -> dict[str, Figure]:
    out = {}
    for name in r.keys():
        if not name.replace("_", "").isalnum() or not name.isascii():
            raise r.error(name, "figure names use letters, digits and _ (e.g. income_2024)")
        f = r.table(name)
        out[name] = Figure(name, f.str("label"), f.money("value"), f.source())
        f.done()
    r.done()
    return out


def _resolve_limits(origin: str, sections: dict) -> None:
    """Yearly limits stated as a multiple of another figure: the figure must exist; the
    limit becomes figure × times (rounded to the fen) with its explanation."""
    figures = sections.get("figures", {})
    for name in ("assistance", "tilted_assistance"):
        sec = sections.get(name)
        if sec is None:
            continue
        terms = []
        for i, t in enumerate(sec.terms):
            if t.limit_of:
                value, label = _figure(origin, f"{name}.terms[{i}]", t.limit_of, figures, sections)
                limit = (value * t.limit_times).quantize(Decimal("0.01"))
                text = f"{label} {value:.2f} 元 × {t.limit_times.normalize():f}"
                t = dataclasses.replace(t, yearly_limit=limit, limit_text=text)
            terms.append(t)
        sections[name] = dataclasses.replace(sec, terms=tuple(terms))


def _figure(origin: str, key: str, ref: str, figures: dict, sections: dict):
    if ref.startswith("figures."):
        fig = figures.get(ref.removeprefix("figures."))
        if fig is None:
            raise PolicyError(origin, f"{key}.yearly_limit_of", f"{ref}: no such figure")
        return fig.value, fig.label
    sec = sections.get(ref.split(".")[0])
    cap = getattr(sec, "cap", None)
    if cap is None:
        raise PolicyError(origin, f"{key}.yearly_limit_of", f"{ref}: the policy states no such cap")
    return cap, LIMIT_REFERENCES[ref]


@register_section("assistance")
def _assistance(r: Reader) -> AssistanceSection:
    return parse_assistance(r, "assistance")


@register_section("tilted_assistance")
def _tilted(r: Reader) -> AssistanceSection:
    return parse_assistance(r, "tilted_assistance")


@register_section("figures")
def _figures(r: Reader) -> dict[str, Figure]:
    return parse_figures(r)


register_finish(_resolve_limits)
