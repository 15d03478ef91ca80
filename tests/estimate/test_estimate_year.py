"""A year of bills (issue 13 item 7): the CLI ``estimate --year``, the service behind it, and
the property that settling bills one by one at the desk (save, mark settled, the next bill
taking the person's year-to-date figures) gives what settling them as a year gives."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal as D
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import ValidationError
from desktop.cli import main as cli_main
from desktop.services import estimate as svc
from desktop.services import estimate_year

HERE = Path(__file__).resolve().parent
LEVELS = (HERE / "test_estimate_levels_fixed.py").read_text(encoding="utf-8")
POLICY = LEVELS[LEVELS.index("[policy]") : LEVELS.index('"""\n)')]
POLICY = POLICY.replace('id = "levels-test"', 'id = "year-test"')
POLICY += """
[dabing]
source = "大病保险"
settings = ["inpatient", "chronic"]
deductible = "10000.00"
segment_basis = "above_deductible"
burden_includes_basic_deductible = true
cap = "300000.00"

[[dabing.segments]]
from = "0.00"
ratio = "0.60"

[assistance]
source = "医疗救助"
base = "after_dabing"
base_scope = "in_policy"
deductible_yearly = true

[[assistance.terms]]
categories = ["dibao", "tekun"]
deductible = "1000.00"
yearly_limit = "30000.00"
source = "低保、特困救助"

[[assistance.terms.bands]]
from = "0.00"
to = "10000.00"
ratio = "0.70"

[[assistance.terms.bands]]
from = "10000.00"
ratio = "0.80"
"""


@pytest.fixture
def year_dir(data_dir):
    (data_dir / "policies").mkdir(exist_ok=True)
    (data_dir / "policies" / "year-test.toml").write_text(POLICY, encoding="utf-8")
    return data_dir


def test_cli_settles_a_year_in_date_order(year_dir, tmp_path, capsys):
    """Three stays given out of order: settled 1 Jan → 2 Mar → 1 Jul, the admission number and
    the counters carried. County stay 8,000: (8000 − 600) × 80% = 5,920; delivery 800; a
    second county stay of 150,000: 149,400 × 80% = 119,520 → the cap leaves 100,000 − 5,920 =
    94,080 (the delivery counts apart)."""
    bills = {
        "policy": "year-test",
        "bills": [
            {"date": "2025-03-02", "setting": "inpatient", "level": "delivery", "total": "3000"},
            {"date": "2025-01-01", "setting": "inpatient", "level": "county", "total": "8000"},
            {"date": "2025-07-01", "setting": "inpatient", "level": "county", "total": "150000"},
        ],
    }
    f = tmp_path / "year.json"
    f.write_text(json.dumps(bills), encoding="utf-8")
    assert cli_main(["--data-dir", str(year_dir), "estimate", "--year", str(f)]) == 0
    out = json.loads(capsys.readouterr().out)
    got = [(b["date"], b["result"]["hifp_pay"], b["input"]["admission_no"]) for b in out["bills"]]
    assert got == [
        ("2025-01-01", "5920.00", 1),
        ("2025-03-02", "800.00", 2),
        ("2025-07-01", "94080.00", 3),
    ]
    assert out["totals"]["hifp_pay"] == "100800.00"
    assert out["end"]["fields"]["basic_paid_ytd"] == "100000.00"
    assert out["end"]["admissions"] == 3


def test_bad_year_files_say_which_bill(year_dir, tmp_path, capsys):
    f = tmp_path / "bad.json"
    f.write_text(
        json.dumps({"policy": "year-test", "bills": [{"setting": "inpatient", "level": "x"}]}),
        encoding="utf-8",
    )
    assert cli_main(["--data-dir", str(year_dir), "estimate", "--year", str(f)]) == 1
    errors = json.loads(capsys.readouterr().out)["errors"]
    assert list(errors) == ["bills[0].level"] and "不在本政策中" in errors["bills[0].level"]
    with pytest.raises(ValidationError) as e:
        estimate_year.run_year(
            "year-test", {"bills": [], "start": {"basic_paid": "1"}}, data_dir=year_dir
        )
    assert "start.basic_paid" in e.value.errors
    with pytest.raises(ValidationError) as e:
        estimate_year.run_year(
            "year-test", {"bills": [{"layer": "dabing", "burden": "1"}]}, data_dir=year_dir
        )
    assert "bills[0].layer" in e.value.errors


@pytest.fixture
def desk(store, year_dir):
    from desktop.services.demo import seed_demo

    clerk = seed_demo(store)
    person = store.query_one("SELECT id FROM person ORDER BY name LIMIT 1")["id"]
    return store, clerk, person, year_dir


BILL = st.one_of(
    st.builds(
        lambda lv, c: {"setting": "chronic", "level": lv, "in_policy": f"{D(c).scaleb(-2)}"},
        st.sampled_from(["hypertension", "diabetes"]),
        st.integers(0, 150_000),
    ),
    st.builds(
        lambda lv, c, days: {
            "setting": "inpatient",
            "level": lv,
            "total": f"{D(c).scaleb(-2)}",
            **({"days": days} if lv == "psychiatric" else {}),
        },
        st.sampled_from(["county", "delivery", "psychiatric"]),
        st.integers(0, 8_000_000),
        st.integers(1, 90),
    ),
)
_years = iter(range(2030, 2100))


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    bills=st.lists(BILL, min_size=1, max_size=6), category=st.sampled_from(["ordinary", "dibao"])
)
def test_one_by_one_at_the_desk_equals_the_year(desk, bills, category):
    store, clerk, person, data_dir = desk
    year = next(_years)
    one_by_one = []
    for b in bills:
        ytd = svc.year_to_date(store, person, year)
        given_ = {**b, **ytd["fields"], "category": category}
        lv = ytd["levels"].get(f"{b['setting']}/{b['level']}", {})
        given_.update(lv)
        if b["setting"] == "inpatient":
            given_["admission_no"] = ytd["next_admission_no"]
        saved = svc.save(
            store,
            clerk,
            policy_id="year-test",
            given=given_,
            person_id=person,
            year=year,
            data_dir=data_dir,
        )
        svc.mark_settled(store, clerk, saved["id"])
        one_by_one.append(saved["result"])
    whole = estimate_year.run_year(
        "year-test", [{**b, "category": category} for b in bills], data_dir=data_dir
    )
    keys = ("hifp_pay", "hifmi_pay", "maf_pay", "fund_pay_sumamt", "psn_part_amt")
    assert [{k: r[k] for k in keys} for r in one_by_one] == [
        {k: b["result"][k] for k in keys} for b in whole["bills"]
    ]
    again = estimate_year.person_year(store, person, year)
    assert [b["saved_fund"] for b in again["bills"]] == [r["fund_pay_sumamt"] for r in one_by_one]
    assert again["totals"] == whole["totals"]
    # no cap exceeded across the year
    t = {k: D(v) for k, v in whole["end"]["fields"].items()}
    assert t["basic_paid_ytd"] <= D("100000") and t["chronic_paid_ytd"] <= D("480")
    assert t["dabing_paid_ytd"] <= D("300000") and t["assistance_paid_ytd"] <= D("30000")
    for key, lv in whole["end"]["levels"].items():
        cap = {"chronic/hypertension": "240", "chronic/diabetes": "360"}.get(key)
        if cap:
            assert D(lv["level_paid_ytd"]) <= D(cap)
    shutil.rmtree(data_dir / "exports", ignore_errors=True)
