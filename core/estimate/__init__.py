"""The reimbursement estimator (报销测算): basic fund → 大病保险 → 医疗救助 → 倾斜救助.

Pure: no Qt, no I/O. Every figure comes from a :class:`~core.policy.Policy`
(sections in :mod:`core.policy.benefits`); money is Decimal, rounded half-up to
the fen at each layer. Results use the national settlement names (``medfee_sumamt``,
``inscp_scp_amt``, ``act_pay_dedc``, ``hifp_pay``, ``hifmi_pay``, ``maf_pay``,
``fund_pay_sumamt``, ``psn_part_amt``) plus ``tilted_pay`` (倾斜救助) and a list of
:class:`Step` s, each with the rule, its numbers and its source.

Entry points: :func:`estimate` (one bill through every layer), :func:`run_dabing` and
:func:`run_assistance` (one layer on given figures), :func:`run_given` (any of these from
a JSON object shaped like the ``given`` objects of the acceptance cases),
:func:`parse_given`, and :func:`settle_year` (a person's bills of a year in date order, the
counters carried from bill to bill).
"""

from __future__ import annotations

from core.estimate.basic import (  # noqa: F401
    basic_layer,
)
from core.estimate.bill import (  # noqa: F401
    estimate,
    run_assistance,
    run_dabing,
)
from core.estimate.given import (  # noqa: F401
    input_to_json,
    parse_given,
    run_given,
    run_input,
)
from core.estimate.records import (  # noqa: F401
    LAYER_LABELS,
    LEVEL_YTD_FIELDS,
    MONEY_FIELDS,
    ONE,
    YTD_FIELDS,
    AssistanceInput,
    DabingInput,
    EstimateInput,
    EstimateResult,
    Step,
)
from core.estimate.upper import (  # noqa: F401
    assistance_layer,
    dabing_layer,
)
from core.estimate.year import YearResult, YearState, settle_year  # noqa: F401
from core.money import yuan  # noqa: F401 (part of the estimator's API since the first round)

__all__ = [
    "AssistanceInput",
    "DabingInput",
    "EstimateInput",
    "EstimateResult",
    "Step",
    "YearResult",
    "YearState",
    "estimate",
    "input_to_json",
    "parse_given",
    "run_assistance",
    "run_dabing",
    "run_given",
    "run_input",
    "settle_year",
    "yuan",
]
