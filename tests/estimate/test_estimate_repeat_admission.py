"""Repeat-admission deductibles beyond a factor (issue 13 item 2): a fixed reduction, a
floor, and an explicit schedule by admission number. Figures worked by hand from the quoted
rule texts (typical wording of 城乡居民 inpatient rules)."""

from __future__ import annotations

import copy
import tomllib
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.estimate import EstimateInput, estimate
from core.policy import PolicyError, parse_policy

BASE = tomllib.loads(
    """
[policy]
id = "repeat-test"
region = "140121"
year = 2025
title = "多次住院起付线测试政策"
source = "测试"

[inpatient]
source = "住院待遇"
counter = "inpatient"
deductible_basis = "per_admission"
band_basis = "amount"
cap = "150000.00"

[inpatient.levels.county]
label = "县级医院"
deductible = "800.00"
ratio = "0.75"
"""
)


def policy(*rules: dict, name: str = "repeat-test"):
    data = copy.deepcopy(BASE)
    data["inpatient"]["admission_deductible"] = [
        {"source": "住院起付线 第十条", **r} for r in rules
    ]
    return parse_policy(data, f"{name}.toml")


def bill(pol, admission_no: int, in_policy: str = "5000.00"):
    return estimate(
        pol,
        EstimateInput(
            setting="inpatient",
            level="county",
            in_policy=Decimal(in_policy),
            total=Decimal(in_policy),
            admission_no=admission_no,
        ),
    )


def test_a_fixed_reduction_with_a_floor():
    """“同一年度内再次住院的，起付线降低200元，最低不低于300元。”
    county deductible 800: 1st admission 800; 2nd 800 − 200 = 600; the rule applies from
    the 2nd on (not cumulatively), so the 3rd is 600 too. A 5,000-yuan bill on the 2nd
    admission: (5000 − 600) × 75% = 3300.00 from the fund."""
    pol = policy({"from_admission": 2, "reduce": "200.00", "floor": "300.00"})
    first, second, third = (bill(pol, n) for n in (1, 2, 3))
    assert first.act_pay_dedc == Decimal("800.00")
    assert second.act_pay_dedc == Decimal("600.00") and third.act_pay_dedc == Decimal("600.00")
    assert second.hifp_pay == Decimal("3300.00")
    step = next(s for s in second.steps if s.rule == "多次住院起付线")
    assert "起付线降低 200.00 元 → 600.00 元" in step.text


def test_the_floor_holds_when_the_reduction_goes_below_it():
    """“第三次及以上住院起付线降低600元，但不低于300元。” 800 − 600 = 200 → 300."""
    pol = policy(
        {"from_admission": 2, "reduce": "200.00"},
        {"from_admission": 3, "reduce": "600.00", "floor": "300.00"},
    )
    assert bill(pol, 3).act_pay_dedc == Decimal("300.00")
    assert bill(pol, 2).act_pay_dedc == Decimal("600.00")


def test_an_explicit_schedule_by_admission():
    """“第一次住院起付线800元，第二次600元，第三次400元，第四次及以上不设起付线。”
    A 5,000-yuan 4th admission: 5000 × 75% = 3750.00; the 3rd: (5000 − 400) × 75% = 3450.00."""
    pol = policy(
        {"from_admission": 2, "amount": "600.00"},
        {"from_admission": 3, "amount": "400.00"},
        {"from_admission": 4, "amount": "0.00"},
    )
    assert [bill(pol, n).act_pay_dedc for n in (1, 2, 3, 4, 9)] == [
        Decimal("800.00"),
        Decimal("600.00"),
        Decimal("400.00"),
        Decimal("0.00"),
        Decimal("0.00"),
    ]
    assert bill(pol, 4).hifp_pay == Decimal("3750.00")
    assert bill(pol, 3).hifp_pay == Decimal("3450.00")


def test_the_factor_still_works():
    """Shanxi 2017: “再次住院起付线减半。” 800 × 50% = 400."""
    assert bill(policy({"from_admission": 2, "factor": "0.5"}), 2).act_pay_dedc == Decimal("400.00")


@pytest.mark.parametrize(
    "rules, key, words",
    [
        ([{"from_admission": 2, "factor": "0.5", "reduce": "100.00"}], "factor", "exactly one"),
        ([{"from_admission": 2}], "factor", "exactly one"),
        ([{"from_admission": 2, "reduce": "900.00"}], "reduce", "larger than the deductible"),
        (
            [{"from_admission": 2, "amount": "400.00"}, {"from_admission": 3, "amount": "600.00"}],
            "amount",
            "must not rise",
        ),
        ([{"from_admission": 2, "reduce": "100.00", "floor": "900.00"}], "floor", "above"),
        ([{"from_admission": 2, "amount": "400.00", "floor": "100.00"}], "floor", "not with"),
        ([{"from_admission": 2, "reduce": "100.005"}], "reduce", "two decimals"),
    ],
)
def test_a_broken_rule_stops_the_file(rules, key, words):
    with pytest.raises(PolicyError) as e:
        policy(*rules, name="broken")
    assert e.value.file == "broken.toml" and key in e.value.key and words in e.value.problem
    assert str(e.value).startswith("broken.toml: inpatient.admission_deductible")


@settings(max_examples=60, deadline=None)
@given(
    reduce=st.integers(0, 800),
    floor=st.integers(0, 800),
    n=st.integers(1, 6),
    cost=st.integers(0, 40000),
    extra=st.integers(0, 5000),
)
def test_properties(reduce, floor, n, cost, extra):
    """Sum equals total, nothing negative, the deductible never below the floor nor above the
    level's, and the fund never pays less when costs rise."""
    pol = policy({"from_admission": 2, "reduce": f"{reduce}.00", "floor": f"{floor}.00"})
    res = bill(pol, n, f"{cost}.00")
    more = bill(pol, n, f"{cost + extra}.00")
    assert res.fund_pay_sumamt + res.psn_part_amt == res.medfee_sumamt
    assert min(res.hifp_pay, res.psn_part_amt, res.act_pay_dedc) >= 0
    ded = Decimal(800) if n == 1 else max(Decimal(800 - reduce), Decimal(floor))
    assert res.act_pay_dedc == min(ded, Decimal(cost))
    assert more.hifp_pay >= res.hifp_pay
