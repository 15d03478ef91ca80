"""The basic fund's ratio raised by continuous enrollment and lowered after a break (issue 13
item 6), with the continuous years taken from the contribution records. Figures worked by
hand from the quoted rule text."""

from __future__ import annotations

import copy
import tomllib
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.estimate import EstimateInput, estimate
from core.policy import PolicyError, parse_policy

TEXT = """
[policy]
id = "continuous-test"
region = "140121"
year = 2025
title = "连续参保提高报销比例测试政策"
source = "测试"

[inpatient]
source = "住院"
counter = "inpatient"
deductible_basis = "per_admission"
cap = "100000.00"

[inpatient.levels.county]
label = "县级医院"
deductible = "500.00"
ratio = "0.75"

[inpatient.levels.township]
label = "乡镇卫生院"
deductible = "200.00"
ratio = "0.90"

[inpatient.continuous]
every_years = 1
ratio_add = "0.01"
max_add = "0.05"
from_years = 4
break_cut = "0.05"
break_cut_years = 1
source = "连续参保满4年后每满1年提高1个百分点，累计不超过5个百分点；断保后再参保的首年降低5个百分点"
"""


def pol(change=None):
    data = tomllib.loads(TEXT)
    if change:
        change(data)
    return parse_policy(copy.deepcopy(data), "continuous-test.toml")


def stay(p, level="county", amount="10500", **kw):
    return estimate(p, EstimateInput(setting="inpatient", level=level, total=D(amount), **kw))


@pytest.mark.parametrize(
    "years, after_break, fund",
    [
        (None, False, "7500.00"),  # not known: no change, and the step says so
        (3, False, "7500.00"),  # (10500 − 500) × 75%
        (4, False, "7500.00"),  # the raise starts after 4 years
        (6, False, "7700.00"),  # 2 years beyond 4 → +2 points: 77%
        (20, False, "8000.00"),  # at most +5 points: 80%
        (1, True, "7000.00"),  # first year after a break: −5 points: 70%
        (2, True, "7500.00"),  # the cut lasts one year
    ],
)
def test_ratio_by_continuous_years(years, after_break, fund):
    """“连续参保满4年后，每多连续参保1年，住院报销比例提高1个百分点，累计不超过5个百分点；
    断保后再次参保的，首个参保年度报销比例降低5个百分点。”"""
    r = stay(pol(), continuous_years=years, after_break=after_break)
    assert r.hifp_pay == D(fund)
    step = next((s for s in r.steps if s.rule == "连续参保"), None)
    if years is None:
        assert step is not None and "未提供连续参保年数" in step.text
    elif fund != "7500.00":
        assert step is not None


def test_never_above_100_percent():
    """Township 90% + 5 points = 95%; a category adding 10 more stops at 100%."""

    def change(d):
        d["inpatient"]["category_terms"] = [
            {"categories": ["tekun"], "ratio_add": "0.10", "source": "特困提高10个百分点"}
        ]

    r = stay(pol(change), level="township", amount="10200", continuous_years=30, category="tekun")
    assert r.hifp_pay == D("10000.00")


@pytest.mark.parametrize(
    "change, key, words",
    [
        (lambda d: d["inpatient"]["continuous"].update(max_add="0.005"), "max_add", "below"),
        (lambda d: d["inpatient"]["continuous"].update(every_years=0), "every_years", "range"),
        (
            lambda d: d["inpatient"]["continuous"].pop("break_cut"),
            "break_cut_years",
            "goes with break_cut",
        ),
        (lambda d: d["inpatient"]["continuous"].update(ratio_add="1.5"), "ratio_add", "above 1"),
    ],
)
def test_a_broken_use_stops_the_file(change, key, words):
    with pytest.raises(PolicyError) as e:
        pol(change)
    assert e.value.key == f"inpatient.continuous.{key}" and words in e.value.problem


@settings(max_examples=150, deadline=None)
@given(
    st.integers(0, 50),
    st.booleans(),
    st.integers(0, 50_000_00).map(lambda c: D(c).scaleb(-2)),
    st.integers(0, 1000_00).map(lambda c: D(c).scaleb(-2)),
)
def test_more_years_never_pay_less_and_costs_rising_never_pay_less(years, brk, amount, extra):
    p = pol()
    r = stay(p, amount=str(amount), continuous_years=years, after_break=brk)
    fewer = stay(p, amount=str(amount), continuous_years=max(0, years - 1), after_break=brk)
    assert r.hifp_pay >= fewer.hifp_pay
    more = stay(p, amount=str(amount + extra), continuous_years=years, after_break=brk)
    assert more.hifp_pay >= r.hifp_pay
    assert D(0) <= r.hifp_pay <= max(D(0), amount - D(500))


def test_continuous_years_come_from_the_contribution_records(store):
    """The demo: 刘桂英 paid for consecutive 参保年度 at the window — 1 continuous year in the
    first, 2 in the second …, no break; a person without payment has none."""
    from desktop.services import estimate as svc
    from desktop.services.demo import seed_demo

    seed_demo(store)
    pid = store.query_one("SELECT id FROM person WHERE name = '刘桂英'")["id"]
    rows = store.query(
        "SELECT DISTINCT year FROM payment WHERE person_id = ? AND status != 'voided'"
        " ORDER BY year",
        (pid,),
    )
    years = [r["year"] for r in rows]
    assert len(years) >= 2 and years == list(range(years[0], years[0] + len(years)))
    for n, y in enumerate(years, start=1):
        cov = svc.person_year(store, pid, y)["coverage"]
        assert (cov["continuous_years"], cov["after_break"]) == (n, False), y
    unpaid = store.query_one("SELECT id FROM person WHERE name = '单宇'")["id"]
    assert svc.person_year(store, unpaid, 2025)["coverage"]["continuous_years"] is None
    # a run that began after a gap: insured 2019–2020, not 2021, again 2022–2025
    assert svc.after_break({2019, 2020, 2022, 2023, 2024, 2025}, 2025, 4)
    assert not svc.after_break({2022, 2023, 2024, 2025}, 2025, 4)
    assert not svc.after_break({2019}, 2025, None)
