"""What a new policy file changes for residents: a fixed set of reference bills and people
estimated under the policy in force and under the new one, side by side (the county
console shows it before a case worker publishes).

Reference bills are built from the new file itself: for each basic-benefit section
(住院, 门诊, 慢特病 …) and each of its levels, bills of typical sizes for an ordinary
resident, a 低保 and a 特困 resident (the in-policy share 85% of the total). A bill the old
file cannot estimate (a level it does not have) shows as missing, not as zero."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from core.categories import INSURED_CATEGORIES
from core.estimate import EstimateInput, estimate
from core.policy import Policy, PolicyError

SETTINGS = {"inpatient": "住院", "outpatient": "普通门诊", "chronic": "门诊慢特病"}
TOTALS = {
    "inpatient": (Decimal("3000"), Decimal("20000"), Decimal("80000")),
    "outpatient": (Decimal("300"),),
    "chronic": (Decimal("2000"), Decimal("8000")),
}
CATEGORIES = ("ordinary", "dibao", "tekun")
IN_POLICY_SHARE = Decimal("0.85")


@dataclass(frozen=True)
class PreviewRow:
    setting: str  # 住院 …
    level: str  # the level's label in the new file
    category: str  # 普通居民 …
    total: Decimal
    old_funds: Decimal | None  # all funds under the policy in force (None: cannot say)
    new_funds: Decimal | None
    old_self: Decimal | None  # what the resident pays
    new_self: Decimal | None

    @property
    def change(self) -> Decimal | None:
        """More (+) or less (−) that the resident pays under the new file."""
        if self.old_self is None or self.new_self is None:
            return None
        return self.new_self - self.old_self


def _run(policy: Policy | None, inp: EstimateInput) -> tuple[Decimal | None, Decimal | None]:
    if policy is None:
        return None, None
    try:
        r = estimate(policy, inp)
    except (PolicyError, KeyError, ValueError):
        return None, None
    return r.fund_pay_sumamt, r.psn_part_amt


def compare(old: Policy | None, new: Policy) -> list[PreviewRow]:
    rows = []
    for setting, label in SETTINGS.items():
        if not new.has(setting):
            continue
        section = new.section(setting)
        for code, level in getattr(section, "levels", {}).items():
            if level.fixed is not None or level.per_day is not None:
                continue  # fixed payments: the file states the sum itself
            for total in TOTALS[setting]:
                for category in CATEGORIES:
                    inp = EstimateInput(
                        setting=setting,
                        level=code,
                        total=total,
                        in_policy=(total * IN_POLICY_SHARE).quantize(Decimal("0.01")),
                        category=category,
                    )
                    of, os_ = _run(old, inp)
                    nf, ns = _run(new, inp)
                    rows.append(
                        PreviewRow(
                            label, level.label, INSURED_CATEGORIES[category], total, of, nf, os_, ns
                        )
                    )
    return rows
