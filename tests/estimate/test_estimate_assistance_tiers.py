"""Tiered 医疗救助 (issue 13 item 5): ratio bands by amount, a per-claim limit besides the
yearly one, additions by age band or category, and a yearly limit stated as a multiple of
another figure of the policy. Figures worked by hand from the quoted rule texts."""

from __future__ import annotations

import copy
import tomllib
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.estimate import AssistanceInput, EstimateInput, run_assistance, settle_year
from core.policy import PolicyError, parse_policy

TEXT = """
[policy]
id = "assist-test"
region = "320281"
year = 2025
title = "医疗救助分段测试政策"
source = "测试"

[figures.income]
label = "上年全县居民人均可支配收入"
value = "30000.00"
source = "县统计公报"

[inpatient]
source = "住院"
counter = "inpatient"
deductible_basis = "per_admission"
cap = "100000.00"

[inpatient.levels.county]
label = "县级医院"
deductible = "0.00"
ratio = "0.50"

[assistance]
source = "医疗救助"
cite = "《医疗救助办法》测政发〔2025〕3号 第十二条"
base = "after_dabing"
base_scope = "in_policy"
deductible_yearly = true

[[assistance.terms]]
categories = ["dibao"]
deductible = "1000.00"
claim_limit = "20000.00"
yearly_limit_of = "figures.income"
yearly_limit_times = "2"
source = "低保对象分段救助"

[[assistance.terms.bands]]
from = "0.00"
to = "10000.00"
ratio = "0.70"

[[assistance.terms.bands]]
from = "10000.00"
ratio = "0.80"

[[assistance.additions]]
age_below = 18
ratio_add = "0.05"
limit_add = "10000.00"
source = "未成年人救助比例提高5个百分点，年度限额增加1万元"

[[assistance.additions]]
categories = ["fanpin"]
ratio_add = "0.05"
source = "返贫致贫人口提高5个百分点"
"""


def pol(change=None):
    data = tomllib.loads(TEXT)
    if change:
        change(data)
    return parse_policy(copy.deepcopy(data), "assist-test.toml")


def assist(p, base, **kw):
    return run_assistance(
        p, AssistanceInput(in_policy_burden_after_basic=D(base), category="dibao", **kw)
    )


def test_bands_above_the_yearly_deductible():
    """“低保对象年度起付线1000元，起付线以上1万元以内救助70%，1万元以上救助80%。”
    A burden of 16,000: 15,000 above the deductible → 10,000 × 70% + 5,000 × 80% = 11,000."""
    r = assist(pol(), "16000")
    assert r.maf_pay == D("11000.00")
    step = next(s for s in r.steps if s.rule == "医疗救助比例")
    assert "10000.00 × 70%" in step.text and "5000.00 × 80%" in step.text
    assert step.source == "低保对象分段救助"


def test_the_year_so_far_decides_the_band():
    """With 8,000 of base counted this year (7,000 above the deductible), a further 6,000:
    3,000 × 70% + 3,000 × 80% = 4,500."""
    r = assist(pol(), "6000", assistance_base_ytd=D("8000"))
    assert r.maf_pay == D("4500.00")


def test_the_per_claim_limit():
    """“单次救助不超过2万元。” 40,000 of burden: 10,000 × 70% + 29,000 × 80% = 30,200 → 20,000."""
    r = assist(pol(), "40000")
    assert r.maf_pay == D("20000.00")
    assert any(s.rule == "医疗救助单次限额" for s in r.steps)


def test_a_yearly_limit_as_a_multiple_of_the_county_income():
    """“年度救助限额为上年全县居民人均可支配收入的2倍。” 30,000 × 2 = 60,000; with 55,000
    already given, 5,000 is left."""
    p = pol()
    assert p.section("assistance").terms[0].yearly_limit == D("60000.00")
    r = assist(p, "16000", assistance_paid_ytd=D("55000"), assistance_base_ytd=D("90000"))
    assert r.maf_pay == D("5000.00")
    step = next(s for s in r.steps if s.rule == "医疗救助年度限额")
    assert "上年全县居民人均可支配收入 30000.00 元 × 2" in step.text


def test_a_child_gets_more_and_a_higher_limit():
    """“未成年人救助比例提高5个百分点，年度限额增加1万元。” 16,000 for a 9-year-old:
    10,000 × 75% + 5,000 × 85% = 11,750; the limit is 70,000 (60,000 + 10,000)."""
    p = pol()
    assert assist(p, "16000", age=9).maf_pay == D("11750.00")
    assert assist(p, "16000", age=18).maf_pay == D("11000.00")
    r = assist(p, "16000", age=9, assistance_paid_ytd=D("65000"), assistance_base_ytd=D("90000"))
    assert r.maf_pay == D("5000.00")
    no_age = assist(p, "16000")
    assert any("未提供年龄" in s.text for s in no_age.steps)


def test_a_limit_on_the_dabing_cap():
    def change(d):
        d["dabing"] = {
            "source": "大病",
            "settings": ["inpatient"],
            "deductible": "15000.00",
            "segment_basis": "above_deductible",
            "burden_includes_basic_deductible": True,
            "cap": "400000.00",
            "segments": [{"from": "0.00", "ratio": "0.60"}],
        }
        t = d["assistance"]["terms"][0]
        t["yearly_limit_of"], t["yearly_limit_times"] = "dabing.cap", "0.5"

    assert pol(change).section("assistance").terms[0].yearly_limit == D("200000.00")


@pytest.mark.parametrize(
    "change, key, words",
    [
        (
            lambda d: d["assistance"]["terms"][0].update(yearly_limit_of="figures.wages"),
            "assistance.terms[0].yearly_limit_of",
            "no such figure",
        ),
        (
            lambda d: d["assistance"]["terms"][0].update(yearly_limit_of="dabing.cap"),
            "assistance.terms[0].yearly_limit_of",
            "no such cap",
        ),
        (
            lambda d: d["assistance"]["terms"][0].update(yearly_limit="50000.00"),
            "assistance.terms[0].yearly_limit_of",
            "not both",
        ),
        (
            lambda d: d["assistance"]["terms"][0].update(ratio="0.7"),
            "assistance.terms[0].ratio",
            "exactly one of ratio or [[bands]]",
        ),
        (
            lambda d: d["assistance"]["terms"][0]["bands"][1].update({"from": "12000.00"}),
            "assistance.terms[0].bands[1].from",
            "gap",
        ),
        (
            lambda d: d["assistance"]["additions"][0].update(categories=["dibao"]),
            "assistance.additions[0].age_below",
            "exactly one of age_below or categories",
        ),
    ],
)
def test_a_broken_use_stops_the_file(change, key, words):
    with pytest.raises(PolicyError) as e:
        pol(change)
    assert e.value.key == key and words in e.value.problem


bills = st.lists(st.integers(0, 6_000_000).map(lambda c: D(c).scaleb(-2)), min_size=1, max_size=10)


@settings(max_examples=120, deadline=None)
@given(bills, st.sampled_from([None, 9, 40]), st.integers(0, 10))
def test_over_a_year_limits_hold_and_costs_rising_never_pay_less(amounts, age, cut):
    p = pol()
    inputs = [
        EstimateInput(setting="inpatient", level="county", in_policy=a, category="dibao", age=age)
        for a in amounts
    ]
    year = settle_year(p, inputs)
    limit = D("70000") if age == 9 else D("60000")
    assert year.totals["maf_pay"] <= limit
    for inp, r in year.bills:
        assert D(0) <= r.maf_pay <= D("20000")
        more = settle_year(p, [inp.__class__(**{**inp.__dict__, "in_policy": inp.in_policy + 100})])
        assert more.bills[0][1].maf_pay >= settle_year(p, [inp]).bills[0][1].maf_pay
    cut = min(cut, len(inputs))
    first = settle_year(p, inputs[:cut])
    rest = settle_year(p, inputs[cut:], start=first.end)
    assert rest.end == year.end
