"""Console imports: a roster uploaded is first tried (rows new, refused with row number and
reason; nothing written), then applied through the same code as the command line; the
dry run is available to 经办 and 管理员 only, and a spent upload cannot be applied twice."""

from __future__ import annotations

import re

import pytest

from county.console.auth import create_staff

pytestmark = pytest.mark.postgres


def _login(county, username, password):
    return county.console_login(username, password)[1]


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


def test_a_village_with_no_household_number_is_said_not_dropped(county, make_id):
    """村 is a household's: a row with 户号 puts its resident in that village's household; a
    row with 村 and no 户号 is imported with a 提示 saying the village was not recorded (the
    resident would otherwise count under （未填村） without a word), or that it differs from
    the household's; the same village as the household's needs no word."""
    from county import admin, tables

    county.service_point("SP01", "东乡卫生院")
    with county.conn() as c, c.transaction():
        create_staff(c, "case", "王经办", "clerk", "clerk-pass-1")
    a, b = (make_id("19800101", i) for i in (1, 2))
    first = f"身份证号,姓名,服务点编码,户号,村\n{a},甲,SP01,H01,东村\n{b},乙,SP01,,东村\n"
    token = _login(county, "case", "clerk-pass-1")
    r = county.client.post(
        "/console/imports/try",
        data={"kind": "roster", "csrf": token},
        files={"upload": ("花名册.csv", first.encode(), "text/csv")},
    )
    summary = re.search(r'id="summary">([^<]+)<', r.text).group(1)
    assert "新增 2" in summary and "有问题 0" in summary and "提示 1" in summary
    notes = re.search(r'<table id="notes">.*?</table>', r.text, re.S).group(0)
    assert '<td class="num">3</td>' in notes and "没有户号，村“东村”未记入" in notes

    def rows(text: str) -> list[dict]:
        head, *lines = text.splitlines()
        return [dict(zip(head.split(","), line.split(","), strict=True)) for line in lines]

    with county.conn() as conn:
        rep = tables.run_import(conn, rows(first), admin.import_roster)
        assert rep.created == 2 and [n for n, _ in rep.notes] == [3]
        # 甲 (in H01, 东村) again without 户号: the same village is no news; another is said
        again = f"身份证号,姓名,服务点编码,村\n{a},甲,SP01,东村\n{a},甲,SP01,西村\n"
        rep = tables.run_import(conn, rows(again), admin.import_roster)
    assert [n for n, _ in rep.notes] == [3] and "与户里登记的“东村”不同，未改" in rep.notes[0][1]
    assert "提示 1" in rep.summary()
    village = county.sql(
        "SELECT h.data->>'village_name' AS v FROM person_link pl"
        " JOIN household h ON h.id = pl.household_id JOIN person p ON p.id = pl.person_id"
        " WHERE p.cert_no = %s",
        (a,),
    )
    assert village == [{"v": "东村"}]  # the household's village stays


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


def _wait_done(county, url: str, seen: list[str]):
    import time

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        page = county.client.get(url)
        assert page.status_code == 200
        if 'id="progress"' not in page.text:
            return page
        seen.append(re.search(r'id="progress".*?</section>', page.text, re.S).group(0))
        time.sleep(0.2)
    raise AssertionError("the import did not finish")


def test_a_large_file_runs_in_the_background_with_progress(county, make_id, monkeypatch):
    """A file that is not done at once sends the browser to the job's page, which shows rows
    done out of rows read and reloads itself until the report is there; the apply runs the
    same way, and the import list shows both."""
    from county.console import jobs

    monkeypatch.setattr(jobs, "WAIT_SECONDS", 0.0)
    county.service_point("SP01", "东乡卫生院")
    with county.conn() as c, c.transaction():
        create_staff(c, "case", "王经办", "clerk", "clerk-pass-1")
    import datetime as dt

    n = 800  # enough that the job page is seen before the end (it is polled every 0.2 s)
    born = [
        (dt.date(1970, 1, 1) + dt.timedelta(days=i // 1000)).strftime("%Y%m%d") for i in range(n)
    ]
    csv = "身份证号,姓名,服务点编码,村\n" + "".join(
        f"{make_id(born[i], i % 1000)},居民{i},SP01,东村\n" for i in range(n)
    )
    token = _login(county, "case", "clerk-pass-1")
    r = county.client.post(
        "/console/imports/try",
        data={"kind": "roster", "csrf": token},
        files={"upload": ("大花名册.csv", csv.encode("utf-8"), "text/csv")},
        follow_redirects=False,
    )
    assert r.status_code == 303 and "/console/imports/jobs/" in r.headers["location"]
    seen: list[str] = []
    page = _wait_done(county, r.headers["location"], seen)
    assert f"共 {n} 行" in page.text and f"新增 {n}" in page.text, page.text
    assert county.sql("SELECT count(*) AS n FROM person")[0]["n"] == 0  # tried only
    assert seen and all('data-reload="2"' in s for s in seen)  # progress, reloading itself
    upload = re.search(r'name="upload" value="([^"]+)"', page.text).group(1)

    r = county.client.post(
        "/console/imports/apply",
        data={"kind": "roster", "upload": upload, "csrf": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = _wait_done(county, r.headers["location"], seen)
    assert "（已导入）" in page.text and f"新增 {n}" in page.text
    assert county.sql("SELECT count(*) AS n FROM person")[0]["n"] == n
    listing = county.client.get("/console/imports").text
    assert listing.count("大花名册.csv") == 2 and "完成" in listing


def test_an_import_a_stopped_server_left_is_marked_interrupted(county):
    from county.console import jobs

    with county.conn() as c, c.transaction():
        c.execute(
            "INSERT INTO import_job(id, kind, upload, dry_run, state, total, done_rows,"
            " heartbeat_at) VALUES ('j1', 'roster', 'x.csv', false, 'running', 5000, 2000,"
            " now() - interval '5 minutes')"
        )
        # another worker's job, still beating: left alone
        c.execute(
            "INSERT INTO import_job(id, kind, upload, dry_run, state, total, done_rows)"
            " VALUES ('j2', 'roster', 'y.csv', false, 'running', 5000, 100)"
        )
        assert jobs.mark_interrupted(c) == 1
    rows = {r["id"]: r for r in county.sql("SELECT id, state, error FROM import_job")}
    assert rows["j1"]["state"] == "interrupted" and "可重新上传同一文件继续" in rows["j1"]["error"]
    assert rows["j2"]["state"] == "running"
