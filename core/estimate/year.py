"""A year of bills (全年结算): one person's bills settled in date order, every year-to-date
counter carried from each bill to the next, and the year's totals.

:class:`YearState` holds what the person used so far (the per-person fields of
:data:`~core.estimate.records.YTD_FIELDS`, each level's own counters, the admissions);
:func:`settle_year` runs bills through :func:`~core.estimate.bill.estimate` in order. Settling
the bills of a year in two runs (the second starting from the first's state) gives the same
results as one run: the property tests hold the engine to it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from core.estimate.bill import estimate
from core.estimate.records import MONEY_FIELDS, YTD_FIELDS, EstimateInput, EstimateResult
from core.money import ZERO
from core.policy import Policy


@dataclass(frozen=True)
class YearState:
    """What a person used this year before the next bill."""

    ytd: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(YTD_FIELDS, ZERO))
    levels: dict[tuple[str, str], tuple[Decimal, Decimal]] = field(default_factory=dict)
    admissions: int = 0

    @classmethod
    def start(cls, ytd: dict[str, Decimal] | None = None, admissions: int = 0) -> YearState:
        base = dict.fromkeys(YTD_FIELDS, ZERO)
        base.update(ytd or {})
        return cls(base, {}, admissions)

    def bill(self, inp: EstimateInput) -> EstimateInput:
        """``inp`` with this state's counters (and, for a stay, the admission number)."""
        in_policy, paid = self.levels.get((inp.setting, inp.level), (ZERO, ZERO))
        more: dict = {"level_in_policy_ytd": in_policy, "level_paid_ytd": paid}
        if inp.setting == "inpatient":
            more["admission_no"] = self.admissions + 1
        return dataclasses.replace(inp, **self.ytd, **more)

    def after(self, r: EstimateResult) -> YearState:
        """The state once ``r`` (a whole-bill result) is settled."""
        ytd = dict(self.ytd)

        def add(k: str, v: Decimal | None) -> None:
            ytd[k] = ytd[k] + (v or ZERO)

        if r.in_section:
            if r.counter == "inpatient":
                add("basic_paid_ytd", r.hifp_pay)
                add("deductible_paid_ytd", r.act_pay_dedc)
            else:
                add(f"{r.counter}_in_policy_ytd", r.inscp_scp_amt)
                add(f"{r.counter}_paid_ytd", r.hifp_pay)
        add("dabing_burden_ytd", r.dabing_burden)
        add("dabing_paid_ytd", r.hifmi_pay)
        add("assistance_paid_ytd", r.maf_pay)
        add("assistance_base_ytd", r.assistance_base)
        add("tilted_paid_ytd", r.tilted_pay)
        add("tilted_base_ytd", r.tilted_base)
        levels = dict(self.levels)
        if r.level_counter:
            ip, paid = levels.get((r.setting, r.level), (ZERO, ZERO))
            levels[(r.setting, r.level)] = (ip + r.inscp_scp_amt, paid + r.hifp_pay)
        stays = self.admissions + (1 if r.setting == "inpatient" else 0)
        return YearState(ytd, levels, stays)


@dataclass(frozen=True)
class YearResult:
    bills: tuple[tuple[EstimateInput, EstimateResult], ...]  # as settled, with their counters
    totals: dict[str, Decimal]  # MONEY_FIELDS summed over the bills
    end: YearState


def settle_year(
    policy: Policy, bills: Iterable[EstimateInput], start: YearState | None = None
) -> YearResult:
    """Settle ``bills`` (already in date order) one after another from ``start``."""
    state = start or YearState.start()
    done = []
    for b in bills:
        inp = state.bill(b)
        r = estimate(policy, inp)
        done.append((inp, r))
        state = state.after(r)
    totals = {k: sum((getattr(r, k) or ZERO for _, r in done), ZERO) for k in MONEY_FIELDS}
    return YearResult(tuple(done), totals, state)
