"""A province's server, a county's case workers (issue 18): an account that works for one
county (``staff.county``) sees, exports and changes that county's service points, PCs,
conflicts, warnings, reports, imports, policy files and update plans only — whatever it
types into a URL or a form — while an account for every county sees them all."""

from __future__ import annotations

import io
import re
import time
import uuid
from pathlib import Path

import pytest
from openpyxl import load_workbook

from county import admin, roster, taxpay, ytd
from county.console.auth import create_staff, set_staff_county
from county.tables import AdminError, run_import
from tests.county.test_county_alerts import _alert

pytestmark = pytest.mark.postgres

SHANXI = Path(__file__).resolve().parents[2] / "resources" / "policies" / "shanxi-2025.toml"
JIA, YI = "140121", "140122"


def _id(county: str, seq: int) -> str:
    from stdnum.cn import ric

    body = f"{county}19800101{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


@pytest.fixture
def province(county, person_payload):
    """Two counties: 东乡卫生院 (SP01) in 甲县 140121, 乙乡卫生院 (SP02) in 乙县 140122, a
    desk, a resident with a 因病返贫 warning and a conflict each, and one conflict of both."""
    county.service_point("SP01", "东乡卫生院", JIA)
    county.service_point("SP02", "乙乡卫生院", YI)
    for code, county_code, name in (("SP01", JIA, "甲居民"), ("SP02", YI, "乙居民")):
        desk = county.device(code)
        pid = str(uuid.uuid4())
        payload = person_payload(_id(county_code, 1), name=name, region_code=county_code)
        desk.push_ok([desk.op("person.create", pid, payload)])
        alert = _alert(pid)
        desk.push_ok([desk.op("poverty_alert.raise", alert["id"], alert)])
    ids = {r["code"]: r["id"] for r in county.sql("SELECT id, code FROM service_point")}
    with county.conn() as c, c.transaction():
        for cid, points in (("c1", ["SP01"]), ("c2", ["SP02"]), ("c3", ["SP01", "SP02"])):
            c.execute(
                "INSERT INTO conflict(id, kind, status, sp_ids, summary)"
                " VALUES (%s, 'identity_review', 'open', %s, %s)",
                (cid, [ids[p] for p in points], f"冲突{cid}"),
            )
        create_staff(c, "jia", "甲经办", "clerk", "clerk-pass-1", county=JIA)
        create_staff(c, "yi", "乙管理员", "admin", "admin-pass-1", county=YI)
        create_staff(c, "prov", "省管理员", "admin", "admin-pass-2")
    return county


def test_a_countys_account_sees_its_county_only(province):
    county = province
    page, csrf = county.console_login("jia", "clerk-pass-1", "/console/devices?region=" + YI)
    assert "甲经办（经办，区划 140121）" in page.text
    assert "东乡卫生院" in page.text and "乙乡卫生院" not in page.text  # the URL's 区划 ignored
    assert 'id="region"' not in page.text  # no county to choose
    r = county.client.get("/console/points/SP02")
    assert r.status_code == 403 and "只管区划 140121" in r.text
    assert county.client.get("/console/points/SP01").status_code == 200

    page = county.client.get("/console/conflicts?state=all").text
    assert "冲突c1" in page and "冲突c3" in page and "冲突c2" not in page
    assert "乙乡卫生院" in page  # the other county's side of a conflict of both is named
    assert county.client.get("/console/conflicts?point=SP02").text.count("冲突c") == 0
    assert county.client.get("/console/conflicts/c3").status_code == 200
    assert county.client.get("/console/conflicts/c2").status_code == 403
    r = county.client.post(
        "/console/conflicts/c2/resolve",
        data={"decision": "keep_county", "note": "越权", "csrf": csrf},
    )
    assert r.status_code == 403
    assert county.sql("SELECT status FROM conflict WHERE id = 'c2'")[0]["status"] == "open"

    page = county.client.get("/console/alerts?state=all").text
    assert "甲居民" in page and "乙居民" not in page
    export = county.client.get("/console/alerts/export?state=all")
    assert export.status_code == 200
    rows = list(load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True))
    assert [r[1] for r in rows[1:]] == [_id(JIA, 1)]
    theirs = county.sql(
        "SELECT a.id FROM poverty_alert a JOIN service_point sp ON sp.id = a.sp_id"
        " WHERE sp.code = 'SP02'"
    )[0]["id"]
    county.client.post(f"/console/alerts/{theirs}/hand", data={"note": "x", "csrf": csrf})
    assert (
        county.sql("SELECT handed_at FROM poverty_alert WHERE id = %s", (theirs,))[0]["handed_at"]
        is None
    )

    page = county.client.get(f"/console/reports?year=2025&region={YI}").text
    assert "（区划 140121）" in page and 'id="region"' not in page
    assert "东乡卫生院" in page and "乙乡卫生院" not in page
    xlsx = county.client.get(f"/console/reports/export?table=points&year=2025&region={YI}")
    points = [r[0] for r in load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(
        min_row=2, values_only=True)]  # fmt: skip
    assert points == ["东乡卫生院"]

    # the province's account sees both counties
    county.console_login("prov", "admin-pass-2")
    page = county.client.get("/console/devices").text
    assert "东乡卫生院" in page and "乙乡卫生院" in page and 'id="region"' in page
    assert county.client.get("/console/conflicts?state=all").text.count("冲突c") == 3
    page = county.client.get("/console/alerts?state=all").text
    assert "甲居民" in page and "乙居民" in page


def test_a_countys_administrator_changes_its_county_only(province):
    county = province
    _, csrf = county.console_login("yi", "admin-pass-1", "/console/devices")
    before = county.sql("SELECT count(*) AS n FROM registration_code")[0]["n"]
    r = county.client.post("/console/devices/code", data={"service_point": "SP01", "csrf": csrf})
    assert r.status_code == 403
    assert county.sql("SELECT count(*) AS n FROM registration_code")[0]["n"] == before
    r = county.client.post("/console/devices/code", data={"service_point": "SP02", "csrf": csrf})
    assert r.status_code == 200 and "注册码" in r.text
    jia_pc = county.sql(
        "SELECT d.id FROM device d JOIN service_point sp ON sp.id = d.service_point_id"
        " WHERE sp.code = 'SP01'"
    )[0]["id"]
    r = county.client.post(
        "/console/devices/disable", data={"device": jia_pc, "reason": "lost", "csrf": csrf}
    )
    assert r.status_code == 403
    assert (
        county.sql("SELECT disabled_at FROM device WHERE id = %s", (jia_pc,))[0]["disabled_at"]
        is None
    )

    # a policy file for the whole province is every county's: refused, said in words
    assert "只能发布本县（区划 140122）的政策文件" in county.client.get("/console/policies").text
    text = SHANXI.read_text(encoding="utf-8")
    r = county.client.post(
        "/console/policies/check",
        data={"csrf": csrf},
        files={"upload": ("shanxi-2025.toml", text.encode("utf-8"), "application/toml")},
    )
    assert "只能发布区划 140122 本县的政策文件" in r.text and 'id="publish"' not in r.text
    own = text.replace('id = "shanxi-2025"', 'id = "yixian-2025"').replace(
        'region = "140000"', f'region = "{YI}"'
    )
    r = county.client.post(
        "/console/policies/check",
        data={"csrf": csrf},
        files={"upload": ("yixian-2025.toml", own.encode("utf-8"), "application/toml")},
    )
    assert "检查通过" in r.text, r.text
    upload = re.search(r'name="upload" value="([^"]+)"', r.text).group(1)
    r = county.client.post(
        "/console/policies/publish",
        data={"upload": upload, "csrf": csrf, "scope": "chosen", "points": ["SP01"]},
    )
    assert "没有这些服务点编码：SP01" in r.text  # another county's point is no pilot of its
    r = county.client.post("/console/policies/publish", data={"upload": upload, "csrf": csrf})
    assert "已发布第1版" in r.text
    assert county.sql("SELECT id, region FROM policy") == [{"id": "yixian-2025", "region": YI}]

    # 暂不升级 with no point chosen: every point of its county, not every county's
    r = county.client.post("/console/updates/offer", data={"csrf": csrf, "what": "hold"})
    assert r.status_code in (200, 303)
    held = county.sql(
        "SELECT coalesce(sp.code, o.scope) AS code FROM update_offer o"
        " LEFT JOIN service_point sp ON sp.id = o.scope"
    )
    assert held == [{"code": "SP02"}]

    # the policy files a county's account sees are those that apply to its county: its
    # own, its city's, its province's and the national default — not another county's
    with county.conn() as c, c.transaction():
        admin.publish_policy(c, SHANXI)  # the province's file, by the technician
        # and a draft of it piloted at a point of each county: each county's account names
        # its own point only, and says how many of the other counties' there are
        draft = SHANXI.read_text(encoding="utf-8").replace('title = "', 'title = "（试点稿）', 1)
        admin.publish_policy_text(
            c, draft, "draft.toml", by=admin.COMMAND_LINE, points=["SP01", "SP02"]
        )

    def listed(html: str, table: str) -> str:
        return re.search(f'<table id="{table}">.*?</table>', html, re.S).group(0)

    page = county.client.get("/console/policies").text
    assert YI in listed(page, "current") and "140000" in listed(page, "current")
    for table in ("current", "history"):
        assert "乙乡卫生院" in listed(page, table) and "东乡卫生院" not in listed(page, table)
    assert "乙乡卫生院，另有外县 1 个服务点" in listed(page, "history")
    assert "第2版：乙乡卫生院，另有外县 1 个服务点" in listed(page, "current")
    county.console_login("jia", "clerk-pass-1")
    page = county.client.get("/console/policies").text
    assert "140000" in listed(page, "current") and YI not in listed(page, "current")
    # the heading, the province's file and its draft
    assert listed(page, "history").count("<tr>") == 3
    assert "东乡卫生院，另有外县 1 个服务点" in listed(page, "history")
    assert "乙乡卫生院" not in page
    county.console_login("prov", "admin-pass-2")
    page = county.client.get("/console/policies").text
    assert YI in listed(page, "current") and "140000" in listed(page, "current")
    assert listed(page, "history").count("<tr>") == 4
    assert "东乡卫生院、乙乡卫生院</td>" in listed(page, "history")  # the province: both

    # a newer draft piloted in 甲县 only: 乙县's account reads that it is tried elsewhere
    with county.conn() as c, c.transaction():
        again = draft.replace("（试点稿）", "（试点稿二）", 1)
        admin.publish_policy_text(c, again, "draft.toml", by=admin.COMMAND_LINE, points=["SP01"])
    county.console_login("yi", "admin-pass-1")
    page = county.client.get("/console/policies").text
    assert "第2版：乙乡卫生院；第3版：外县 1 个服务点</td>" in listed(page, "current")
    assert "<td>外县 1 个服务点</td>" in listed(page, "history")
    # published on the server's command line: the technician, in words
    assert "技术员（服务器上的命令）" in listed(page, "history")
    assert "township-county" not in page
    county.console_login("jia", "clerk-pass-1")
    page = county.client.get("/console/policies").text
    assert "第2版：外县 1 个服务点；第3版：东乡卫生院</td>" in listed(page, "current")


def test_imports_of_a_countys_account_refuse_other_counties_rows(province):
    county = province
    rows = [
        {"身份证号": _id(JIA, 2), "姓名": "甲新", "服务点编码": "SP01"},
        {"身份证号": _id(YI, 2), "姓名": "乙新", "服务点编码": "SP02"},
        {"身份证号": _id(JIA, 1), "姓名": "甲居民改", "服务点编码": "SP01"},
    ]
    with county.conn() as c:
        rep = run_import(c, rows, lambda c, r, first_row: roster.import_roster(
            c, r, first_row, region=YI), dry_run=True)  # fmt: skip
    assert (rep.created, rep.updated) == (1, 0)
    assert [row for row, _ in rep.errors] == [2, 4]
    assert all("不属于本账号管的区划 140122" in m for _, m in rep.errors)

    with county.conn() as c:
        rep = run_import(
            c,
            [{"身份证号": _id(JIA, 1), "参保年度": "2025", "缴费金额": "400", "完税凭证号": "T1"}],
            lambda c, r, first_row: taxpay.import_payments(c, r, first_row, region=YI),
            dry_run=True,
        )
        assert len(rep.errors) == 1 and "不属于本账号管的区划" in rep.errors[0][1]
        rep = run_import(
            c,
            [{"身份证号": _id(JIA, 1), "年度": "2025", "本年住院统筹基金已支付": "100"}],
            lambda c, r, first_row: ytd.import_ytd(c, r, first_row, region=YI),
            dry_run=True,
        )
        assert len(rep.errors) == 1 and "不属于本账号管的区划" in rep.errors[0][1]

    # through the console: the same refusal in the dry run; others' imports not listed
    _, csrf = county.console_login("prov", "admin-pass-2", "/console/imports")
    csv = "身份证号,姓名,服务点编码\n" + f"{_id(JIA, 3)},甲三,SP01\n"
    county.client.post(
        "/console/imports/try",
        data={"kind": "roster", "csrf": csrf},
        files={"upload": ("省里的.csv", csv.encode("utf-8"), "text/csv")},
    )
    _, csrf = county.console_login("yi", "admin-pass-1", "/console/imports")
    r = county.client.post(
        "/console/imports/try",
        data={"kind": "roster", "csrf": csrf},
        files={"upload": ("乙县.csv", csv.encode("utf-8"), "text/csv")},
    )
    assert "有问题 1" in r.text and "不属于本账号管的区划 140122" in r.text
    page = county.client.get("/console/imports").text
    assert "乙县.csv" in page and "省里的.csv" not in page
    theirs = county.sql("SELECT id FROM import_job WHERE filename = '省里的.csv'")[0]["id"]
    assert "没有这次导入的记录" in county.client.get(f"/console/imports/jobs/{theirs}").text


def test_an_accounts_county_is_set_on_the_command_line_and_ends_its_sessions(province):
    county = province
    county.console_login("jia", "clerk-pass-1", "/console/devices")
    with county.conn() as c, c.transaction():
        with pytest.raises(AdminError, match="6位数字"):
            set_staff_county(c, "jia", "14012")
        set_staff_county(c, "jia", None)
    assert county.client.get("/console/devices", follow_redirects=False).status_code == 303
    page, _ = county.console_login("jia", "clerk-pass-1", "/console/devices")
    assert "乙乡卫生院" in page.text and "区划 140121" not in page.text
    with county.conn() as c, c.transaction(), pytest.raises(AdminError, match="6位数字"):
        create_staff(c, "bad", "坏", "clerk", "clerk-pass-1", county="甲县")


def test_the_technician_makes_and_lists_accounts_by_county(county, monkeypatch, capsys):
    """`township-county staff create --county`, `staff county`, `staff list`: in words."""
    import sys

    from county import cli
    from tests.county.conftest import SIGNING_KEY

    monkeypatch.setenv("TOWNSHIP_COUNTY_DATABASE_URL", county.dsn)
    monkeypatch.setenv("TOWNSHIP_COUNTY_SIGNING_KEY", SIGNING_KEY)
    monkeypatch.setattr(sys, "stdin", io.StringIO("clerk-pass-1\n"))
    assert cli.main(["staff", "create", "--username", "jia", "--name", "甲经办",
                     "--role", "clerk", "--county", JIA, "--password-stdin"]) == 0  # fmt: skip
    assert "只管区划 140121" in capsys.readouterr().out
    monkeypatch.setattr(sys, "stdin", io.StringIO("admin-pass-1\n"))
    assert cli.main(["staff", "create", "--username", "prov", "--name", "省管理员",
                     "--role", "admin", "--password-stdin"]) == 0  # fmt: skip
    capsys.readouterr()
    assert cli.main(["staff", "list"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "prov  省管理员  管理员  全部县区  在用",
        "jia  甲经办  经办  区划 140121  在用",
    ]
    assert cli.main(["staff", "county", "--username", "jia", "--county", YI]) == 0
    assert "现在只管区划 140122" in capsys.readouterr().out
    assert county.sql("SELECT county FROM staff WHERE username = 'jia'") == [{"county": YI}]


def test_an_administrator_opens_and_stops_accounts_of_its_county(province):
    county = province
    _, csrf = county.console_login("jia", "clerk-pass-1", "/console/devices")
    assert county.client.get("/console/staff").status_code == 403  # a case worker cannot

    page, csrf = county.console_login("yi", "admin-pass-1", "/console/staff")
    names = re.findall(r"<tr><td>([a-z0-9_.-]+)</td>", page.text)
    assert names == ["yi"] and 'id="new_county"' not in page.text  # its county's only
    form = {"username": "yi2", "display_name": "乙经办", "role": "clerk", "csrf": csrf}
    r = county.client.post("/console/staff/create", data={**form, "password": "short"})
    assert "密码至少8个字符" in r.text
    assert county.sql("SELECT count(*) AS n FROM staff")[0]["n"] == 3  # nothing written
    r = county.client.post(
        "/console/staff/create", data={**form, "password": "clerk-pass-9", "county": JIA}
    )
    assert "已开设账号" in r.text and "<td>yi2</td>" in r.text
    made = county.sql("SELECT county FROM staff WHERE username = 'yi2'")
    assert made == [{"county": YI}]  # its own county, whatever the form said
    who = county.sql(
        "SELECT s.username FROM staff_audit a JOIN staff s ON s.id = a.staff_id"
        " WHERE a.action = 'staff.create' AND a.target = 'yi2'"
    )
    assert who == [{"username": "yi"}]
    r = county.client.post("/console/staff/jia/active", data={"active": "0", "csrf": csrf})
    assert r.status_code == 403  # another county's account
    assert (
        "不能停用自己"
        in county.client.post("/console/staff/yi/active", data={"active": "0", "csrf": csrf}).text
    )

    # stopped: its session ends at once and it cannot log in again; started again: it can
    county.console_login("yi2", "clerk-pass-9", "/console/devices")
    _, csrf = county.console_login("yi", "admin-pass-1", "/console/staff")
    r = county.client.post("/console/staff/yi2/active", data={"active": "0", "csrf": csrf})
    assert "已停用" in r.text
    assert county.sql(
        "SELECT count(*) AS n FROM staff_session s JOIN staff t ON t.id = s.staff_id"
        " WHERE t.username = 'yi2'"
    ) == [{"n": 0}]
    page, _ = county.console_login("yi2", "clerk-pass-9", "/console/devices")
    assert "/console/login" in str(page.url)
    _, csrf = county.console_login("yi", "admin-pass-1", "/console/staff")
    county.client.post("/console/staff/yi2/active", data={"active": "1", "csrf": csrf})
    page, _ = county.console_login("yi2", "clerk-pass-9", "/console/devices")
    assert "乙乡卫生院" in page.text

    # the province's administrator chooses the county, and a wrong one is said
    page, csrf = county.console_login("prov", "admin-pass-2", "/console/staff")
    assert re.findall(r"<tr><td>([a-z0-9_.-]+)</td>", page.text) == ["prov", "jia", "yi", "yi2"]
    form = {"username": "bing", "display_name": "丙", "role": "viewer", "csrf": csrf}
    r = county.client.post(
        "/console/staff/create", data={**form, "password": "viewer-pass-1", "county": "甲县"}
    )
    assert "6位数字" in r.text
    assert county.sql("SELECT count(*) AS n FROM staff WHERE username = 'bing'")[0]["n"] == 0


def _registered(county, year: int) -> dict:
    rows = county.sql(
        "SELECT region, sum(registered) AS n FROM report_coverage WHERE year = %s GROUP BY region",
        (year,),
    )
    return {r["region"]: r["n"] for r in rows}


def test_a_countys_recount_counts_its_county_only(province, person_payload):
    """现在重新统计 from a county's account counts that county's residents again (its
    partitions: seconds, where the province takes minutes); the other county's figures stay
    as the last count left them; a province's account counts the county it looks at, or,
    with none chosen, all of them — and the counts never collide."""
    county = province
    page, csrf = county.console_login("jia", "clerk-pass-1", "/console/reports?year=2026")
    assert 'id="refresh"' in page.text
    assert _registered(county, 2026) == {JIA: 1, YI: 1}
    for code, county_code, name in (("SP01", JIA, "甲新居民"), ("SP02", YI, "乙新居民")):
        desk = county.device(code)
        payload = person_payload(_id(county_code, 2), name=name, region_code=county_code)
        desk.push_ok([desk.op("person.create", str(uuid.uuid4()), payload)])
    province_counted = county.sql("SELECT refreshed_at FROM report_refresh WHERE year = 2026")
    counted_2025 = county.sql("SELECT refreshed_at FROM report_refresh WHERE year = 2025")

    r = county.client.post(
        "/console/reports/refresh",
        data={"year": "2026", "region": YI, "csrf": csrf},  # another county typed in: its own
        follow_redirects=True,
    )
    assert r.status_code == 200 and "（区划 140121）" in r.text
    assert _registered(county, 2026) == {JIA: 2, YI: 1}  # 乙县 waits for its next count
    assert county.sql("SELECT refreshed_at FROM report_refresh WHERE year = 2026") == (
        province_counted
    )
    assert [r["region"] for r in county.sql("SELECT region FROM report_refresh_county")] == [
        JIA,
        JIA,
    ]  # this year and last, of 甲县
    audit = county.sql("SELECT target FROM staff_audit WHERE action = 'reports.refresh'")
    assert audit == [{"target": f"2026 {JIA}"}]

    _page, csrf = county.console_login("prov", "admin-pass-2", f"/console/reports?region={YI}")
    county.client.post(
        "/console/reports/refresh", data={"year": "2026", "region": YI, "csrf": csrf}
    )
    assert _registered(county, 2026) == {JIA: 2, YI: 2}
    # the whole province takes minutes: counted in the background, and the page says so
    r = county.client.post(
        "/console/reports/refresh", data={"year": "2026", "csrf": csrf}, follow_redirects=True
    )
    assert r.status_code == 200 and 'id="recounting"' in r.text and "正在重新统计全部县区" in r.text
    deadline = time.monotonic() + 30
    before = {2026: province_counted[0]["refreshed_at"], 2025: counted_2025[0]["refreshed_at"]}
    while any(
        county.sql("SELECT refreshed_at FROM report_refresh WHERE year = %s", (y,))[0][
            "refreshed_at"
        ]
        == at
        for y, at in before.items()
    ):  # both years (this one and the last), as the button always counts
        assert time.monotonic() < deadline, "the province was not counted again"
        time.sleep(0.2)
    assert _registered(county, 2026) == {JIA: 2, YI: 2}  # the province's: replaced, not added
    assert 'id="recounting"' not in county.client.get("/console/reports?year=2026").text
