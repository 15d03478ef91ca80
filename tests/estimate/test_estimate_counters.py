"""Which year-to-date counters an estimate asks for is a rule of the policy (core), not of
the page: the setting's counter in the basic fund, then each later layer covering it."""

from __future__ import annotations

from core.estimate.counters import counters_for_layer, counters_for_setting


def test_inpatient_draws_on_every_layer_that_covers_it(full_policy):
    assert counters_for_setting(full_policy, "inpatient") == [
        "basic_paid_ytd",
        "deductible_paid_ytd",
        "dabing_burden_ytd",
        "dabing_paid_ytd",
        "dabing_cap_raise",
        "dabing_cap_cut",
        "assistance_paid_ytd",
        "assistance_base_ytd",
        "tilted_paid_ytd",
        "tilted_base_ytd",
    ]


def test_a_setting_uses_its_own_counter_and_only_the_layers_naming_it(full_policy):
    got = counters_for_setting(full_policy, "pharmacy")  # counts with outpatient
    assert got[:2] == ["outpatient_in_policy_ytd", "outpatient_paid_ytd"]
    assert "dabing_paid_ytd" not in got and "tilted_paid_ytd" not in got
    chronic = counters_for_setting(full_policy, "chronic")
    assert chronic[:2] == ["chronic_in_policy_ytd", "chronic_paid_ytd"]
    assert "dabing_paid_ytd" in chronic and "tilted_paid_ytd" not in chronic


def test_nothing_for_an_uncovered_setting_or_no_policy(full_policy):
    assert counters_for_setting(full_policy, "") == []
    assert counters_for_setting(full_policy, "maternity") == []
    assert counters_for_setting(None, "inpatient") == []


def test_a_layer_on_its_own():
    assert counters_for_layer("dabing") == [
        "dabing_burden_ytd",
        "dabing_paid_ytd",
        "dabing_cap_raise",
        "dabing_cap_cut",
    ]
    assert counters_for_layer("assistance") == ["assistance_paid_ytd", "assistance_base_ytd"]
