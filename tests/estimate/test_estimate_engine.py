"""The general engine on the full-parameter test policy (tests/estimate/policies/test-full.toml):
every parameter of domain notes §4, with figures worked by hand in the comments."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from core.errors import ValidationError
from core.estimate import (
    AssistanceInput,
    DabingInput,
    EstimateInput,
    estimate,
    parse_given,
    run_assistance,
    run_dabing,
)


def bill(policy, setting="inpatient", level="county", **kw):
    money = {k: D(v) for k, v in kw.items() if isinstance(v, str) and k != "category"}
    other = {k: v for k, v in kw.items() if not (isinstance(v, str) and k != "category")}
    return estimate(policy, EstimateInput(setting=setting, level=level, **money, **other))


def test_in_policy_amount_and_cost_bands_with_personal_share(full_policy):
    # 30000 − 全自费 2000 − 乙类 5000 × 10% − 超限价 500 = 27000 in policy.
    # Bands on the amount: [600, 10000) × 70% = 6580; [10000, 27000) × (1 − 20%) = 13600.
    r = bill(
        full_policy, total="30000", fully_self_paid="2000", class_b_amount="5000", over_limit="500"
    )
    assert r.inscp_scp_amt == D("27000.00")
    assert r.act_pay_dedc == D("600.00")
    assert r.hifp_pay == D("20180.00")
    # 大病 burden leaves the basic deductible out: 27000 − 20180 − 600 = 6220 < 10000.
    assert r.dabing_burden == D("6220.00") and r.hifmi_pay == 0
    assert r.maf_pay == 0 and r.tilted_pay == 0
    assert r.psn_part_amt == D("9820.00")


def test_category_ratio_raise_assistance_and_tilted_layers(full_policy):
    # 低保: +5pp → 9400 × 75% + 17000 × 85% = 7050 + 14450 = 21500.
    # 大病: burden 27000 − 21500 − 600 = 4900, deductible halved to 5000 → 0.
    # 救助 after 大病: (27000 − 21500 − 0) × 70% = 3850.
    # 倾斜救助 on all left incl. out of policy: 5500 − 3850 + 3000 = 4650 < 5000 → 0.
    r = bill(
        full_policy,
        total="30000",
        fully_self_paid="2000",
        class_b_amount="5000",
        over_limit="500",
        category="dibao",
    )
    assert (r.hifp_pay, r.hifmi_pay, r.maf_pay, r.tilted_pay) == (
        D("21500.00"),
        D("0.00"),
        D("3850.00"),
        D("0.00"),
    )
    assert r.fund_pay_sumamt == D("25350.00") and r.psn_part_amt == D("4650.00")
    layers = [s.layer for s in r.steps]
    assert layers.index("basic") < layers.index("dabing") < layers.index("assistance")
    assert layers.index("assistance") < layers.index("tilted_assistance")


def test_tilted_assistance_pays_above_its_deductible(full_policy):
    # 低保, township, in policy 100000 + 20000 out of policy.
    # basic: (100000 − 200) × 95% = 94810 (no cap for 低保).
    # 大病: burden 100000 − 94810 − 200 = 4990 < 5000 → 0.
    # 救助: 5190 × 70% = 3633.  倾斜: 5190 − 3633 + 20000 = 21557; (21557 − 5000) × 50% = 8278.50.
    r = bill(full_policy, level="township", total="120000", in_policy="100000", category="dibao")
    assert r.hifp_pay == D("94810.00")
    assert r.maf_pay == D("3633.00")
    assert r.tilted_pay == D("8278.50")
    assert r.psn_part_amt == D("120000.00") - D("94810.00") - D("3633.00") - D("8278.50")


def test_yearly_cap_uses_what_was_paid_this_year_and_no_cap_terms(full_policy):
    # township: (200000 − 200) × 90% = 179820, cap 100000 − 90000 paid → 10000.
    r = bill(full_policy, level="township", in_policy="200000", basic_paid_ytd="90000")
    assert r.hifp_pay == D("10000.00")
    # 大病 above 10000: burden 200000 − 10000 − 200 = 189800 → x 179800:
    # 40000 × 60% + 139800 × 70% = 24000 + 97860 = 121860.
    assert r.hifmi_pay == D("121860.00")
    t = bill(
        full_policy, level="township", in_policy="200000", basic_paid_ytd="90000", category="tekun"
    )
    assert t.hifp_pay == D("189810.00")  # 199800 × 95%, 特困 has no cap


def test_repeat_admissions_halve_then_waive_the_deductible(full_policy):
    second = bill(full_policy, level="township", in_policy="1000", admission_no=2)
    third = bill(full_policy, level="township", in_policy="1000", admission_no=3)
    assert (second.act_pay_dedc, second.hifp_pay) == (D("100.00"), D("810.00"))
    assert (third.act_pay_dedc, third.hifp_pay) == (D("0.00"), D("900.00"))


def test_fixed_ratio_for_a_category(full_policy):
    # 优抚对象: 95% in both county bands: (5000 − 600) × 95% = 4180; (12000 − 600) × 95%.
    assert bill(full_policy, in_policy="5000", category="youfu").hifp_pay == D("4180.00")
    assert bill(full_policy, in_policy="12000", category="youfu").hifp_pay == D("10830.00")


def test_yearly_deductible_cap(full_policy):
    # 1500 a year at most; 1200 already paid → 300 now; (5000 − 300) × 70% = 3290.
    r = bill(full_policy, in_policy="5000", deductible_paid_ytd="1200")
    assert r.act_pay_dedc == D("300.00") and r.hifp_pay == D("3290.00")


@pytest.mark.parametrize(
    ("category", "deductible"),
    [("child_student", "300.00"), ("elderly", "100.00"), ("ordinary", "600.00")],
)
def test_deductible_by_person_group(full_policy, category, deductible):
    r = bill(full_policy, in_policy="5000", category=category)
    assert r.act_pay_dedc == D(deductible)


def test_outpatient_pooling_claim_free_and_cap(full_policy):
    # deductible 300 − 150 (2 claim-free years) = 150; 100 used this year → 50 left;
    # (1000 − 50) × 60% = 570; cap 2000 − 1800 paid → 200.
    r = bill(
        full_policy,
        setting="outpatient",
        level="clinic",
        in_policy="1000",
        claim_free_years=2,
        outpatient_in_policy_ytd="100",
        outpatient_paid_ytd="1800",
    )
    assert r.act_pay_dedc == D("50.00") and r.hifp_pay == D("200.00")
    assert r.hifmi_pay == 0  # 大病 is not for ordinary outpatient in this policy


def test_pharmacy_shares_the_outpatient_counter(full_policy):
    r = bill(
        full_policy,
        setting="pharmacy",
        level="retail",
        in_policy="400",
        outpatient_in_policy_ytd="0",
    )
    assert (r.act_pay_dedc, r.hifp_pay) == (D("300.00"), D("50.00"))


def test_chronic_disease_cap_and_dabing(full_policy):
    r = bill(full_policy, setting="chronic", level="hypertension", in_policy="1000")
    assert r.hifp_pay == D("300.00")  # 500 capped by the disease's 300
    assert r.dabing_burden == D("700.00")
    u = bill(
        full_policy,
        setting="chronic",
        level="uremia",
        in_policy="3000",
        chronic_in_policy_ytd="200",
    )
    assert (u.act_pay_dedc, u.hifp_pay) == (D("300.00"), D("2160.00"))


def test_dabing_cap_raise_limited_and_preferential_terms(full_policy):
    # x = 400000 − 10000 = 390000: 24000 + 350000 × 70% = 269000;
    # cap 200000 + raise min(50000, 20% of 200000) = 240000.
    r = run_dabing(full_policy, DabingInput(burden=D("400000"), dabing_cap_raise=D("50000")))
    assert r.hifmi_pay == D("240000.00")
    r = run_dabing(
        full_policy,
        DabingInput(burden=D("400000"), dabing_cap_raise=D("50000"), dabing_paid_ytd=D("230000")),
    )
    assert r.hifmi_pay == D("10000.00")
    # 特困: deductible 5000, +5pp, no cap: 40000 × 65% + 355000 × 75% = 26000 + 266250.
    t = run_dabing(full_policy, DabingInput(burden=D("400000"), category="tekun"))
    assert t.hifmi_pay == D("292250.00")


def test_assistance_yearly_deductible_and_limit(full_policy):
    # 低保边缘: deductible 1000 a year, 600 counted already → 400; (5000 − 400) × 50% = 2300.
    r = run_assistance(
        full_policy,
        AssistanceInput(
            in_policy_burden_after_basic=D("5000"),
            category="dibao_edge",
            assistance_base_ytd=D("600"),
        ),
    )
    assert r.maf_pay == D("2300.00")
    r = run_assistance(
        full_policy,
        AssistanceInput(
            in_policy_burden_after_basic=D("5000"),
            category="dibao_edge",
            assistance_base_ytd=D("600"),
            assistance_paid_ytd=D("19000"),
        ),
    )
    assert r.maf_pay == D("1000.00")
    none = run_assistance(
        full_policy, AssistanceInput(in_policy_burden_after_basic=D("5000"), category="ordinary")
    )
    assert none.maf_pay == 0 and "不属于" in none.steps[0].text


def test_half_up_rounding_at_each_layer(full_policy):
    # (1000.05 − 200) × 90% = 720.045 → 720.05 (half up, not banker's 720.04)
    r = bill(full_policy, level="township", in_policy="1000.05")
    assert r.hifp_pay == D("720.05")


def test_bad_input_is_refused_with_chinese_messages(full_policy):
    from desktop.services import policies

    shanxi = policies.get("shanxi-2025")
    with pytest.raises(ValidationError) as e:
        bill(shanxi, level="class3", total="1000", class_b_amount="500")
    assert "乙类先行自付" in e.value.errors["class_b_amount"]
    with pytest.raises(ValidationError) as e:
        bill(shanxi, level="nowhere", total="1000")
    assert "level" in e.value.errors
    with pytest.raises(ValidationError) as e:
        bill(shanxi, setting="outpatient", level="class3", total="1000")
    assert "没有普通门诊待遇规定" in e.value.errors["setting"]
    with pytest.raises(ValidationError) as e:
        bill(full_policy, total="1000", fully_self_paid="1200")
    assert "超过了医疗费总额" in e.value.errors["total"]
    with pytest.raises(ValidationError) as e:
        bill(full_policy, total="1000", in_policy="2000")
    assert "in_policy" in e.value.errors
    with pytest.raises(ValidationError) as e:
        bill(full_policy, total="1000", category="martian")
    assert "category" in e.value.errors


def test_parse_given_refuses_typos_floats_and_missing_fields():
    with pytest.raises(ValidationError) as e:
        parse_given({"setting": "inpatient", "price_clas": "class3", "total": 1.5})
    assert "price_clas" in e.value.errors and "total" in e.value.errors
    assert "level" in e.value.errors  # missing
    with pytest.raises(ValidationError) as e:
        parse_given({"layer": "dabing"})
    assert "burden" in e.value.errors
    with pytest.raises(ValidationError) as e:
        parse_given({"layer": "magic"})
    assert "layer" in e.value.errors
    inp = parse_given({"setting": "inpatient", "price_class": "class3", "total": "１２３.4"})
    assert inp.total == D("123.40") and inp.level == "class3"


def test_parse_given_accepts_the_other_names_of_an_input():
    inp = parse_given(
        {
            "setting": "inpatient",
            "hospital_level": "county",
            "insured_category": "dibao",
            "in_policy": "100",
            "cap_raise": "2000",
        }
    )
    assert (inp.level, inp.category, inp.dabing_cap_raise) == ("county", "dibao", D("2000.00"))
    layer = parse_given({"layer": "dabing", "burden": "10", "dabing_burden_ytd": "5"})
    assert layer.burden_ytd_before == D("5.00")
    with pytest.raises(ValidationError) as e:
        parse_given({"setting": "inpatient", "price_class": "a", "facility": "b", "total": "1"})
    assert "facility" in e.value.errors  # two names for one input
