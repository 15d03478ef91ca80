"""Console imports: a roster uploaded is first tried (rows new, refused with row number and
reason; nothing written), then applied through the same code as the command line; the
dry run is available to 经办 and 管理员 only, and a spent upload cannot be applied twice."""

from __future__ import annotations

import re

import pytest

from county.console.auth import create_staff

pytestmark = pytest.mark.postgres


def _login(county, username, password):
    county.client.cookies.clear()
    page = county.client.get("/console/login")
    token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
    county.client.post(
        "/console/login",
        data={"username": username, "password": password, "login_token": token},
    )
    page = county.client.get("/console/reports")
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def test_dry_run_then_apply(county, make_id):
    county.service_point("SP01", "东乡卫生院")
    with county.conn() as c, c.transaction():
        create_staff(c, "case", "王经办", "clerk", "clerk-pass-1")
        create_staff(c, "look", "赵科员", "viewer", "viewer-pass-1")
    good = [make_id("19800101", i) for i in (1, 2, 3)]
    csv = (
        "身份证号,姓名,服务点编码,村\n"
        + "".join(f"{cert},居民{i},SP01,东村\n" for i, cert in enumerate(good))
        + "123,坏行,SP01,东村\n"
    )
    files = {"upload": ("花名册.csv", csv.encode("utf-8"), "text/csv")}

    token = _login(county, "look", "viewer-pass-1")
    r = county.client.post(
        "/console/imports/try", data={"kind": "roster", "csrf": token}, files=files
    )
    assert r.status_code == 403

    token = _login(county, "case", "clerk-pass-1")
    r = county.client.post(
        "/console/imports/try", data={"kind": "roster", "csrf": token}, files=files
    )
    assert r.status_code == 200, r.text
    summary = re.search(r'id="summary">([^<]+)<', r.text).group(1)
    assert "共 4 行" in summary and "新增 3" in summary and "有问题 1" in summary
    assert re.search(r'<td class="num">5</td>', r.text)  # the bad row's number in the file
    assert county.sql("SELECT count(*) AS n FROM person")[0]["n"] == 0  # nothing written
    upload = re.search(r'name="upload" value="([^"]+)"', r.text).group(1)

    r = county.client.post(
        "/console/imports/apply", data={"kind": "roster", "upload": upload, "csrf": token}
    )
    assert "（已导入）" in r.text and "新增 3" in r.text
    assert county.sql("SELECT count(*) AS n FROM person")[0]["n"] == 3
    again = county.client.post(
        "/console/imports/apply", data={"kind": "roster", "upload": upload, "csrf": token}
    )
    assert "已过期" in again.text
    assert county.sql("SELECT count(*) AS n FROM person")[0]["n"] == 3
    actions = [r["action"] for r in county.sql("SELECT action FROM staff_audit ORDER BY id")]
    assert "import.try" in actions and "import.apply" in actions
    # a path in the upload name is refused, not followed
    evil = county.client.post(
        "/console/imports/apply",
        data={"kind": "roster", "upload": "../../etc/passwd", "csrf": token},
    )
    assert "已过期" in evil.text


def test_wrong_files_are_refused_with_words(county):
    with county.conn() as c, c.transaction():
        create_staff(c, "case", "王经办", "clerk", "clerk-pass-1")
    token = _login(county, "case", "clerk-pass-1")
    r = county.client.post(
        "/console/imports/try",
        data={"kind": "roster", "csrf": token},
        files={"upload": ("x.exe", b"MZ", "application/octet-stream")},
    )
    assert "只接受 .csv 或 .xlsx" in r.text
    r = county.client.post(
        "/console/imports/try",
        data={"kind": "roster", "csrf": token},
        files={"upload": ("x.xlsx", b"not a workbook", "application/octet-stream")},
    )
    assert "无法读取Excel文件" in r.text
