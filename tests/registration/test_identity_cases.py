"""Every ``identity`` case of the shared acceptance file, through the code the GUI uses
(core check, the registration service and the check-id command)."""

from __future__ import annotations

import datetime as dt

import pytest

from core.errors import ValidationError
from core.ids import check_id
from desktop.cli import main
from desktop.services import registration


def _cases():
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "data" / "acceptance" / "cases.json"
    return json.loads(path.read_text(encoding="utf-8"))["identity"]


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c["id"])
def test_identity_case_core(case):
    got = check_id(case["given"])
    exp = case["expect"]
    assert got.valid is exp["valid"]
    if "reason" in exp:
        assert got.reason == exp["reason"]
        assert got.message  # a Chinese message for the clerk
    if "sex" in exp:
        assert got.sex == exp["sex"]
    if "birth_date" in exp:
        assert got.birth_date == dt.date.fromisoformat(exp["birth_date"])
    if "region" in exp:
        assert got.region == exp["region"]
    if "normalized" in exp:
        assert got.normalized == exp["normalized"]


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c["id"])
def test_identity_case_registration(case, store, clerk, village_id):
    exp = case["expect"]
    member = {"name": "测试", "cert_no": case["given"]}
    if exp["valid"]:
        done = registration.create_household(store, clerk, {"village_id": village_id}, [member])
        row = registration.get_person(store, done.person_ids[0])
        assert row["cert_no"] == check_id(case["given"]).normalized
        if "sex" in exp:
            assert row["sex"] == exp["sex"]
        if "birth_date" in exp:
            assert row["birth_date"] == exp["birth_date"]
    else:
        with pytest.raises(ValidationError) as e:
            registration.create_household(store, clerk, {"village_id": village_id}, [member])
        assert e.value.errors["members.0.cert_no"] == check_id(case["given"]).message
        assert store.query_one("SELECT COUNT(*) AS n FROM person")["n"] == 0


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c["id"])
def test_identity_case_cli(case, capsys, data_dir):
    rc = main(["--data-dir", str(data_dir), "check-id", case["given"]])
    out = capsys.readouterr().out
    assert rc == (0 if case["expect"]["valid"] else 1)
    if case["expect"]["valid"]:
        assert "有效" in out and check_id(case["given"]).normalized in out
        if "birth_date" in case["expect"]:
            assert case["expect"]["birth_date"] in out
    else:
        assert case["expect"]["reason"] in out and "无效" in out


def test_future_birth_date_and_15_digit_numbers_are_refused():
    from desktop.services.demo import make_id

    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    assert check_id(make_id("140121", tomorrow, 1, "male")).reason == "future birth date"
    assert check_id("110105491231002").reason == "length15"
