"""Care outside the pooling area (issue 13 item 4): by 备案 status a percentage-point cut of
the ratio with a minimum, or a share the person pays first (先行自付). Figures worked by
hand from the quoted rule texts."""

from __future__ import annotations

import copy
import tomllib
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import ValidationError
from core.estimate import EstimateInput, estimate, parse_given
from core.estimate.given import input_to_json
from core.policy import PolicyError, parse_policy

BASE = tomllib.loads(
    """
[policy]
id = "away-test"
region = "140121"
year = 2025
title = "异地就医测试政策"
source = "测试"

[inpatient]
source = "住院待遇"
counter = "inpatient"
deductible_basis = "per_admission"
band_basis = "amount"
cap = "150000.00"

[inpatient.levels.city]
label = "市级医院"
deductible = "1000.00"
ratio = "0.70"
"""
)


def policy(rows: list[dict], name: str = "away-test"):
    data = copy.deepcopy(BASE)
    data["inpatient"]["out_of_area"] = [{"source": "异地就医 第八条", **r} for r in rows]
    return parse_policy(data, f"{name}.toml")


RULES = [
    {"status": "filed", "ratio_cut": "0.10"},
    {"status": "unfiled", "ratio_cut": "0.30", "min_ratio": "0.35"},
    {"status": "emergency", "self_pay_first": "0.10"},
]


def bill(pol, status: str, amount: str = "11000.00"):
    return estimate(
        pol,
        EstimateInput(
            setting="inpatient",
            level="city",
            in_policy=Decimal(amount),
            total=Decimal(amount),
            out_of_area=status,
        ),
    )


def test_filed_care_is_paid_ten_points_lower():
    """“异地就医已备案的，住院报销比例较参保地降低10个百分点。”
    11,000 in-policy, deductible 1,000: (11000 − 1000) × (70% − 10%) = 6000.00."""
    res = bill(policy(RULES), "filed")
    assert res.hifp_pay == Decimal("6000.00")
    assert any(s.rule == "异地就医支付比例" for s in res.steps)
    assert bill(policy(RULES), "").hifp_pay == Decimal("7000.00")  # at home: 10000 × 70%


def test_unfiled_care_is_cut_down_to_the_minimum():
    """“未办理备案的，报销比例降低30个百分点，但最低不低于35%。” 70% − 30% = 40% ≥ 35%:
    10000 × 40% = 4000.00; with a 60% home ratio it would be 30% → 35%: 3500.00."""
    assert bill(policy(RULES), "unfiled").hifp_pay == Decimal("4000.00")
    data = copy.deepcopy(BASE)
    data["inpatient"]["levels"]["city"]["ratio"] = "0.60"
    data["inpatient"]["out_of_area"] = [
        {"source": "s", "status": "unfiled", "ratio_cut": "0.30", "min_ratio": "0.35"}
    ]
    assert bill(parse_policy(data, "x.toml"), "unfiled").hifp_pay == Decimal("3500.00")


def test_emergency_care_pays_a_share_first():
    """“急诊抢救未备案的，先由个人自付10%，其余按参保地规定报销。”
    11,000 × 10% = 1,100 first; (9,900 − 1,000) × 70% = 6230.00."""
    res = bill(policy(RULES), "emergency")
    assert res.hifp_pay == Decimal("6230.00")
    assert res.fund_pay_sumamt + res.psn_part_amt == res.medfee_sumamt


def test_a_status_the_policy_does_not_state_is_refused():
    with pytest.raises(ValidationError) as e:
        bill(policy(RULES[:1]), "unfiled")
    assert "未备案" in e.value.errors["out_of_area"]


def test_the_json_input_round_trips():
    inp = parse_given(
        {"setting": "inpatient", "level": "city", "in_policy": "100", "out_of_area": "filed"}
    )
    assert inp.out_of_area == "filed" and input_to_json(inp)["out_of_area"] == "filed"
    assert "out_of_area" not in input_to_json(
        parse_given({"setting": "inpatient", "level": "city", "in_policy": "100"})
    )
    with pytest.raises(ValidationError):
        parse_given(
            {"setting": "inpatient", "level": "city", "in_policy": "1", "out_of_area": "abroad"}
        )


@pytest.mark.parametrize(
    "rows, key, words",
    [
        ([{"status": "overseas", "ratio_cut": "0.1"}], "status", "not a 备案 status"),
        ([{"status": "filed", "ratio_cut": "0.1"}, {"status": "filed"}], "status", "twice"),
        ([{"status": "filed", "min_ratio": "0.3"}], "min_ratio", "goes with ratio_cut"),
        ([{"status": "filed", "ratio_cut": "1.5"}], "ratio_cut", "above"),
    ],
)
def test_a_broken_row_stops_the_file(rows, key, words):
    with pytest.raises(PolicyError) as e:
        policy(rows, name="broken")
    assert e.value.file == "broken.toml" and key in e.value.key and words in e.value.problem


@settings(max_examples=60, deadline=None)
@given(
    cost=st.integers(0, 60000),
    extra=st.integers(0, 5000),
    status=st.sampled_from(["", "filed", "unfiled", "emergency"]),
)
def test_properties(cost, extra, status):
    """Sum equals total, nothing negative, never more than at home, and the fund never pays
    less when costs rise."""
    pol = policy(RULES)
    res, more = bill(pol, status, f"{cost}.00"), bill(pol, status, f"{cost + extra}.00")
    home = bill(pol, "", f"{cost}.00")
    assert res.fund_pay_sumamt + res.psn_part_amt == res.medfee_sumamt
    assert min(res.hifp_pay, res.psn_part_amt) >= 0
    assert res.hifp_pay <= home.hifp_pay
    assert more.hifp_pay >= res.hifp_pay


def test_a_share_paid_first_kept_out_of_the_assistance_base():
    """“未备案异地就医的，先由个人自付20%，其余按规定报销；个人先行自付部分不纳入医疗救助
    范围。” 11,000 in-policy: 2,200 first; (8,800 − 1,000) × 70% = 5,460 from the fund. 医疗救助
    (低保, 70%, no deductible) takes the in-policy burden left without the 2,200:
    11,000 − 5,460 − 2,200 = 3,340 → 2,338.00. Counted in the burden it would be
    (11,000 − 5,460) × 70% = 3,878.00."""
    data = copy.deepcopy(BASE)
    data["inpatient"]["out_of_area"] = [
        {
            "source": "异地就医 第八条",
            "status": "unfiled",
            "self_pay_first": "0.20",
            "self_pay_first_in_burden": False,
        }
    ]
    data["assistance"] = {
        "source": "医疗救助",
        "base": "after_basic",
        "base_scope": "in_policy",
        "terms": [
            {"categories": ["dibao"], "deductible": "0.00", "ratio": "0.70", "source": "低保"}
        ],
    }
    bill_ = EstimateInput(
        setting="inpatient",
        level="city",
        total=Decimal("11000"),
        out_of_area="unfiled",
        category="dibao",
    )
    r = estimate(parse_policy(data, "away-test.toml"), bill_)
    assert r.hifp_pay == Decimal("5460.00") and r.maf_pay == Decimal("2338.00")
    assert any("不计入大病保险和医疗救助" in s.text for s in r.steps)
    assert r.psn_part_amt == Decimal("11000") - Decimal("5460.00") - Decimal("2338.00")
    data["inpatient"]["out_of_area"][0]["self_pay_first_in_burden"] = True
    r = estimate(parse_policy(data, "away-test.toml"), bill_)
    assert r.maf_pay == Decimal("3878.00")
    data["inpatient"]["out_of_area"][0].pop("self_pay_first")
    with pytest.raises(PolicyError) as e:
        parse_policy(data, "away-test.toml")
    assert e.value.key == "inpatient.out_of_area[0].self_pay_first_in_burden"
