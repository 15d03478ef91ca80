"""Two sections for watching the year as a whole (issue 16), each figure with its source:

``[campaign]``  the county's target for the 参保率 of a 参保年度::

    target_rate = "0.95"            share of registered residents insured (paid or 资助参保)
    source, cite

``[poverty_warning]``  因病返贫 early warning: a person in one of ``categories`` whose
personal burden this year passes ``share`` × ``income_per_capita`` (last year's local
per-capita disposable income, from the statistics bureau) is listed on the desk's 预警 list
and notified to the county. National guidance leaves the share to the provinces, so there
is no default: a county publishes the section in its own policy file::

    income_per_capita = "…"          元; income_source = "…" (the statistical bulletin)
    share = "…"                      share_source = "…" (the province's document)
    categories = ["tekun", "dibao", "fanpin", "monitored", "dibao_edge", …]
    source, cite
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from core.categories import expand_categories
from core.money import fen
from core.policy import Reader, register_section


@dataclass(frozen=True)
class CampaignTarget:
    target_rate: Decimal  # 0..1
    source: str

    @property
    def percent(self) -> Decimal:
        return (self.target_rate * 100).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class PovertyWarning:
    income_per_capita: Decimal
    income_source: str
    share: Decimal
    share_source: str
    categories: frozenset[str]
    source: str

    @property
    def threshold(self) -> Decimal:
        """The yearly personal burden at which a person is listed (元, to the fen)."""
        return fen(self.income_per_capita * self.share)


@register_section("campaign")
def parse_campaign(r: Reader) -> CampaignTarget:
    rate = r.ratio("target_rate")
    if rate <= 0:
        raise r.error("target_rate", "must be above 0")
    out = CampaignTarget(rate, r.source())
    r.done()
    return out


@register_section("poverty_warning")
def parse_poverty_warning(r: Reader) -> PovertyWarning:
    income = r.money("income_per_capita")
    if income <= 0:
        raise r.error("income_per_capita", "must be above 0")
    share = r.ratio("share")
    if share <= 0:
        raise r.error("share", "must be above 0")
    out = PovertyWarning(
        income_per_capita=income,
        income_source=r.str("income_source"),
        share=share,
        share_source=r.str("share_source"),
        categories=expand_categories(r.categories("categories")),
        source=r.source(),
    )
    r.done()
    return out
