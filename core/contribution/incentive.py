"""The 大病 cap incentive of the contribution rules: raised by continuous enrollment and
claim-free years (within a share of the cap)."""

from __future__ import annotations

from decimal import Decimal

from core.contribution.reason import Reason
from core.money import ZERO, fen
from core.policy.contribution import ContributionTerms


def _pct(ratio: Decimal) -> str:
    return f"{(ratio * 100).normalize():f}%"


def incentive_raise(
    terms: ContributionTerms, continuous: int, claim_free_years: int, year: int
) -> tuple[Decimal, Reason | None]:
    inc = terms.incentive
    if inc is None:
        return ZERO, None
    counted = continuous
    if inc.counted_from_year is not None:
        counted = min(continuous, max(0, year - inc.counted_from_year + 1))
    cont_years = max(0, counted - inc.continuous_threshold_years)
    raise_cont = inc.raise_per_continuous_year * cont_years
    raise_free = inc.claim_free_raise * max(0, claim_free_years)
    total = raise_cont + raise_free
    words = [
        f"连续参保{counted}年（满{inc.continuous_threshold_years}年后每年加"
        f"{inc.raise_per_continuous_year}元）：{fen(raise_cont)}元"
    ]
    if raise_free:
        words.append(f"零报销{claim_free_years}年：{fen(raise_free)}元")
    if inc.max_raise_ratio is not None:
        if inc.cap_base is not None:
            limit = fen(inc.cap_base * inc.max_raise_ratio)
            if total > limit:
                total = limit
                words.append(
                    f"累计不超过大病封顶线{inc.cap_base}元的{_pct(inc.max_raise_ratio)}：{limit}元"
                )
        else:
            words.append(
                f"累计提高额不超过当地大病原封顶线的{_pct(inc.max_raise_ratio)}（封顶线以当地为准）"
            )
    return fen(total), Reason("；".join(words), inc.source)
