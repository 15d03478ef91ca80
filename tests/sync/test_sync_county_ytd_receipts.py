"""County → desk, end to end on the real county server + PostgreSQL:

* county year-to-date figures (``township-county import-ytd``) reach the estimator with
  their as-of time and change what it pays;
* the receipt key the county holds for a service point reaches the desk at registration,
  and ``township-county receipt verify`` checks the desk's receipt codes with it.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import openpyxl
import pytest

from core import receipt as core
from core import syncproto as sp
from county import cli as county_cli
from county import sealing
from desktop.services import contribution, estimate, receipts, registration
from desktop.services.demo import make_id
from desktop.store import syncstate as st

pytestmark = pytest.mark.postgres
ZHANG = make_id("140121", "1970-01-01", 1, "male")
LI = make_id("140121", "1972-02-02", 2, "female")


def _county_env(monkeypatch, server) -> None:
    monkeypatch.setenv("TOWNSHIP_COUNTY_DATABASE_URL", server.dsn)
    monkeypatch.setenv("TOWNSHIP_COUNTY_SIGNING_KEY", "sync-test-signing-key-0123456789abcdef0123")


def _register(desk):
    return registration.create_household(
        desk.store,
        desk.actor,
        {"village_id": desk.village(), "address": "一组"},
        [
            {"name": "张三", "sex": "male", "birth_date": "1970-01-01", "cert_no": ZHANG},
            {
                "name": "李四",
                "relation": "spouse",
                "sex": "female",
                "birth_date": "1972-02-02",
                "cert_no": LI,
            },
        ],
    ).person_ids


def test_county_ytd_reaches_the_estimator(desks, county_server, monkeypatch, tmp_path, capsys):
    a = desks("SP01", "东乡卫生院")
    zhang, li = _register(a)
    a.sync()  # the persons go up

    _county_env(monkeypatch, county_server)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(
        ["身份证号", "年度", "截至时间", sp.YTD_FIELDS["basic_paid_ytd"], "dabing_burden_ytd"]
        + [sp.YTD_FIELDS["dabing_paid_ytd"], sp.YTD_FIELDS["assistance_paid_ytd"]]
    )
    ws.append([ZHANG, 2025, "2025-06-30", "66000.00", "12000.00", "1500.00", "300.00"])
    ws.append([LI, 2025, "", "-5", "", "", ""])  # a negative amount: refused, nothing written
    ws.append(["140121197001010000", 2025, "", "1.00", "", "", ""])  # bad ID number
    path = tmp_path / "ytd.xlsx"
    wb.save(path)
    assert county_cli.main(["import-ytd", str(path)]) == 1  # rows with errors → exit 1
    out = capsys.readouterr().out
    assert "新增 1" in out and "第3行" in out and "第4行" in out
    assert county_server.sql("SELECT count(*) AS n FROM person_ytd")[0]["n"] == 1

    # nothing yet on the desk: the estimator pays as if nothing was used this year
    given = {
        "setting": "inpatient",
        "price_class": "class3",
        "admission_no": 1,
        "total": "10000.00",
        "in_policy": "10000.00",
    }
    before = estimate.year_to_date(a.store, zhang, 2025)
    assert before["county_as_of"] is None
    assert estimate.run("shanxi-2025", {**given, **before["fields"]})["hifp_pay"] == "8415.00"

    summary = a.sync()
    assert summary.applied >= 1
    ytd = estimate.year_to_date(a.store, zhang, 2025)
    assert ytd["county_as_of"] == "2025-06-30T23:59:59+08:00"
    f = ytd["fields"]
    assert f["basic_paid_ytd"] == "66000.00"
    assert f["dabing_burden_ytd"] == "12000.00"
    assert f["dabing_paid_ytd"] == "1500.00"
    assert f["assistance_paid_ytd"] == "300.00"
    assert f["outpatient_paid_ytd"] == "0.00"
    # shanxi-2025 inpatient, class3: deductible 100, ratio 0.85, yearly cap 70,000.
    # (10,000 − 100) × 0.85 = 8,415.00, but 66,000 is already paid: 70,000 − 66,000 = 4,000.00
    res = estimate.run("shanxi-2025", {**given, **f})
    assert res["act_pay_dedc"] == "100.00"
    assert res["hifp_pay"] == "4000.00"
    # audited, by the county (no operator), in the desk's hash chain
    audit = a.store.query(
        "SELECT operator_id, detail FROM audit_log WHERE action = 'estimate.ytd_set'"
    )
    assert len(audit) == 1 and audit[0]["operator_id"] is None
    assert "66000.00" in audit[0]["detail"]
    assert estimate.year_to_date(a.store, li, 2025)["county_as_of"] is None

    # a later statement for only one figure keeps the others, with the new as-of time
    (tmp_path / "ytd2.csv").write_text(
        "身份证号,年度,截至时间,本年住院统筹基金已支付\n"
        f"{ZHANG},2025,2025-07-31T18:00:00+08:00,69500.00\n",
        encoding="utf-8",
    )
    assert county_cli.main(["import-ytd", str(tmp_path / "ytd2.csv")]) == 0
    assert "更新 1" in capsys.readouterr().out
    a.sync()
    ytd = estimate.year_to_date(a.store, zhang, 2025)
    assert ytd["county_as_of"] == "2025-07-31T18:00:00+08:00"
    assert ytd["fields"]["basic_paid_ytd"] == "69500.00"
    assert ytd["fields"]["dabing_burden_ytd"] == "12000.00"
    # 70,000 − 69,500 = 500.00 left this year
    assert estimate.run("shanxi-2025", {**given, **ytd["fields"]})["hifp_pay"] == "500.00"

    # re-importing the same statement changes nothing and sends nothing
    assert county_cli.main(["import-ytd", str(tmp_path / "ytd2.csv")]) == 0
    assert "未变 1" in capsys.readouterr().out
    assert a.sync().received == 0

    # a second PC of the same point gets the figures in its first-sync snapshot
    b = type(a)(tmp_path / "second-pc", county_server, "SP01", "东乡卫生院")
    try:
        b.sync()
        b_ytd = estimate.year_to_date(b.store, zhang, 2025)
        q = "SELECT id, version, data FROM server_row WHERE entity = 'ytd'"
        assert b.store.query(q) == a.store.query(q)  # snapshot row == pulled row
    finally:
        b.close()
    assert b_ytd["county_as_of"] == "2025-07-31T18:00:00+08:00"
    assert b_ytd["fields"]["basic_paid_ytd"] == "69500.00"
    # the same person registered at another service point: merged, and the county's
    # figures follow the person there
    c = desks("SP02", "西乡卫生院")
    c.sync()  # first sync done: what follows comes by pull, not in a snapshot
    hc = registration.create_household(
        c.store,
        c.actor,
        {"village_id": c.village(), "address": "二组"},
        [{"name": "张三", "sex": "male", "birth_date": "1970-01-01", "cert_no": ZHANG}],
    )
    c.sync()
    assert st.canonical_person_id(c.store, hc.person_ids[0]) == zhang
    # another point's resident: no medical figures until the county confirms the identity
    assert estimate.year_to_date(c.store, zhang, 2025)["county_as_of"] is None
    conflict = county_server.sql("SELECT id FROM conflict WHERE kind = 'identity_confirm'")
    assert (
        county_cli.main(["conflicts", "resolve", conflict[0]["id"], "--decision", "confirm"]) == 0
    )
    c.sync()
    c_ytd = estimate.year_to_date(c.store, zhang, 2025)
    assert c_ytd["county_as_of"] == "2025-07-31T18:00:00+08:00"
    assert c_ytd["fields"]["basic_paid_ytd"] == "69500.00"
    # the mirror row equals what the county holds
    row = a.store.query_one("SELECT version, data FROM server_row WHERE entity = ?", (sp.E_YTD,))
    county = county_server.sql("SELECT version, figures, as_of FROM person_ytd")[0]
    assert row["version"] == county["version"] == 2
    assert json.loads(row["data"])["figures"] == county["figures"]


def test_ytd_waits_for_its_person(desks, county_server, monkeypatch, tmp_path, capsys):
    """Figures for a person the desk does not hold yet stay in the mirror and reach the
    estimator once the person is there; a figure the estimator refuses goes to the inbox."""
    a = desks("SP01", "东乡卫生院")
    zhang, _ = _register(a)
    a.sync()
    data = {
        "person_id": zhang,
        "year": 2025,
        "as_of": "2025-05-01T00:00:00+08:00",
        "figures": {"basic_paid_ytd": "10.00"},
    }
    other = {**data, "person_id": "not-here-yet"}
    with a.store.write() as db:
        assert st.apply_change(
            db, sp.Change(0, "service_point", sp.E_YTD, "x:2025", "upsert", 1, other)
        )
    engine_ytd = _engine(a)
    with a.store.write() as db:
        assert engine_ytd._apply_waiting_ytd(db) == 0  # person not here: waits
        assert engine_ytd._apply_ytd(db, data)
        bad = {**data, "as_of": "yesterday", "year": 2024}
        assert engine_ytd._apply_ytd(db, bad)
    assert estimate.year_to_date(a.store, zhang, 2025)["fields"]["basic_paid_ytd"] == "10.00"
    items = [i for i in st.inbox(a.store) if i["kind"] == "ytd_error"]
    assert len(items) == 1 and "ISO 8601" in items[0]["title"]
    assert estimate.year_to_date(a.store, zhang, 2024)["county_as_of"] is None


def _engine(desk):
    from desktop.services import sync as svc

    return svc.engine_for(desk.store, desk.data_dir, desk.actor)


def test_receipt_key_from_county_and_county_verify(desks, county_server, monkeypatch, capsys):
    a = desks("SP01", "东乡卫生院")
    # the county's key for SP01 arrived with the registration and is in use (audited)
    key = county_server.sql(
        "SELECT k.key_id, k.key_hex FROM receipt_key k JOIN service_point s ON s.id = k.sp_id"
        " WHERE s.code = 'SP01'"
    )[0]
    assert key["key_id"] == "C-SP01"
    assert sealing.is_sealed(key["key_hex"])  # sealed at rest in the county's database
    key["key_hex"] = sealing.unseal(key["key_hex"])
    assert receipts.mac_key(a.store) == ("C-SP01", bytes.fromhex(key["key_hex"]))
    audit = a.store.query(
        "SELECT operator_id, detail FROM audit_log WHERE action = 'receipt.mac_key_county'"
    )
    assert len(audit) == 1 and audit[0]["operator_id"] == a.actor.operator_id
    assert key["key_hex"] not in audit[0]["detail"]  # only a fingerprint is logged

    _county_env(monkeypatch, county_server)
    assert county_cli.main(["receipt", "show-key", "--service-point", "SP01"]) == 0
    shown = capsys.readouterr().out
    assert "C-SP01" in shown and key["key_hex"] in shown
    assert county_cli.main(["receipt", "show-key", "--service-point", "SP09"]) == 2

    zhang, _ = _register(a)
    paid = contribution.record_payment(
        a.store,
        a.actor,
        {
            "person_id": zhang,
            "year": 2025,
            "amount": "400",
            "channel": "cash",
            "paid_on": "2024-10-10",
        },
        today=dt.date(2025, 3, 20),
    )
    no = paid["receipt_no"]
    assert no.startswith("SP01-")  # numbering untouched by the key
    prepared = receipts.prepare(a.store, a.actor, "receipt", no)
    assert prepared.pdf.startswith(b"%PDF")
    code = receipts.build_document(a.store, "receipt", no, copy_no=1).qr_payload
    assert code.split("|")[4] == "C-SP01"
    assert receipts.verify(a.store, code)["ok"]

    _county_env(monkeypatch, county_server)
    # before the desk syncs: the code is genuine, the county has no payment yet
    assert county_cli.main(["receipt", "verify", code]) == 0
    assert "县里尚未收到" in capsys.readouterr().out
    a.sync()
    assert county_cli.main(["receipt", "verify", code, "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["ok"] and r["on_file"] and r["receipt_no"] == no and r["amount"] == "400.00"
    assert r["service_point"].startswith("SP01")

    prefix, rno, amount, date, key_id, mac = code.split("|")
    changed = "|".join([prefix, rno, "4000.00", date, key_id, mac])
    assert county_cli.main(["receipt", "verify", changed]) == 1
    assert "校验失败" in capsys.readouterr().out
    # a code signed with some other key id (e.g. a desk's own local key) is not accepted
    local = core.verification_payload(
        b"k" * 32, "L-SP01-01", receipt_no=rno, amount=Decimal(amount), date=date
    )
    assert county_cli.main(["receipt", "verify", local]) == 1
    assert "没有密钥" in capsys.readouterr().out
    # a code with the right key whose amount differs from the county's payment record
    forged = core.verification_payload(
        bytes.fromhex(key["key_hex"]), "C-SP01", receipt_no=rno, amount=Decimal("40.00"), date=date
    )
    assert county_cli.main(["receipt", "verify", forged]) == 1
    assert "不一致" in capsys.readouterr().out


def test_receipts_made_before_the_county_key_still_verify_here(store, admin):
    """A desk that printed receipts with its own local key before registering keeps
    checking them after the county key is installed."""
    key_id, local_key = receipts.mac_key(store, operator_id=admin.operator_id)
    assert key_id.startswith("L-")
    old = core.verification_payload(
        local_key,
        key_id,
        receipt_no="SP01-01-00000001",
        amount=Decimal("400.00"),
        date="2025-01-02",
    )
    county_key = "ab" * 32
    assert receipts.install_county_key(store, "C-SP01", county_key, operator_id=None)
    assert not receipts.install_county_key(store, "C-SP01", county_key)  # already in use
    assert receipts.mac_key(store) == ("C-SP01", bytes.fromhex(county_key))
    assert receipts.verify(store, old)["ok"]
    with pytest.raises(Exception, match="密钥"):
        receipts.install_county_key(store, "C-SP01", "short")


def test_protocol_ytd_fields_are_the_estimators():
    assert sp.YTD_FIELDS == estimate.YTD_FIELDS
