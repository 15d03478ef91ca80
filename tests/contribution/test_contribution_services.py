"""Payments at the window: recording, refusals that write nothing, voids/refunds with a
supervisor, status per year, campaign list and exports, county confirmations."""

from __future__ import annotations

import csv
import datetime as dt
import json

import pytest
from openpyxl import load_workbook

from core import rowids
from core.errors import ValidationError
from desktop.services import contribution as svc
from desktop.services.context import PermissionDenied
from desktop.store.cipher import sqlite3

TODAY = dt.date(2025, 3, 20)


def pay(store, clerk, pid, **kw):
    fields = {
        "person_id": pid,
        "year": 2025,
        "amount": "400",
        "channel": "cash",
        "paid_on": "2024-10-10",
        **kw,
    }
    return svc.record_payment(store, clerk, fields, today=TODAY)


def test_record_payment_in_period(store, clerk, household):
    out = pay(store, clerk, household["ids"][0])
    assert out["receipt_no"].startswith("SP01-01-")
    t = out["terms"]
    assert t["amount_due"] == "400.00" and t["benefits_from"] == "2025-01-01"
    assert t["benefits_to"] == "2025-12-31" and t["waiting_months"] == 0
    ops = [r["op_type"] for r in store.query("SELECT op_type FROM outbox ORDER BY device_seq")]
    assert ops[-2:] == ["enrollment.create", "payment.record"]
    enr = store.query_one("SELECT * FROM enrollment WHERE person_id = ?", (household["ids"][0],))
    assert enr["amount_due"] == "400.00" and enr["benefits_from"] == "2025-01-01"
    st = svc.status_years(store, household["ids"][0], today=TODAY)
    y = next(r for r in st["years"] if r["year"] == 2025)
    assert y["status"] == "local" and y["status_label"] == "已缴（待县级确认）"
    assert y["channel_label"] == "现金" and y["receipt_no"] == out["receipt_no"]


def test_residents_enrollments_and_payments_carry_the_points_county_in_their_ids(
    store, clerk, household
):
    """The county server reads such a row in its county first (core.rowids)."""
    pid = household["ids"][0]
    out = pay(store, clerk, pid)
    enr = store.query_one("SELECT id FROM enrollment WHERE person_id = ?", (pid,))
    ops = store.query(
        "SELECT entity_id FROM outbox WHERE op_type IN ('person.create', 'enrollment.create',"
        " 'payment.record')"
    )
    made = {*household["ids"], enr["id"], out["payment"]["id"]}
    assert made <= {o["entity_id"] for o in ops}
    assert {rowids.region_in(i) for i in made} == {"140121"}  # the admin fixture's code
    # a household is not partitioned on the county: its id stays as it was
    assert rowids.region_in(household["household_id"]) is None


def test_late_payment_waits_three_months(store, clerk, household):
    out = pay(store, clerk, household["ids"][1], paid_on="2025-03-15")
    assert out["terms"]["waiting_months"] == 3
    assert out["terms"]["benefits_from"] == "2025-06-15"
    st = svc.status_years(store, household["ids"][1], today=TODAY)
    y = next(r for r in st["years"] if r["year"] == 2025)
    assert y["in_waiting"] and y["waiting_until"] == "2025-06-14"


@pytest.mark.parametrize(
    "kw, field, words",
    [
        ({"amount": "350"}, "amount", "应缴 400.00 元"),
        ({"amount": "-400"}, "amount", "不能为负数"),
        ({"amount": "四百"}, "amount", "不是数字"),
        ({"amount": ""}, "amount", "请输入"),
        ({"paid_on": "2025-04-01"}, "paid_on", "晚于今天"),
        ({"paid_on": "2025-02-30"}, "paid_on", "不是有效日期"),
        ({"paid_on": "2024-08-01"}, "paid_on", "早于收费开始日"),
        ({"year": 2031}, "year", "没有可用的缴费政策"),
        ({"year": "二〇二五"}, "year", "无效"),
        ({"channel": "card"}, "channel", "缴费方式"),
        ({"person_id": "nobody"}, "person_id", "找不到"),
    ],
)
def test_bad_input_writes_nothing(store, clerk, household, counts, kw, field, words):
    before = counts(store)
    with pytest.raises(ValidationError) as e:
        pay(store, clerk, household["ids"][0], **kw)
    assert words in e.value.errors[field]
    assert counts(store) == before


def test_double_payment_refused(store, clerk, household, counts):
    first = pay(store, clerk, household["ids"][0])
    before = counts(store)
    with pytest.raises(ValidationError) as e:
        pay(store, clerk, household["ids"][0], paid_on="2024-11-11")
    assert (
        "不能重复缴费" in e.value.errors["year"] and first["receipt_no"] in e.value.errors["year"]
    )
    assert counts(store) == before


def test_subsidized_persons(store, clerk, household, counts):
    tekun, dibao = household["ids"][2], household["ids"][3]
    before = counts(store)
    with pytest.raises(ValidationError) as e:
        pay(store, clerk, tekun)
    assert "全额代缴" in e.value.errors["amount"]
    assert counts(store) == before
    y = next(r for r in svc.status_years(store, tekun, today=TODAY)["years"] if r["year"] == 2025)
    assert y["status"] == "subsidized"
    # 低保: fixed 240 by the department, the person pays 160
    with pytest.raises(ValidationError) as e:
        pay(store, clerk, dibao)
    assert "应缴 160.00 元" in e.value.errors["amount"]
    out = pay(store, clerk, dibao, amount="160.00")
    assert out["terms"]["subsidized_amount"] == "240.00"


def test_void_needs_supervisor_and_reason_and_keeps_row(store, clerk, admin, household, counts):
    out = pay(store, clerk, household["ids"][0])
    pid = out["payment"]["id"]
    before = counts(store)
    with pytest.raises(ValidationError):
        svc.void_payment(store, clerk, pid, reason="收错", supervisor=None)
    with pytest.raises(PermissionDenied):
        svc.void_payment(store, clerk, pid, reason="收错人了", supervisor=clerk)
    with pytest.raises(ValidationError) as e:
        svc.void_payment(store, clerk, pid, reason=" ", supervisor=admin)
    assert "原因" in e.value.errors["reason"]
    assert counts(store) == before
    svc.void_payment(store, clerk, pid, reason="收错人了", supervisor=admin)
    row = store.query_one("SELECT * FROM payment WHERE id = ?", (pid,))
    assert row["status"] == "voided" and row["supervisor_id"] == admin.operator_id
    assert row["void_reason"] == "收错人了"
    ops = [r["op_type"] for r in store.query("SELECT op_type FROM outbox ORDER BY device_seq")]
    assert "payment.void" in ops
    with pytest.raises(sqlite3.DatabaseError, match="never deleted"):
        store.conn.execute("DELETE FROM payment WHERE id = ?", (pid,))
    y = next(
        r
        for r in svc.status_years(store, household["ids"][0], today=TODAY)["years"]
        if r["year"] == 2025
    )
    assert y["status"] == "unpaid"
    # after a void the year can be paid again, with a new receipt number
    again = pay(store, clerk, household["ids"][0])
    assert again["receipt_no"] != out["receipt_no"]


def test_confirmed_payment_refund_not_void(store, clerk, admin, household):
    out = pay(store, clerk, household["ids"][0])
    res = svc.apply_county_confirmations(
        store,
        [
            {
                "receipt_no": out["receipt_no"],
                "confirmed_at": "2025-01-05T10:00:00+08:00",
                "ref": "TAX-1",
            },
            {"receipt_no": "SP01-01-99999999"},
        ],
    )
    assert res["confirmed"] == [out["payment"]["id"]] and res["not_found"] == ["SP01-01-99999999"]
    again = svc.apply_county_confirmations(store, [{"payment_id": out["payment"]["id"]}])
    assert again["already"] == [out["payment"]["id"]]
    y = next(
        r
        for r in svc.status_years(store, household["ids"][0], today=TODAY)["years"]
        if r["year"] == 2025
    )
    assert y["status"] == "confirmed"
    with pytest.raises(ValidationError) as e:
        svc.void_payment(store, clerk, out["payment"]["id"], reason="收错了", supervisor=admin)
    assert "退费" in e.value.errors["payment_id"]
    svc.void_payment(
        store, clerk, out["payment"]["id"], reason="重复参保退费", supervisor=admin, refund=True
    )
    assert store.query_one("SELECT status FROM payment")["status"] == "refunded"


def test_campaign_and_exports(store, clerk, household, tmp_path):
    pay(store, clerk, household["ids"][0])
    res = svc.campaign(store, year=2025, village_id=household["village_id"], today=TODAY)
    names = [r["name"] for r in res["rows"]]
    assert names == ["李四", "张小低"]  # 张三 paid, 孙五 fully subsidized
    assert res["unpaid_count"] == 2 and res["subsidized_count"] == 1 and res["paid_count"] == 1
    assert res["total_due"] == "560.00"  # 400 + 160
    hh = svc.campaign(store, year=2025, household_id=household["household_id"], today=TODAY)
    assert hh["unpaid_count"] == 2
    nopol = svc.campaign(store, year=2030, village_id=household["village_id"], today=TODAY)
    assert nopol["unpaid_count"] == 4 and "未发布" in nopol["message"]
    c = svc.export_csv(res, tmp_path / "a.csv")
    lines = list(csv.reader(c.open(encoding="utf-8-sig")))
    assert lines[0][3] == "姓名" and lines[1][3] == "李四" and lines[1][-1] == "400.00"
    assert "*" in lines[1][4]
    x = svc.export_xlsx(res, tmp_path / "a.xlsx")
    ws = load_workbook(x).active
    assert ws["D2"].value == "李四" and float(ws["K3"].value) == 160.0
    with pytest.raises(ValidationError):
        svc.campaign(store, year=2025, today=TODAY)


def test_sync_banner(store):
    assert "尚未与县医保局同步" in svc.sync_banner(store)
    now = dt.datetime(2025, 3, 20, 12, 0, tzinfo=dt.UTC)
    store.set_setting("last_sync_at", "2025-03-20T11:00:00+00:00")
    assert svc.sync_banner(store, now=now) is None
    store.set_setting("last_sync_at", "2025-03-17T11:00:00+00:00")
    assert svc.sync_banner(store, now=now).startswith("县级数据截至 2025-03-17")


def test_terms_json_carries_reasons(store, clerk, household):
    pay(store, clerk, household["ids"][1], paid_on="2025-03-15")
    enr = store.query_one("SELECT terms_json FROM enrollment")
    reasons = json.loads(enr["terms_json"])["reasons"]
    assert "固定等待期3个月" in reasons["waiting"]["rule"]
    assert "38号" in reasons["waiting"]["source"]


def test_terminated_person_refused(store, clerk, household, counts):
    store.conn.execute("UPDATE person SET status = 3 WHERE id = ?", (household["ids"][1],))
    before = counts(store)
    with pytest.raises(ValidationError) as e:
        pay(store, clerk, household["ids"][1])
    assert "终止参保" in e.value.errors["person_id"]
    assert counts(store) == before


def test_newborn_covered_from_birth(store, clerk, household):
    from desktop.services import registration

    pid = registration.add_person(
        store,
        clerk,
        household["household_id"],
        {
            "name": "张新生",
            "relation": "son",
            "cert_type": "birth_cert",
            "cert_no": "O140123999",
            "sex": "male",
            "birth_date": "2025-03-01",
            "insured_category": "newborn",
        },
        today=TODAY,
    )
    assert rowids.region_in(pid) == "140121"  # an added member's id carries it too
    out = pay(store, clerk, pid, paid_on="2025-03-20")
    assert out["terms"]["benefits_from"] == "2025-03-01" and out["terms"]["waiting"] == 0
    camp = svc.campaign(store, year=2025, village_id=household["village_id"], today=TODAY)
    assert "张新生" not in [r["name"] for r in camp["rows"]]


def test_year_confirmed_by_county_without_local_payment(store, household):
    # as the sync projects it: an enrollment paid elsewhere, confirmed by the county
    store.conn.execute(
        "INSERT INTO enrollment(id, person_id, year, insured_category, created_at, updated_at,"
        " origin, county_confirmed_at, benefits_from, benefits_to) VALUES"
        " ('e-county', ?, 2025, 'ordinary', 'x', 'x', 'county', '2025-01-03', '2025-01-01',"
        " '2025-12-31')",
        (household["ids"][1],),
    )
    y = next(
        r
        for r in svc.status_years(store, household["ids"][1], today=TODAY)["years"]
        if r["year"] == 2025
    )
    assert y["status"] == "confirmed" and y["benefits_from"] == "2025-01-01"
    camp = svc.campaign(store, year=2025, village_id=household["village_id"], today=TODAY)
    assert "李四" not in [r["name"] for r in camp["rows"]] and camp["paid_count"] == 1


def test_quote_refuses_dates_outside_collection(store, household):
    pid = household["ids"][0]
    q = svc.quote(store, pid, 2025, "2024-10-10", today=TODAY)
    assert q["amount_due"] == "400.00" and q["phase_label"] == "集中参保期内"
    with pytest.raises(ValidationError) as e:
        svc.quote(store, pid, 2025, "2024-08-31", today=TODAY)
    assert "早于收费开始日" in e.value.errors["paid_on"]
    with pytest.raises(ValidationError) as e:
        svc.quote(store, pid, 2025, "2026-01-05", today=dt.date(2026, 2, 1))
    assert "已结束" in e.value.errors["year"]
    y = next(
        r
        for r in svc.status_years(store, pid, today=dt.date(2026, 2, 1))["years"]
        if r["year"] == 2025
    )
    assert y["status"] == "unpaid" and "已结束" in y["note"]


def test_back_payment_repairs_the_wait(store, clerk, household, data_dir, counts):
    from desktop.services import policies

    pid = household["ids"][1]
    store.conn.execute(  # insured in 2021 (confirmed by the county), then a break 2022-2024
        "INSERT INTO enrollment(id, person_id, year, insured_category, created_at, updated_at,"
        " county_confirmed_at) VALUES ('e21', ?, 2021, 'ordinary', 'x', 'x', '2021-01-02')",
        (pid,),
    )
    before = counts(store)
    with pytest.raises(ValidationError) as e:  # the shipped file sets no back-payment standard
        pay(store, clerk, pid, paid_on="2025-02-10", back_years=2)
    assert "未规定断保补缴标准" in e.value.errors["back_years"]
    # the county's own file adds one
    text = (policies.shipped_dir() / "national-2025.toml").read_text(encoding="utf-8")
    (data_dir / "policies").mkdir()
    (data_dir / "policies" / "national-2025.toml").write_text(
        text + '\n[contribution.back_payment]\nsource = "县级补缴规定（测试）"\n'
        'per_year = "individual"\nmax_years = 3\n',
        encoding="utf-8",
    )
    with pytest.raises(ValidationError) as e:
        pay(store, clerk, pid, paid_on="2025-02-10", back_years=4)
    assert "最多补缴3年" in e.value.errors["back_years"]
    with pytest.raises(ValidationError) as e:
        pay(store, clerk, pid, paid_on="2025-02-10", back_years=2)
    assert (
        "应缴 1200.00 元" in e.value.errors["amount"] and "断保补缴2年" in e.value.errors["amount"]
    )
    with pytest.raises(ValidationError) as e:
        pay(store, clerk, pid, paid_on="2025-02-10", back_years="x")
    assert "补缴年数" in e.value.errors["back_years"]
    assert counts(store) == before
    q = svc.quote(store, pid, 2025, "2025-02-10", today=TODAY, back_years=2)
    assert q["total_due"] == "1200.00" and q["waiting_months"] == 3
    out = pay(store, clerk, pid, paid_on="2025-02-10", back_years=2, amount="1200")
    assert out["terms"]["benefits_from"] == "2025-05-10"  # 5 months repaired to 3 (nat-05)
    row = store.query_one("SELECT back_years, back_amount, amount FROM payment")
    assert row == {"back_years": 2, "back_amount": "800.00", "amount": "1200.00"}
    policies.clear_cache()
