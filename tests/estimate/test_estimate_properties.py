"""Property tests (hypothesis) on every shipped policy and the full-parameter test policy:
funds + personal share = total; nothing negative; no cap or limit exceeded; a fund's
payment never falls when costs rise; layers apply in order."""

from __future__ import annotations

import dataclasses
import tomllib
from decimal import Decimal as D
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core.categories import INSURED_CATEGORIES
from core.estimate import (
    AssistanceInput,
    DabingInput,
    EstimateInput,
    estimate,
    run_assistance,
    run_dabing,
)
from core.policy import parse_policy
from core.policy.benefits import SETTINGS
from desktop.services import policies
from tests.estimate.test_estimate_continuous import TEXT as CONTINUOUS
from tests.estimate.test_estimate_year import POLICY

ALL = policies.load(None)
FULL = policies.load_file(Path(__file__).resolve().parent / "policies" / "test-full.toml")
# the second round's parameters (issue 13): per-level counters and a combined cap, fixed and
# per-day payments, tiered 救助 with additions, continuous enrollment
SECOND = parse_policy(
    tomllib.loads(
        POLICY.replace('id = "year-test"', 'id = "second-round"')
        + CONTINUOUS[CONTINUOUS.index("[inpatient.continuous]") :]
        + """
[[assistance.additions]]
age_below = 18
ratio_add = "0.05"
limit_add = "5000.00"
source = "未成年人"
"""
    ),
    "second-round.toml",
)
BENEFIT_POLICIES = [
    p
    for p in [*ALL.policies.values(), FULL, SECOND]
    if any(s in p.sections for s in (*SETTINGS, "dabing", "assistance", "tilted_assistance"))
]
# The test policy with 救助 based on the burden after basic only (before 大病): 救助 must
# still never pay more than is left to the person.
FULL_AFTER_BASIC = dataclasses.replace(
    FULL,
    id="test-full-after-basic",
    sections={
        **FULL.sections,
        "assistance": dataclasses.replace(FULL.sections["assistance"], base="after_basic"),
    },
)
BASIC_POLICIES = [
    p for p in [*BENEFIT_POLICIES, FULL_AFTER_BASIC] if any(s in p.sections for s in SETTINGS)
]
ASSIST_POLICIES = [p for p in [*BENEFIT_POLICIES, FULL_AFTER_BASIC] if "assistance" in p.sections]
DABING_POLICIES = [p for p in BENEFIT_POLICIES if "dabing" in p.sections]

LAYER_ORDER = ["in_policy", "basic", "dabing", "assistance", "tilted_assistance", "total"]
FUNDS = ("hifp_pay", "hifmi_pay", "maf_pay", "tilted_pay")

CFG = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def money(hi: int) -> st.SearchStrategy[D]:
    return st.integers(0, hi * 100).map(lambda c: D(c).scaleb(-2))


categories = st.sampled_from(sorted(INSURED_CATEGORIES))


def test_every_shipped_benefit_policy_is_covered():
    ids = {p.id for p in BENEFIT_POLICIES}
    assert {
        "shanxi-2025",
        "tianjin-2016",
        "reprint-ziyang-dabing",
        "reprint-above-deductible-dabing",
        "reprint-city-hospital",
        "reprint-jiangyin-assistance",
        "test-full",
    } <= ids


@st.composite
def bills(draw, policy):
    setting = draw(st.sampled_from([s for s in SETTINGS if s in policy.sections]))
    sec = policy.sections[setting]
    level = draw(st.sampled_from(sorted(sec.levels)))
    in_policy = draw(money(400_000))
    out = draw(money(50_000))
    return EstimateInput(
        setting=setting,
        level=level,
        total=in_policy + out,
        in_policy=in_policy,
        admission_no=draw(st.integers(1, 5)),
        category=draw(categories),
        claim_free_years=draw(st.integers(0, 4)),
        basic_paid_ytd=draw(money(120_000)),
        deductible_paid_ytd=draw(money(3_000)),
        outpatient_in_policy_ytd=draw(money(5_000)),
        outpatient_paid_ytd=draw(money(5_000)),
        chronic_in_policy_ytd=draw(money(5_000)),
        chronic_paid_ytd=draw(money(60_000)),
        dabing_burden_ytd=draw(money(400_000)),
        dabing_paid_ytd=draw(money(300_000)),
        dabing_cap_raise=draw(money(60_000)),
        assistance_paid_ytd=draw(money(400_000)),
        assistance_base_ytd=draw(money(5_000)),
        tilted_paid_ytd=draw(money(20_000)),
        tilted_base_ytd=draw(money(10_000)),
        level_in_policy_ytd=draw(money(5_000)),
        level_paid_ytd=draw(money(5_000)),
        days=draw(st.integers(1, 60)),
        age=draw(st.none() | st.integers(0, 90)),
        continuous_years=draw(st.none() | st.integers(0, 30)),
        after_break=draw(st.booleans()),
    )


def _basic_cap_left(policy, inp):
    """What the fund may still pay for this bill: the smallest cap left (None: no cap)."""
    sec = policy.sections[inp.setting]
    level = sec.levels[inp.level]
    terms = sec.terms_for(inp.category)
    if terms is not None and terms.no_cap:
        return None
    paid = {
        "inpatient": inp.basic_paid_ytd,
        "outpatient": inp.outpatient_paid_ytd,
        "chronic": inp.chronic_paid_ytd,
    }[sec.counter]
    lefts = []
    if sec.own_counter(level):
        if level.cap is not None:
            lefts.append(level.cap - inp.level_paid_ytd)
        across = sec.combined_cap if sec.level_counters else sec.cap
        if sec.in_section(level) and across is not None:
            lefts.append(across - paid)
    else:
        cap = level.cap if level.cap is not None else sec.cap
        if cap is not None:
            lefts.append(cap - paid)
    return max(D(0), min(lefts)) if lefts else None


def _dabing_cap_left(policy, category, paid, raise_):
    sec = policy.sections["dabing"]
    terms = sec.terms_for(category)
    if sec.cap is None or (terms is not None and terms.no_cap):
        return None
    if sec.cap_raise_max_share is not None:
        raise_ = min(raise_, sec.cap * sec.cap_raise_max_share)
    return max(D(0), sec.cap + raise_ - paid)


@pytest.mark.parametrize("policy", BASIC_POLICIES, ids=[p.id for p in BASIC_POLICIES])
def test_bill_invariants(policy):
    @CFG
    @given(inp=bills(policy), extra=money(100_000))
    def check(inp, extra):
        r = estimate(policy, inp)
        # funds + personal share = total
        assert r.hifp_pay + r.hifmi_pay + r.maf_pay + r.tilted_pay == r.fund_pay_sumamt
        assert r.fund_pay_sumamt + r.psn_part_amt == r.medfee_sumamt == inp.total
        # nothing negative, everything to the fen
        for k in ("inscp_scp_amt", "act_pay_dedc", *FUNDS, "fund_pay_sumamt", "psn_part_amt"):
            v = getattr(r, k)
            assert v >= 0, k
            assert v == v.quantize(D("0.01")), k
        # caps and limits
        left = _basic_cap_left(policy, inp)
        if left is not None:
            assert r.hifp_pay <= left
        if "dabing" in policy.sections:
            dleft = _dabing_cap_left(
                policy, inp.category, inp.dabing_paid_ytd, inp.dabing_cap_raise
            )
            if dleft is not None:
                assert r.hifmi_pay <= dleft
        for name, paid in (
            ("assistance", inp.assistance_paid_ytd),
            ("tilted_assistance", inp.tilted_paid_ytd),
        ):
            if name in policy.sections:
                t = policy.sections[name].terms_for(inp.category)
                if t is not None and t.yearly_limit is not None:
                    got = r.maf_pay if name == "assistance" else r.tilted_pay
                    more = sum(
                        (
                            a.limit_add
                            for a in policy.sections[name].additions_for(inp.category, inp.age)
                        ),
                        D(0),
                    )
                    assert got <= max(D(0), t.yearly_limit + more - paid)
                    if t.claim_limit is not None:
                        assert got <= t.claim_limit
        # layers in order, each on what the one before left
        order = [LAYER_ORDER.index(s.layer) for s in r.steps]
        assert order == sorted(order)
        assert r.act_pay_dedc <= r.inscp_scp_amt
        assert r.hifp_pay <= r.inscp_scp_amt - r.act_pay_dedc
        assert r.hifmi_pay <= r.dabing_burden <= r.inscp_scp_amt - r.hifp_pay
        assert r.hifp_pay + r.hifmi_pay + r.maf_pay <= r.medfee_sumamt
        covers_out_of_policy = any(
            name in policy.sections and policy.sections[name].base_scope == "total"
            for name in ("assistance", "tilted_assistance")
        )
        if not covers_out_of_policy:  # the person always pays what is out of policy
            assert r.psn_part_amt >= r.medfee_sumamt - r.inscp_scp_amt
        # costs rise → no fund pays less
        more = estimate(
            policy,
            EstimateInput(
                **{
                    **inp.__dict__,
                    "in_policy": inp.in_policy + extra,
                    "total": inp.total + extra,
                }
            ),
        )
        for k in FUNDS:
            assert getattr(more, k) >= getattr(r, k), k

    check()


@pytest.mark.parametrize("policy", DABING_POLICIES, ids=[p.id for p in DABING_POLICIES])
def test_dabing_layer_invariants(policy):
    @CFG
    @given(
        burden=money(500_000),
        before=money(400_000),
        paid=money(300_000),
        raise_=money(60_000),
        category=categories,
        extra=money(100_000),
    )
    def check(burden, before, paid, raise_, category, extra):
        def run(b):
            return run_dabing(
                policy,
                DabingInput(
                    burden=b,
                    burden_ytd_before=before,
                    dabing_paid_ytd=paid,
                    category=category,
                    dabing_cap_raise=raise_,
                ),
            )

        r = run(burden)
        assert D(0) <= r.hifmi_pay <= burden
        assert r.hifmi_pay + r.psn_part_amt == burden
        left = _dabing_cap_left(policy, category, paid, raise_)
        if left is not None:
            assert r.hifmi_pay <= left
        assert run(burden + extra).hifmi_pay >= r.hifmi_pay

    check()


@pytest.mark.parametrize("policy", ASSIST_POLICIES, ids=[p.id for p in ASSIST_POLICIES])
def test_assistance_layer_invariants(policy):
    @CFG
    @given(
        burden=money(400_000),
        hifmi_share=st.integers(0, 100),
        paid=money(400_000),
        base_ytd=money(5_000),
        category=categories,
        extra=money(100_000),
    )
    def check(burden, hifmi_share, paid, base_ytd, category, extra):
        hifmi = (burden * hifmi_share / 100).quantize(D("0.01"))

        def run(b):
            return run_assistance(
                policy,
                AssistanceInput(
                    in_policy_burden_after_basic=b,
                    total=b + D("1000.00"),
                    hifp_pay=D("1000.00"),
                    hifmi_pay=hifmi,
                    category=category,
                    assistance_paid_ytd=paid,
                    assistance_base_ytd=base_ytd,
                ),
            )

        r = run(burden)
        base = burden - hifmi if policy.sections["assistance"].base == "after_dabing" else burden
        assert D(0) <= r.maf_pay <= base
        assert r.maf_pay <= burden - hifmi  # never more than is left to the person
        assert r.fund_pay_sumamt + r.psn_part_amt == r.medfee_sumamt
        assert r.psn_part_amt >= 0
        t = policy.sections["assistance"].terms_for(category)
        if t is not None and t.yearly_limit is not None:
            assert r.maf_pay <= max(D(0), t.yearly_limit - paid)
        assert run(burden + extra).maf_pay >= r.maf_pay

    check()


KEYS = [
    "setting",
    "price_class",
    "facility",
    "total",
    "in_policy",
    "fully_self_paid",
    "class_b_amount",
    "over_limit",
    "partial_self_pay",
    "admission_no",
    "category",
    "claim_free_years",
    "basic_paid_ytd",
    "dabing_burden_ytd",
    "layer",
    "burden",
    "hifmi_pay",
    "in_policy_burden_after_basic",
]
junk = st.one_of(
    st.text(max_size=12),
    st.integers(-(10**6), 10**12),
    st.floats(allow_nan=True),
    st.booleans(),
    st.none(),
    st.sampled_from(
        [
            "inpatient",
            "class3",
            "level2_public",
            "dabing",
            "assistance",
            "1e999",
            "NaN",
            "１２３.４",
            "12.345",
            "-0",
            "dibao",
            "ordinary",
        ]
    ),
)


@CFG
@example(pid="shanxi-2025", data={"over_limit": "1e999"})
@example(pid="tianjin-2016", data={"layer": "dabing", "burden": "sNaN"})
@given(
    pid=st.sampled_from(sorted(p.id for p in BENEFIT_POLICIES if p.id != "test-full")),
    data=st.dictionaries(st.sampled_from(KEYS), junk, max_size=8),
)
def test_any_input_gives_a_result_or_a_chinese_field_error(pid, data):
    """Whatever the CLI or a script sends, the service answers with a result or with
    ValidationError messages by field — never another exception."""
    from core.errors import ValidationError
    from desktop.services import estimate as svc

    try:
        out = svc.run(pid, data)
    except ValidationError as e:
        assert e.errors and all(isinstance(m, str) and m for m in e.errors.values())
        return
    assert D(out["fund_pay_sumamt"]) >= 0
