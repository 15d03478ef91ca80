"""Every ``enrollment`` acceptance case, run through the shipped policy files and the core
rules the service and the GUI use."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from core.contribution import compute, person_year_from_case
from desktop.services import policies

CASES = __import__("json").loads(
    (
        __import__("pathlib").Path(__file__).resolve().parents[1] / "data/acceptance/cases.json"
    ).read_text(encoding="utf-8")
)["enrollment"]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_enrollment_case(case):
    policy = policies.get(case["policy"])
    terms = policy.section("contribution")
    result = compute(terms, person_year_from_case(case["given"]), policy.id)
    got = result.as_dict()
    for key, want in case["expect"].items():
        if key == "amount_due":
            assert result.amount_due == Decimal(want), (key, got)
        elif key in ("benefits_from", "benefits_to"):
            assert getattr(result, key) == dt.date.fromisoformat(want), (key, got)
        else:
            assert got[key] == want, (key, got)
    # every figure names its rule and source
    for name in ("amount_due", "waiting", "benefits_from", "benefits_to"):
        assert result.reasons[name].rule and result.reasons[name].source


def test_all_enrollment_cases_are_run(acceptance_cases):
    assert [c["id"] for c in acceptance_cases["enrollment"]] == [c["id"] for c in CASES]
    assert len(CASES) >= 14
