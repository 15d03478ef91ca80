"""Defects found in the independent review of the estimator (each test failed before its fix)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal as D
from pathlib import Path

from core.estimate import DabingInput, EstimateInput, estimate, run_dabing
from desktop.services import policies

FULL = policies.load_file(Path(__file__).resolve().parent / "policies" / "test-full.toml")


def _with_total_scope_assistance():
    """test-full with 救助 on everything left (incl. out of policy) at 90% for 低保, and
    倾斜救助 50% with no deductible and no limit."""
    a = FULL.sections["assistance"]
    t = FULL.sections["tilted_assistance"]
    a2 = dataclasses.replace(
        a,
        base_scope="total",
        terms=tuple(
            dataclasses.replace(x, ratio=D("0.90"), yearly_limit=None)
            if "dibao" in x.categories
            else x
            for x in a.terms
        ),
    )
    t2 = dataclasses.replace(
        t,
        terms=tuple(
            dataclasses.replace(x, deductible=D("0.00"), ratio=D("0.50"), yearly_limit=None)
            for x in t.terms
        ),
    )
    return dataclasses.replace(
        FULL,
        id="test-full-total",
        sections={**FULL.sections, "assistance": a2, "tilted_assistance": t2},
    )


def test_tilted_assistance_base_is_what_is_really_left_after_assistance_on_the_total():
    # 低保, township: in policy 2000, out of policy 1000 (total 3000).
    # basic: (2000 − 200) × 95% = 1710; 大病: burden 2000 − 1710 − 200 = 90 → 0.
    # 救助 on the total: (290 + 1000) × 90% = 1161 (it covers out-of-policy costs too).
    # Left to the person: 3000 − 1710 − 1161 = 129 → 倾斜 129 × 50% = 64.50.
    # (Before the fix the base was max(0, 290 − 1161) + 1000 = 1000 → 倾斜 500, person −371.)
    policy = _with_total_scope_assistance()
    r = estimate(
        policy,
        EstimateInput(
            setting="inpatient",
            level="township",
            total=D("3000.00"),
            in_policy=D("2000.00"),
            category="dibao",
        ),
    )
    assert (r.hifp_pay, r.hifmi_pay, r.maf_pay) == (D("1710.00"), D("0.00"), D("1161.00"))
    assert r.tilted_base == D("129.00")
    assert r.tilted_pay == D("64.50")
    assert r.psn_part_amt == D("64.50")
    assert r.fund_pay_sumamt + r.psn_part_amt == r.medfee_sumamt


def test_dabing_split_bills_pay_the_same_as_one_bill_to_the_fen():
    # tianjin-2016: 50% from 20000. A burden of 20000.02 in one bill pays 0.01;
    # split into 20000.01 + 0.01 it must pay 0.01 in all as well (the year's 大病 amount is
    # rounded once: f(after) and f(before) to the fen, the bill pays the difference).
    tj = policies.load(None).policies["tianjin-2016"]

    def pay(burden, before):
        return run_dabing(tj, DabingInput(burden=D(burden), burden_ytd_before=D(before))).hifmi_pay

    whole = pay("20000.02", "0.00")
    first = pay("20000.01", "0.00")
    second = pay("0.01", "20000.01")
    assert whole == D("0.01")
    assert first + second == whole
    # and over many small bills the year never drifts from the single settlement
    paid, before = D("0.00"), D("0.00")
    for _ in range(7):
        paid += pay("20000.01" if before == 0 else "0.01", before)
        before += D("20000.01") if before == 0 else D("0.01")
    assert paid == pay(str(before), "0.00")
