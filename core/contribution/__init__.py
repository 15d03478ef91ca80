"""Contribution rules (domain notes §2–3): amount due, benefit period, waiting period,
continuous years and the 大病 cap incentive for one person and 参保年度.

Pure: every figure comes from a :class:`~core.policy.contribution.ContributionTerms`
(a policy file), and every result carries the rule that decided it with its source
(:class:`Reason`), for the page, the receipt and the CLI.

Readings adopted (domain notes §3; shown in the app's help):

* "benefits after 30 days" = benefits from the payment date + 30 days;
* months of waiting are calendar months; a day past the month's end clamps to its last
  day (2025-08-31 + 3 months = 2025-11-30);
* the wait counts from the payment date, or — where the policy says so — from the later of
  the payment date and 1 January of the benefit year;
* a year of break is a 参保年度 between the last insured year and the benefit year; the first
  ``break_years_free`` of them add nothing beyond the fixed months.
"""

from __future__ import annotations

from core.contribution.cases import CASE_KEYS, person_year_from_case  # noqa: F401
from core.contribution.rules import (  # noqa: F401
    PHASE_LABELS,
    PersonYear,
    Reason,
    Result,
    add_months,
    amount_due,
    break_years,
    compute,
    continuous_years,
    incentive_raise,
    phase_of,
)
