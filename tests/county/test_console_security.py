"""The county console's doors (issue 15): nothing without a session, nothing beyond the
role, no form without its CSRF token, sessions that end, log-in failures limited and the
account locked, and hostile text shown and exported inertly."""

from __future__ import annotations

import io
import re

import pytest

from county.console.auth import create_staff

pytestmark = pytest.mark.postgres

PAGES = [
    "/console/",
    "/console/devices",
    "/console/conflicts",
    "/console/reports",
    "/console/conflicts/x",
    "/console/reports/export?table=points",
    "/console/imports",
    "/console/policies",
    "/console/points/SP01",
    "/console/alerts",
]
FORMS = [
    "/console/devices/code",
    "/console/devices/disable",
    "/console/conflicts/x/resolve",
    "/console/logout",
    "/console/imports/try",
    "/console/imports/apply",
    "/console/policies/check",
    "/console/policies/publish",
    "/console/reports/refresh",
    "/console/alerts/x/hand",
]
PASSWORDS = {"boss": "admin-pass-1", "case": "clerk-pass-1", "look": "viewer-pass-1"}


@pytest.fixture
def staff(county):
    with county.conn() as c, c.transaction():
        create_staff(c, "boss", "李局长", "admin", PASSWORDS["boss"])
        create_staff(c, "case", "王经办", "clerk", PASSWORDS["case"])
        create_staff(c, "look", "赵科员", "viewer", PASSWORDS["look"])
    return county


def login(county, username: str, password: str | None = None):
    client = county.client
    client.cookies.clear()
    page = client.get("/console/login")
    token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
    return client.post(
        "/console/login",
        data={
            "username": username,
            "password": password or PASSWORDS[username],
            "login_token": token,
        },
        follow_redirects=False,
    )


def csrf_of(county) -> str:
    page = county.client.get("/console/reports")
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def test_nothing_without_a_session(staff):
    c = staff.client
    c.cookies.clear()
    for path in PAGES:
        r = c.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/console/login", path
    for path in FORMS:
        assert c.post(path, data={"csrf": "x"}, follow_redirects=False).status_code == 403, path
    assert c.get("/console/login").status_code == 200


def test_roles_and_csrf(staff):
    assert login(staff, "look").status_code == 303
    c = staff.client
    assert c.get("/console/reports").status_code == 200
    refused = c.get("/console/devices")
    assert refused.status_code == 403
    # a console page with the person's menu and its style, saying what to do, not a bare
    # unstyled message (its style sheet was once asked for outside the console)
    assert 'href="/console/static/console.css"' in refused.text
    assert 'href="/console/reports"' in refused.text and "退出" in refused.text
    assert "只读的账号不能打开这一页" in refused.text and "管理员" in refused.text
    assert c.get("/console/conflicts").status_code == 403
    assert c.get("/console/points/SP01").status_code == 403
    token = csrf_of(staff)
    assert c.post("/console/devices/code", data={"csrf": token}).status_code == 403
    login(staff, "case")
    token = csrf_of(staff)
    assert c.get("/console/conflicts").status_code == 200
    assert (
        c.post("/console/devices/code", data={"csrf": token, "service_point": "SP01"}).status_code
        == 403
    )
    login(staff, "boss")
    staff.service_point("SP01", "东乡卫生院")
    token = csrf_of(staff)
    assert c.post("/console/devices/code", data={"service_point": "SP01"}).status_code == 403
    assert (
        c.post(
            "/console/devices/code", data={"csrf": "forged", "service_point": "SP01"}
        ).status_code
        == 403
    )
    ok = c.post("/console/devices/code", data={"csrf": token, "service_point": "SP01"})
    assert ok.status_code == 200 and re.search(r'id="code">[A-Z0-9-]{8,}<', ok.text)
    audit = staff.sql(
        "SELECT s.username, a.action FROM staff_audit a JOIN staff s ON s.id = a.staff_id"
    )
    assert {"username": "boss", "action": "device_code.issue"} in audit
    # the login form itself: a missing double-submit token is refused
    c.cookies.clear()
    r = c.post("/console/login", data={"username": "boss", "password": PASSWORDS["boss"]})
    assert r.status_code == 403


def test_headers_and_cookie_flags(staff):
    r = login(staff, "boss")
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    page = staff.client.get("/console/reports")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"


def test_a_session_ends_when_unused(staff):
    login(staff, "boss")
    assert staff.client.get("/console/reports").status_code == 200
    staff.clock.offset += 31 * 60
    r = staff.client.get("/console/reports", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console/login"


def test_logout_ends_the_session(staff):
    login(staff, "boss")
    token = csrf_of(staff)
    cookie = staff.client.cookies.get("county_session")
    staff.client.post("/console/logout", data={"csrf": token})
    staff.client.cookies.set("county_session", cookie)
    assert staff.client.get("/console/reports", follow_redirects=False).status_code == 303


def test_wrong_passwords_are_limited_and_lock_the_account(staff):
    for _ in range(10):
        r = login(staff, "boss", "wrong")
        assert r.status_code == 200 and "不正确" in r.text
    assert login(staff, "boss", "wrong").status_code == 429  # this address: wait
    locked = staff.sql("SELECT failed, locked_until FROM staff WHERE username = 'boss'")[0]
    assert locked["failed"] == 10 and locked["locked_until"] is not None


def test_hostile_text_is_shown_and_exported_inertly(staff):
    from openpyxl import load_workbook

    staff.service_point("SP01", "<script>alert(1)</script>乡")
    import json

    with staff.conn() as c, c.transaction():
        sp_id = c.execute("SELECT id FROM service_point").fetchone()["id"]
        village = {"village_name": '=HYPERLINK("http://x","y")'}
        c.execute(
            "INSERT INTO household(id, home_sp_id, data) VALUES ('h1', %s, %s)",
            (sp_id, json.dumps(village)),
        )
        c.execute(
            "INSERT INTO person(id, cert_type, cert_no, home_sp_id, data, region)"
            " SELECT 'p1', '01', '140121198001010011', id, %s, region_code"
            " FROM service_point WHERE id = %s",
            (json.dumps({"name": "测试"}), sp_id),
        )
        c.execute(
            "INSERT INTO person_link(person_id, sp_id, household_id) VALUES ('p1', %s, 'h1')",
            (sp_id,),
        )
    login(staff, "boss")
    for path in (
        "/console/devices",
        "/console/reports?year=2026",
        "/console/conflicts?kind=%27%20OR%201%3D1--&point=%3Cb%3E",
    ):
        page = staff.client.get(path)
        assert page.status_code == 200, path
        assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in staff.client.get("/console/devices").text
    x = staff.client.get("/console/reports/export?table=villages&year=2026")
    ws = load_workbook(io.BytesIO(x.content)).active
    cell = ws["B2"]
    assert cell.value.startswith("=HYPERLINK") and cell.data_type == "s"
