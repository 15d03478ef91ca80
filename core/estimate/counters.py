"""Which year-to-date counters (本年累计) an estimate needs: the ones of the setting's
counter in the basic fund and those of every later layer (大病, 医疗救助, 倾斜救助) that
applies to the setting. The estimate page asks only for these; the others stay hidden."""

from __future__ import annotations

from core.policy import Policy

DABING_COUNTERS = ("dabing_burden_ytd", "dabing_paid_ytd", "dabing_cap_raise", "dabing_cap_cut")
ASSISTANCE_COUNTERS = ("assistance_paid_ytd", "assistance_base_ytd")
TILTED_COUNTERS = ("tilted_paid_ytd", "tilted_base_ytd")


def counters_for_layer(layer: str) -> list[str]:
    """The counters of one layer run on its own (``dabing`` or ``assistance``)."""
    return list(DABING_COUNTERS if layer == "dabing" else ASSISTANCE_COUNTERS)


def counters_for_setting(policy: Policy | None, setting: str, level: str = "") -> list[str]:
    """The counters a bill of ``setting`` (inpatient, outpatient …) at ``level`` draws on
    under ``policy`` (a level with its own counter adds its two); none when the policy does
    not cover the setting."""
    if policy is None or not setting or not policy.has(setting):
        return []
    sec = policy.section(setting)
    counter = sec.counter
    out = (
        ["basic_paid_ytd", "deductible_paid_ytd"]
        if counter == "inpatient"
        else [f"{counter}_in_policy_ytd", f"{counter}_paid_ytd"]
    )
    lv = sec.levels.get(level)
    if lv is not None and sec.own_counter(lv):
        out = out if sec.in_section(lv) else []
        out += ["level_in_policy_ytd", "level_paid_ytd"]
    for layer, names in (
        ("dabing", DABING_COUNTERS),
        ("assistance", ASSISTANCE_COUNTERS),
        ("tilted_assistance", TILTED_COUNTERS),
    ):
        if policy.has(layer) and setting in policy.section(layer).settings:
            out += names
    return out
