"""Per-disease counters with a combined cap (issue 13 item 1) and fixed payments per event
(item 3). Figures worked by hand from the quoted rule texts (typical wording of 城乡居民
门诊慢特病 / 两病 and 住院分娩 / 按床日 rules)."""

from __future__ import annotations

import copy
import tomllib
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.estimate import EstimateInput, YearState, estimate, settle_year
from core.policy import PolicyError, parse_policy

CHRONIC = tomllib.loads(
    """
[policy]
id = "levels-test"
region = "140121"
year = 2025
title = "两病门诊用药保障测试政策"
source = "测试"

[chronic]
source = "两病门诊用药保障"
cite = "《关于两病门诊用药保障的通知》测医保发〔2025〕1号 第三条"
counter = "chronic"
deductible_basis = "yearly"
level_counters = true
combined_cap = "480.00"

[chronic.levels.hypertension]
label = "高血压"
deductible = "0.00"
ratio = "0.50"
cap = "240.00"

[chronic.levels.diabetes]
label = "糖尿病"
deductible = "0.00"
ratio = "0.50"
cap = "360.00"

[inpatient]
source = "住院待遇"
counter = "inpatient"
deductible_basis = "per_admission"
band_basis = "above_deductible"
cap = "100000.00"

[inpatient.levels.county]
label = "县级医院"
deductible = "600.00"
ratio = "0.80"

[inpatient.levels.delivery]
label = "住院分娩（顺产）"
fixed = "800.00"
source = "住院分娩定额"
cite = "《住院分娩定额支付办法》测医保发〔2025〕2号 第二条"

[inpatient.levels.psychiatric]
label = "精神病按床日"
per_day = "120.00"
cap = "20000.00"
count_in_cap = true
source = "精神病住院按床日付费"
"""
)


def pol(change=None, name: str = "levels-test"):
    data = copy.deepcopy(CHRONIC)
    if change:
        change(data)
    return parse_policy(data, f"{name}.toml")


def chronic(p, level, amount, **kw):
    return estimate(p, EstimateInput(setting="chronic", level=level, in_policy=D(amount), **kw))


def test_each_disease_its_own_cap_and_the_combined_cap():
    """“高血压年度支付限额240元，糖尿病360元，同时患有两种疾病的合并限额480元。”
    Hypertension bills of 600 pay 50% = 300 → its own cap 240. Diabetes then: 800 × 50% =
    400 → its own cap 360, but together only 480 − 240 = 240 are left → 240."""
    p = pol()
    year = settle_year(
        p,
        [
            EstimateInput(setting="chronic", level="hypertension", in_policy=D("600")),
            EstimateInput(setting="chronic", level="diabetes", in_policy=D("800")),
        ],
    )
    (_, first), (inp2, second) = year.bills
    assert first.hifp_pay == D("240.00")
    assert inp2.chronic_paid_ytd == D("240.00") and inp2.level_paid_ytd == D("0.00")
    assert second.hifp_pay == D("240.00")
    texts = [s.text for s in second.steps if s.rule == "年度最高支付限额"]
    assert any("各病种合计年度最高支付限额 480.00 元" in t for t in texts)
    assert year.end.levels[("chronic", "hypertension")] == (D("600.00"), D("240.00"))


def test_a_second_disease_is_not_cut_short_by_the_first():
    """The old reading (one counter, the level cap in place of the section's) would have cut
    diabetes to 360 − 200 = 160 after 200 paid for hypertension; its own counter gives
    300 × 50% = 150 in full."""
    p = pol()
    r = chronic(p, "diabetes", "300", chronic_paid_ytd=D("200"), level_paid_ytd=D("0"))
    assert r.hifp_pay == D("150.00")
    assert r.level_counter and r.in_section


def test_the_level_cap_counts_only_that_disease():
    p = pol()
    r = chronic(p, "diabetes", "300", chronic_paid_ytd=D("100"), level_paid_ytd=D("300"))
    assert r.hifp_pay == D("60.00")  # 360 − 300 left on diabetes


def test_a_delivery_pays_its_fixed_sum_apart_from_the_inpatient_cap():
    """“住院分娩（顺产）定额支付800元，实际费用低于定额的按实际费用支付；不计入住院年度
    最高支付限额。” A 3,000 bill → 800; a 650 bill → 650; with the inpatient cap used up the
    delivery still pays 800, and it adds nothing to the inpatient counter."""
    p = pol()
    r = estimate(p, EstimateInput(setting="inpatient", level="delivery", total=D("3000")))
    assert r.hifp_pay == D("800.00") and r.act_pay_dedc == D("0.00")
    assert r.psn_part_amt == D("2200.00")
    assert not r.in_section and r.level_counter
    cheap = estimate(p, EstimateInput(setting="inpatient", level="delivery", total=D("650")))
    assert cheap.hifp_pay == D("650.00")
    used = estimate(
        p,
        EstimateInput(
            setting="inpatient", level="delivery", total=D("3000"), basic_paid_ytd=D("100000")
        ),
    )
    assert used.hifp_pay == D("800.00")
    step = next(s for s in r.steps if s.rule == "定额支付")
    assert "定额 800.00 元" in step.text
    assert step.source == "《住院分娩定额支付办法》测医保发〔2025〕2号 第二条"
    year = settle_year(
        p,
        [
            EstimateInput(setting="inpatient", level="delivery", total=D("3000")),
            EstimateInput(setting="inpatient", level="county", total=D("5000")),
        ],
    )
    assert year.end.ytd["basic_paid_ytd"] == D("3520.00")  # only the county stay: 4400 × 80%
    assert year.bills[1][0].admission_no == 2


def test_per_bed_day_counts_in_the_inpatient_cap_when_the_policy_says_so():
    """“精神病住院按床日付费，每床日120元，年度不超过2万元，并计入住院年度最高支付限额。”
    30 days → 3,600 (bill 5,000); with 98,000 of the inpatient cap used only 2,000 is left."""
    p = pol()
    base = dict(setting="inpatient", level="psychiatric", total=D("5000"), days=30)
    assert estimate(p, EstimateInput(**base)).hifp_pay == D("3600.00")
    r = estimate(p, EstimateInput(**base, basic_paid_ytd=D("98000")))
    assert r.hifp_pay == D("2000.00") and r.in_section
    r = estimate(p, EstimateInput(**base, level_paid_ytd=D("19000")))
    assert r.hifp_pay == D("1000.00")
    with pytest.raises(Exception) as e:
        estimate(p, EstimateInput(setting="inpatient", level="psychiatric", total=D("5000")))
    assert "住院天数" in str(e.value.errors["days"])


@pytest.mark.parametrize(
    "change, key, words",
    [
        (
            lambda d: d["chronic"].update(combined_cap="300.00"),
            "chronic.combined_cap",
            "below the cap of diabetes",
        ),
        (
            lambda d: d["chronic"].update(cap="480.00"),
            "chronic.cap",
            "combined_cap",
        ),
        (
            lambda d: d["chronic"].pop("level_counters"),
            "chronic.combined_cap",
            "level_counters",
        ),
        (
            lambda d: d["inpatient"]["levels"]["delivery"].update(deductible="100.00"),
            "inpatient.levels.delivery.deductible",
            "no deductible",
        ),
        (
            lambda d: d["inpatient"]["levels"]["delivery"].update(per_day="10.00"),
            "inpatient.levels.delivery.per_day",
            "not both",
        ),
        (
            lambda d: d["inpatient"]["levels"]["delivery"].update(fixed="0.00"),
            "inpatient.levels.delivery.fixed",
            "above 0",
        ),
        (
            lambda d: d["chronic"].update(cite="levels.toml"),
            "chronic.cite",
            "words people read",
        ),
    ],
)
def test_a_broken_use_stops_the_file(change, key, words):
    with pytest.raises(PolicyError) as e:
        pol(change)
    assert e.value.key == key and words in e.value.problem
    assert str(e.value).startswith(f"levels-test.toml: {key}: ")


bill = st.builds(
    lambda lv, amount: EstimateInput(
        setting="chronic", level=lv, in_policy=D(amount).scaleb(-2), total=None
    ),
    st.sampled_from(["hypertension", "diabetes"]),
    st.integers(0, 200_000),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(bill, max_size=12), st.integers(0, 12))
def test_caps_hold_across_the_year_and_a_year_splits_anywhere(bills, cut):
    """No disease cap and no combined cap is exceeded over the year; the year settled in two
    runs (the second from the first's state) equals one run."""
    p = pol()
    year = settle_year(p, bills)
    paid = {"hypertension": D(0), "diabetes": D(0)}
    for inp, r in year.bills:
        paid[inp.level] += r.hifp_pay
        assert r.hifp_pay >= 0
    assert paid["hypertension"] <= D("240") and paid["diabetes"] <= D("360")
    assert sum(paid.values()) <= D("480")
    cut = min(cut, len(bills))
    first = settle_year(p, bills[:cut])
    rest = settle_year(p, bills[cut:], start=first.end)
    assert [r for _, r in first.bills + rest.bills] == [r for _, r in year.bills]
    assert rest.end == year.end
    assert isinstance(year.end, YearState)
