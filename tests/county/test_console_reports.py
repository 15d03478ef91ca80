"""The console's report figures equal the truth of a generated county (what the generator
wrote), and an independent SQL count; the Excel export carries the same figures."""

from __future__ import annotations

import io

import pytest

from county.console import reports
from county.console.auth import create_staff
from county.console.generate import generate

pytestmark = pytest.mark.postgres


def test_coverage_equals_the_generated_truth(county):
    with county.conn() as c, c.transaction():
        truth = generate(c, points=4, residents=2_000, year=2026)
    with county.conn() as c:
        cov = reports.coverage(c, 2026)
        independent = c.execute(
            "SELECT count(*) AS n FROM enrollment e WHERE e.year = 2026 AND EXISTS"
            " (SELECT 1 FROM payment p WHERE p.enrollment_id = e.id AND p.amount > 0)"
        ).fetchone()["n"]
    assert len(cov["villages"]) == len(truth["registered"]) == 20
    for v in cov["villages"]:
        key = (v["point"], v["village"])
        assert v["registered"] == truth["registered"][key], key
        assert v["paid"] == truth["paid"][key], key
        assert v["subsidized"] == truth["subsidized"][key], key
        covered = truth["paid"][key] + truth["subsidized"][key]
        assert v["rate"] == round(100 * covered / truth["registered"][key], 1)
        assert v["last_rate"] == round(
            100 * truth["last_covered"][key] / truth["registered"][key], 1
        )
    assert sum(p["paid"] for p in cov["points"]) == sum(truth["paid"].values()) == independent
    assert sum(p["registered"] for p in cov["points"]) == 2_000


def test_the_export_carries_the_same_figures(county):
    from openpyxl import load_workbook

    with county.conn() as c, c.transaction():
        generate(c, points=2, residents=300, year=2026)
        create_staff(c, "look", "赵科员", "viewer", "viewer-pass-1")
    county.console_login("look", "viewer-pass-1")
    x = county.client.get("/console/reports/export?table=points&year=2026")
    rows = list(load_workbook(io.BytesIO(x.content)).active.values)
    with county.conn() as c:
        cov = reports.coverage(c, 2026)
    assert rows[0][0] == "服务点" and len(rows) == 1 + len(cov["points"])
    for row, p in zip(rows[1:], cov["points"], strict=True):
        assert row[:6] == (
            p["point"],
            p["registered"],
            p["paid"],
            p["subsidized"],
            p["unpaid"],
            p["rate"],
        )


def _login(county, username, password):
    page, csrf = county.console_login(username, password, "/console/reports?year=2026")
    return csrf, page


def _paid_total(page_text):
    import re

    body = re.search(r'<table id="points">.*?<tbody>(.*?)</tbody>', page_text, re.S).group(1)
    rows = [
        re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)
        for r in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]
    assert rows and all(len(r) == 6 for r in rows)
    return sum(int(r[2]) for r in rows)  # 已缴费


def test_figures_are_counted_ahead_and_refreshed_on_request(county):
    """The report reads the year's summary: a payment arriving afterwards shows after the
    next count (the page says when it counted), which a case worker can ask for; a
    read-only person cannot; the request is in the staff audit log."""
    with county.conn() as c, c.transaction():
        generate(c, points=2, residents=200, year=2026)
        create_staff(c, "case", "王经办", "clerk", "clerk-pass-1")
        create_staff(c, "look", "赵科员", "viewer", "viewer-pass-1")
    token, page = _login(county, "case", "clerk-pass-1")
    before = _paid_total(page.text)
    assert "统计于" in page.text and 'id="refresh"' in page.text
    unpaid = county.sql(
        "SELECT e.id, e.sp_id, e.region FROM enrollment e WHERE e.year = 2026 AND NOT EXISTS"
        " (SELECT 1 FROM payment p WHERE p.enrollment_id = e.id)"
        " AND e.data->>'subsidy_category' = 'none' LIMIT 1"
    )
    people = county.sql("SELECT count(*) AS n FROM person")[0]["n"]
    with county.conn() as c, c.transaction():
        if not unpaid:  # every enrolled one paid: enrol someone new instead
            c.execute(
                "INSERT INTO enrollment(id, person_id, year, sp_id, data, region) SELECT 'x-e', id,"
                ' 2026, home_sp_id, \'{"subsidy_category": "none"}\', region FROM person WHERE NOT EXISTS'
                " (SELECT 1 FROM enrollment e WHERE e.person_id = person.id AND e.year = 2026)"
                " LIMIT 1"
            )
            unpaid = c.execute(
                "SELECT id, sp_id, region FROM enrollment WHERE id = 'x-e'"
            ).fetchall()
        c.execute(
            "INSERT INTO payment(id, enrollment_id, sp_id, amount, data, region) VALUES"
            ' (\'late-pay\', %s, %s, 400, \'{"paid_on": "2025-12-30", "channel": "qr"}\', %s)',
            (unpaid[0]["id"], unpaid[0]["sp_id"], unpaid[0]["region"]),
        )
    assert people == 200
    assert _paid_total(county.client.get("/console/reports?year=2026").text) == before

    viewer_token, _ = _login(county, "look", "viewer-pass-1")
    r = county.client.post("/console/reports/refresh", data={"year": "2026", "csrf": viewer_token})
    assert r.status_code == 403
    token, _ = _login(county, "case", "clerk-pass-1")
    r = county.client.post("/console/reports/refresh", data={"year": "2026", "csrf": "forged"})
    assert r.status_code == 403
    r = county.client.post(
        "/console/reports/refresh", data={"year": "2026", "csrf": token}, follow_redirects=True
    )
    assert r.status_code == 200
    assert _paid_total(r.text) == before + 1
    audit = county.sql("SELECT action, target FROM staff_audit WHERE action = 'reports.refresh'")
    assert audit == [{"action": "reports.refresh", "target": "2026"}]


def test_a_refresh_replaces_the_year_and_never_runs_twice_at_once(county):
    import datetime as dt

    from county.console import summary

    with county.conn() as c, c.transaction():
        generate(c, points=2, residents=100, year=2026)
    with county.conn() as c:
        assert summary.refresh(c, 2026)
        first = c.execute("SELECT sum(registered) AS n FROM report_coverage WHERE year = 2026")
        assert first.fetchone()["n"] == 100
        assert summary.refresh(c, 2026)  # again: replaced, not added
        again = c.execute("SELECT sum(registered) AS n FROM report_coverage WHERE year = 2026")
        assert again.fetchone()["n"] == 100
    with county.conn() as holder, holder.transaction():
        holder.execute("SELECT pg_advisory_xact_lock(%s, %s)", (summary.REFRESH_LOCK, 2026))
        with county.conn() as c:
            assert summary.refresh(c, 2026) is False  # the other one's result will do
    with county.conn() as c:
        c.execute("UPDATE report_refresh SET refreshed_at = now() - interval '1 hour'")
        c.execute(
            "INSERT INTO report_refresh(year, refreshed_at, took_ms)"
            " VALUES (2019, now() - interval '1 hour', 1)"
        )
        c.commit()
        done = summary.refresh_stale(c, dt.timedelta(minutes=10), dt.date(2026, 12, 3))
    # 2026 stale, 2027 never counted (next year's campaign); 2019 only when asked
    assert done == [2026, 2027]


def test_quiet_devices_and_open_conflicts_export_like_the_page(county):
    """The two small tables of the report page export too; a PC named like a formula stays
    text."""
    from openpyxl import load_workbook

    county.service_point("SP01", "东乡卫生院")
    county.register("SP01")
    county.register("SP01")
    with county.conn() as c, c.transaction():
        c.execute(
            "UPDATE device SET name = '=HYPERLINK(\"http://x\")',"
            " last_seen_at = now() - interval '10 days'"
            " WHERE id = (SELECT min(id) FROM device)"
        )
        c.execute("UPDATE device SET last_seen_at = now() WHERE id = (SELECT max(id) FROM device)")
        for kind, n in (("double_enrollment", 2), ("identity_review", 1)):
            for i in range(n):
                c.execute(
                    "INSERT INTO conflict(id, kind, status, summary, detail)"
                    " VALUES (%s, %s, 'open', '', '{}')",
                    (f"{kind}-{i}", kind),
                )
        create_staff(c, "look", "赵科员", "viewer", "viewer-pass-1")
    token_page = _login(county, "look", "viewer-pass-1")[1]
    assert "导出 Excel" in token_page.text
    x = county.client.get("/console/reports/export?table=quiet&days=7")
    rows = list(load_workbook(io.BytesIO(x.content)).active.values)
    assert rows[0] == ("服务点", "电脑名称", "最近联网") and len(rows) == 2
    assert rows[1][:2] == ("东乡卫生院", '=HYPERLINK("http://x")')
    cell = load_workbook(io.BytesIO(x.content)).active["B2"]
    assert cell.data_type == "s"
    x = county.client.get("/console/reports/export?table=conflicts")
    rows = list(load_workbook(io.BytesIO(x.content)).active.values)
    assert sorted(rows[1:]) == [
        ("身份核对（同一身份证号，姓名或出生日期不同）", 1),
        ("重复参保（两个服务点同一年度）", 2),
    ]
    independent = county.sql("SELECT count(*) AS n FROM conflict WHERE status = 'open'")[0]["n"]
    assert sum(r[1] for r in rows[1:]) == independent == 3


def test_quiet_pcs_are_chosen_in_the_database_and_the_page_says_when_it_shows_some(
    county, monkeypatch
):
    """Only PCs in use count as silent (a PC being wiped or revoked is not waited for); a
    province's thousands are a page of them that says so, the export all of them."""
    import re

    from openpyxl import load_workbook

    from county.console import reports

    county.service_point("SP01", "东乡卫生院")
    for _ in range(4):
        county.register("SP01")
    with county.conn() as c, c.transaction():
        c.execute("UPDATE device SET last_seen_at = now() - interval '10 days'")
        ids = [r["id"] for r in c.execute("SELECT id FROM device ORDER BY id").fetchall()]
        c.execute("UPDATE device SET disabled_at = now() WHERE id = %s", (ids[0],))
        c.execute("UPDATE device SET revoked_at = now() WHERE id = %s", (ids[1],))
        create_staff(c, "look", "赵科员", "viewer", "viewer-pass-1")

    def quiet(page: str) -> int:
        return re.search(r'<table id="quiet">.*?</table>', page, re.S).group(0).count("<td>东乡")

    page = _login(county, "look", "viewer-pass-1")[1].text
    assert quiet(page) == 2 and "more_quiet" not in page
    monkeypatch.setattr(reports, "QUIET_SHOWN", 1)
    page = county.client.get("/console/reports").text
    assert quiet(page) == 1
    assert "只列出前 1 台" in page
    x = county.client.get("/console/reports/export?table=quiet&days=7")
    assert len(list(load_workbook(io.BytesIO(x.content)).active.values)) == 3


def test_the_target_is_the_published_policy_files_never_a_guess(county):
    """The 参保率 target on the reports page comes from a published policy file's
    [campaign] section for the year (the desks' own parser); a year without one says so and
    marks no village behind."""
    from pathlib import Path

    from county import admin

    with county.conn() as c, c.transaction():
        generate(c, points=2, residents=200, year=2025)
        create_staff(c, "look", "赵科员", "viewer", "viewer-pass-1")
    county.console_login("look", "viewer-pass-1")
    before = county.client.get("/console/reports?year=2025").text
    assert "本年度的参保率目标尚未发布" in before and 'class="num behind"' not in before
    text = (Path(__file__).parents[2] / "resources/policies/national-2025.toml").read_text("utf-8")
    with county.conn() as c, c.transaction():
        admin.publish_policy_text(c, text, "national-2025.toml", by="test")
        assert reports.campaign_target(c, 2025)["percent"] == 95.0
        assert reports.campaign_target(c, 2024) is None
        cov = reports.coverage(c, 2025)
    after = county.client.get("/console/reports?year=2025").text
    assert "目标 95.0%" in after and "十四五" in after
    behind = sum(1 for p in cov["points"] if p["rate"] < 95) + sum(
        1 for v in cov["villages"] if v["rate"] < 95
    )
    assert behind and after.count('class="num behind"') == behind
    # a county's own file for the year comes before the national default, as on the desk
    regional = (
        text.replace('id = "national-2025"', 'id = "county-2025"', 1)
        .replace('region = "000000"', 'region = "140121"', 1)
        .replace('target_rate = "0.95"', 'target_rate = "0.97"', 1)
    )
    with county.conn() as c, c.transaction():
        admin.publish_policy_text(c, regional, "county-2025.toml", by="test")
        assert reports.campaign_target(c, 2025)["percent"] == 97.0


def test_a_province_reports_a_county_at_a_time(county):
    """Two counties, each with a 第1乡卫生院 and a 第2乡卫生院: the province's report keeps the
    four points apart (it once added same-named points up), and 区划 shows one county — its
    points and villages, its payments, its quiet PCs and conflicts — on the page and in the
    exports."""
    from openpyxl import load_workbook

    with county.conn() as c, c.transaction():
        first = generate(c, points=2, residents=300, year=2026)
        second = generate(c, points=2, residents=200, year=2026, seed=7, region="140122")
        c.execute(  # a third county whose point has nobody registered yet: shown, at 0
            "INSERT INTO service_point(id, code, name, region_code)"
            " VALUES ('p3', 'P3', '第1乡卫生院', '140123')"
        )
        create_staff(c, "look", "赵科员", "viewer", "viewer-pass-1")
    with county.conn() as c:
        province = reports.coverage(c, 2026)
        one = reports.coverage(c, 2026, "140122")
        pays = {r: reports.payments(c, 2026, r) for r in ("", "140121", "140122")}
    assert [p["point"] for p in province["points"]] == ["第1乡卫生院", "第2乡卫生院"] * 2 + [
        "第1乡卫生院"  # 140123's point, nobody registered yet: at 0, not missing
    ]
    assert province["points"][-1]["registered"] == 0 and province["points"][-1]["rate"] == 0.0
    assert sum(p["registered"] for p in province["points"]) == 500
    assert sum(p["registered"] for p in one["points"]) == 200
    assert {(v["point"], v["village"]): v["paid"] for v in one["villages"]} == {
        k: n for k, n in second["paid"].items()
    }
    assert sum(first["paid"].values()) + sum(second["paid"].values()) == sum(
        p["paid"] for p in province["points"]
    )

    def paid(rows):
        return sum(int(r["n"]) for r in rows)

    assert paid(pays[""]) == paid(pays["140121"]) + paid(pays["140122"])
    assert paid(pays["140122"]) == sum(second["paid"].values())  # one payment per paid

    county.console_login("look", "viewer-pass-1")
    # the province at a glance: a county a line (not thousands of points and villages)
    whole = county.client.get("/console/reports?year=2026").text
    assert 'id="counties"' in whole and 'id="villages"' not in whole
    assert [c["county"] for c in province["counties"]] == ["140121", "140122", "140123"]
    assert [c["registered"] for c in province["counties"]] == [300, 200, 0]
    assert [c["points"] for c in province["counties"]] == [2, 2, 1]
    assert 'href="?year=2026&days=7&region=140122"' in whole
    x = county.client.get("/console/reports/export?table=counties&year=2026")
    rows = list(load_workbook(io.BytesIO(x.content)).active.values)
    assert rows[0][0] == "区划" and [r[0] for r in rows[1:]] == ["140121", "140122", "140123"]

    page = county.client.get("/console/reports?year=2026&region=140122").text
    assert "参保年度报表（区划 140122）" in page and 'option value="140122" selected' in page
    assert "region=140122" in page  # the exports keep the county
    assert 'id="all_counties"' in page  # and the way back to the province
    x = county.client.get("/console/reports/export?table=villages&year=2026&region=140122")
    rows = list(load_workbook(io.BytesIO(x.content)).active.values)
    assert len(rows) == 1 + len(one["villages"])
    assert sum(r[2] for r in rows[1:]) == 200
