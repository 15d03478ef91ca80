"""因病返贫 warnings at the county (issue 16): a desk's warning about its own resident is kept
once per person and year and listed in the console (masked ID); a warning about another
service point's resident is refused and logged; hostile payloads are refused in words; a
case worker marks a warning handed to civil affairs (CSRF, audit), a read-only one cannot."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest

from core import syncproto as sp
from core.ids import mask_id
from county.console.auth import create_staff

pytestmark = pytest.mark.postgres


def _alert(person_id: str, **kw) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "person_id": person_id,
        "year": 2025,
        "category": "monitored",
        "burden": "6300.00",
        "threshold": "5000.00",
        "basis": "本机已结算的测算",
        "created_at": "2025-06-01T10:00:00+08:00",
        **kw,
    }


def _login(county, username, password):
    return county.console_login(username, password, "/console/alerts")


def test_alerts_kept_scoped_listed_and_handed(two_points, person_payload, make_id):
    a, b = two_points
    county = a.county
    pid = str(uuid.uuid4())
    cert = make_id(seq=55)
    assert (
        a.push_ok([a.op("person.create", pid, person_payload(cert, name="张监测"))])[0]["status"]
        == sp.ST_APPLIED
    )
    first = _alert(pid)
    r = a.push_ok([a.op("poverty_alert.raise", first["id"], first)])[0]
    assert r["status"] == sp.ST_APPLIED
    again = _alert(pid)  # the same person and year again: kept once
    assert a.push_ok([a.op("poverty_alert.raise", again["id"], again)])[0]["status"] == (
        sp.ST_DUPLICATE
    )
    foreign = _alert(pid)  # point B has no such resident
    r = b.push_ok([b.op("poverty_alert.raise", foreign["id"], foreign)])[0]
    assert r["status"] == sp.ST_REJECTED and r["code"] == sp.R_SCOPE
    assert (
        county.sql("SELECT count(*) AS n FROM security_event WHERE kind = 'forbidden_scope'")[0][
            "n"
        ]
        == 1
    )
    for bad in (
        _alert(pid, burden="lots"),
        _alert(pid, burden="-1"),
        _alert(pid, category="'; DROP TABLE person; --"),
        {k: v for k, v in _alert(pid).items() if k != "threshold"},
    ):
        r = a.push_ok([a.op("poverty_alert.raise", bad["id"], bad)])[0]
        assert r["status"] == sp.ST_REJECTED and r["message"], bad
    assert county.sql("SELECT count(*) AS n FROM poverty_alert")[0]["n"] == 1

    with county.conn() as c, c.transaction():
        create_staff(c, "case", "王经办", "clerk", "clerk-pass-1")
        create_staff(c, "look", "赵科员", "viewer", "viewer-pass-1")
    page, token = _login(county, "case", "clerk-pass-1")
    assert "张监测" in page.text and cert not in page.text and mask_id(cert) in page.text
    assert "6300.00" in page.text and "东乡卫生院" in page.text
    # the list for civil affairs: the whole ID number 民政 needs, and the export audited
    assert 'id="export"' in page.text
    got = county.client.get("/console/alerts/export?state=open")
    assert got.status_code == 200
    assert "filename*=UTF-8''" in got.headers["content-disposition"]
    sheet = _sheet(got.content)
    assert sheet[0][:3] == ["姓名", "身份证号", "服务点"]
    assert sheet[1][:3] == ["张监测", cert, "东乡卫生院"] and sheet[1][6:8] == [
        "6300.00",
        "5000.00",
    ]
    received = county.sql("SELECT received_at FROM poverty_alert")[0]["received_at"]
    china = received.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")
    assert sheet[1][4] == "防止返贫监测对象" and sheet[1][9] == china  # words, China time
    exported = county.sql(
        "SELECT s.username, a.detail FROM staff_audit a JOIN staff s ON s.id = a.staff_id"
        " WHERE a.action = 'alert.export'"
    )
    assert exported == [{"username": "case", "detail": {"rows": 1}}]
    url = f"/console/alerts/{first['id']}/hand"
    assert county.client.post(url, data={"note": "x", "csrf": "forged"}).status_code == 403
    r = county.client.post(url, data={"note": "<b>已电话通知</b>", "csrf": token})
    assert r.status_code == 200 and "张监测" not in r.text  # no longer waiting
    handed = county.client.get("/console/alerts?state=handed").text
    assert "已推送" in handed and "<b>已电话通知" not in handed
    assert "王经办" in handed  # who handed it over, by name (the account's, not its log-in)
    sheet = _sheet(county.client.get("/console/alerts/export?state=handed").content)
    assert sheet[1][10].startswith("已推送（") and sheet[1][10].endswith("，王经办）")
    assert county.sql("SELECT handed_by FROM poverty_alert")[0]["handed_by"] == "case"
    assert county.sql("SELECT action FROM staff_audit WHERE action = 'alert.hand_over'")
    county.client.cookies.clear()
    page = county.client.get("/console/login")
    token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
    county.client.post(
        "/console/login",
        data={"username": "look", "password": "viewer-pass-1", "login_token": token},
    )
    assert county.client.get("/console/alerts").status_code == 403
    assert county.client.get("/console/alerts/export").status_code == 403
    assert len(county.sql("SELECT 1 FROM staff_audit WHERE action = 'alert.export'")) == 2


def _sheet(data: bytes) -> list[list[str]]:
    import io

    import openpyxl

    ws = openpyxl.load_workbook(io.BytesIO(data), read_only=True).active
    return [["" if c is None else str(c) for c in row] for row in ws.iter_rows(values_only=True)]
