"""Core rules beyond the acceptance cases: extension period, subsidies, incentives, month
arithmetic, bad policy files, and the enroll-terms CLI."""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

from core.contribution import (
    PersonYear,
    add_months,
    compute,
    continuous_years,
    person_year_from_case,
)
from core.errors import ValidationError
from core.policy import PolicyError, parse_policy
from desktop.services import policies

ROOT = Path(__file__).resolve().parents[2]
NATIONAL = ROOT / "resources/policies/national-2025.toml"


def national(**changes) -> dict:
    data = tomllib.loads(NATIONAL.read_text(encoding="utf-8"))
    for dotted, value in changes.items():
        *path, last = dotted.split(".")
        node = data
        for k in path:
            node = node.setdefault(k, {})
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    return data


def terms(**changes):
    return parse_policy(national(**changes), "t.toml").section("contribution")


def test_add_months_clamps():
    assert add_months(dt.date(2025, 1, 31), 1) == dt.date(2025, 2, 28)
    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
    assert add_months(dt.date(2025, 11, 15), 3) == dt.date(2026, 2, 15)


def test_continuous_years():
    assert continuous_years({2021, 2022, 2023, 2025}, 2025) == 1
    assert continuous_years({2021, 2022, 2023, 2024, 2025}, 2025) == 5
    assert continuous_years(set(), 2025) == 0


def test_incentive_after_four_years_and_claim_free():
    t = terms()
    py = PersonYear(
        "ordinary",
        2025,
        dt.date(2024, 10, 1),
        last_insured_year=2024,
        continuous_years_before=5,
        claim_free_years=2,
    )
    r = compute(t, py, "national-2025")
    assert r.continuous_years == 6
    assert r.incentive_raise == Decimal("4000.00")  # (6-4)*1000 + 2*1000
    assert "连续参保6年" in r.reasons["incentive_raise"].rule
    capped = compute(terms(**{"contribution.incentive.cap_base": "10000.00"}), py)
    assert capped.incentive_raise == Decimal("2000.00")  # 20% of 10,000
    broke = compute(
        t,
        PersonYear(
            "ordinary",
            2025,
            dt.date(2024, 10, 1),
            last_insured_year=2022,
            continuous_years_before=0,
        ),
        "x",
    )
    assert broke.continuous_years == 1 and broke.incentive_raise == 0


def test_extension_benefits_from_payment_date():
    t = terms(**{"contribution.period.extension_end": "2025-02-28"})
    r = compute(t, PersonYear("ordinary", 2025, dt.date(2025, 2, 10), last_insured_year=2024))
    assert r.phase == "extension" and r.waiting_months == 0
    assert r.benefits_from == dt.date(2025, 2, 10)
    late = compute(t, PersonYear("ordinary", 2025, dt.date(2025, 3, 1), last_insured_year=2024))
    assert late.waiting_months == 3 and late.benefits_from == dt.date(2025, 6, 1)


def test_full_premium_for_late_payer_in_zaozhuang_and_exempt_list():
    zz = policies.get("zaozhuang-2022").section("contribution")
    r = compute(zz, PersonYear("ordinary", 2022, dt.date(2022, 11, 30)))
    assert r.amount_due == Decimal("900.00") and r.benefits_from == dt.date(2022, 12, 30)
    late_after_year = compute(zz, PersonYear("ordinary", 2022, dt.date(2022, 12, 15)))
    assert not late_after_year.has_benefits
    assert "超出本参保年度" in late_after_year.reasons["benefits_from"].rule


def test_subsidy_split_amounts():
    t = terms(
        **{
            "contribution.subsidy_split": {
                "source": "000 §一",
                "central": "0.6",
                "province": "0.2",
                "city_county": "0.2",
            }
        }
    )
    assert t.split_amounts() == {
        "central": Decimal("420.00"),
        "province": Decimal("140.00"),
        "city_county": Decimal("140.00"),
    }


@pytest.mark.parametrize(
    "changes, key",
    [
        ({"contribution.individual": 400.0}, "contribution.individual"),
        ({"contribution.waiting.rule": "weeks"}, "contribution.waiting.rule"),
        ({"contribution.waiting.exempt": ["martian"]}, "contribution.waiting.exempt"),
        ({"contribution.period.end": "2024-08-01"}, "contribution.period.end"),
        ({"contribution.late.owes": None}, "contribution.late.owes"),
        ({"contribution.period.typo": 1}, "contribution.period.typo"),
        (
            {
                "contribution.subsidy_split": {
                    "source": "s",
                    "central": "0.6",
                    "province": "0.2",
                    "city_county": "0.3",
                }
            },
            "contribution.subsidy_split.central",
        ),
    ],
)
def test_bad_policy_file_names_the_key(changes, key):
    with pytest.raises(PolicyError) as e:
        parse_policy(national(**changes), "bad.toml")
    assert e.value.key == key and e.value.file == "bad.toml"


def test_case_input_errors():
    with pytest.raises(ValidationError):
        person_year_from_case({"category": "ordinary", "year": 2025})
    with pytest.raises(ValidationError):
        person_year_from_case({"category": "nope", "year": 2025, "paid_on": "2025-01-01"})
    with pytest.raises(ValidationError):
        person_year_from_case({"category": "ordinary", "year": 2025, "paid_on": "2025-13-01"})


def run_cli(capsys, monkeypatch, *args, stdin=""):
    from desktop.cli import main

    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_enroll_terms(tmp_path, acceptance_cases, capsys, monkeypatch):
    d = str(tmp_path / "d")
    case = next(c for c in acceptance_cases["enrollment"] if c["id"] == "nat-06")
    f = tmp_path / "case.json"
    f.write_text(json.dumps(case["given"]), encoding="utf-8")
    code, out, err = run_cli(
        capsys,
        monkeypatch,
        "--data-dir",
        d,
        "enroll-terms",
        "--policy",
        "national-2025",
        "--input",
        str(f),
    )
    assert code == 0, err
    res = json.loads(out)
    assert res["waiting_months"] == 6 and res["benefits_from"] == "2025-08-10"
    zz = next(c for c in acceptance_cases["enrollment"] if c["id"] == "zz-02")
    code, out, err = run_cli(
        capsys,
        monkeypatch,
        "--data-dir",
        d,
        "enroll-terms",
        "--policy",
        "zaozhuang-2022",
        "--input",
        "-",
        stdin=json.dumps(zz),
    )
    assert code == 0 and json.loads(out)["amount_due"] == "900.00"
    code, out, err = run_cli(
        capsys,
        monkeypatch,
        "--data-dir",
        d,
        "enroll-terms",
        "--policy",
        "national-2025",
        "--input",
        "-",
        stdin="{not json",
    )
    assert code == 2 and "JSON" in err and out == ""
    code, out, err = run_cli(
        capsys,
        monkeypatch,
        "--data-dir",
        d,
        "enroll-terms",
        "--policy",
        "shanxi-2025",
        "--input",
        "-",
        stdin=json.dumps(zz["given"]),
    )
    # the policy by its title, in words a technician reads (no section name)
    assert code == 2 and "没有缴费标准" in err and "《山西省" in err and "contribution" not in err
