"""The console's page of one service point: its villages (households and residents it
holds, counted independently here), the operators who synced from its desks (a person, not
the unattended scheduled sync), and its devices."""

from __future__ import annotations

import re

import pytest

from core import syncproto as sp
from county.console.auth import create_staff
from county.console.generate import generate
from tests.county.conftest import SIGNING_KEY

pytestmark = pytest.mark.postgres


def _login(county):
    with county.conn() as c, c.transaction():
        create_staff(c, "case", "王经办", "clerk", "clerk-pass-1")
    county.console_login("case", "clerk-pass-1")


def _rows(html: str, table: str) -> list[list[str]]:
    body = re.search(rf'<table id="{table}">.*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    return [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
        for r in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_villages_operators_and_devices_of_a_point(county):
    with county.conn() as c, c.transaction():
        generate(c, points=2, residents=300, year=2026)
    code = "G0000"
    sp_id = county.sql("SELECT id FROM service_point WHERE code = %s", (code,))[0]["id"]
    reg = county.register(code)
    cred = reg["credential"]
    assert (
        county.post(
            sp.EP_TOKEN, {"credential": cred, "operator_id": "u-7", "operator_name": "李会计"}
        ).status_code
        == 200
    )
    assert (
        county.post(
            sp.EP_TOKEN,
            {"credential": cred, "operator_id": sp.SCHEDULED_OPERATOR, "operator_name": "定时同步"},
        ).status_code
        == 200
    )
    _login(county)

    devices = county.client.get("/console/devices").text
    assert f'href="/console/points/{code}"' in devices
    page = county.client.get(f"/console/points/{code}")
    assert page.status_code == 200
    expected = county.sql(
        "SELECT h.data->>'village_name' AS v, count(DISTINCT h.id) AS h, count(*) AS p"
        " FROM person_link pl JOIN household h ON h.id = pl.household_id"
        " WHERE pl.sp_id = %s GROUP BY 1 ORDER BY 1",
        (sp_id,),
    )
    assert _rows(page.text, "villages") == [[e["v"], str(e["h"]), str(e["p"])] for e in expected]
    assert sum(e["p"] for e in expected) == 150
    operators = _rows(page.text, "operators")
    assert [o[:2] for o in operators] == [["李会计", "测试机"]]  # the scheduled sync is no one
    assert [d[1] for d in _rows(page.text, "devices")] == ["测试机"]
    assert county.client.get("/console/points/NOPE").status_code == 404


def test_times_are_china_time_whatever_the_server_clock(county, monkeypatch, capsys):
    """The bureau reads China time: a contact stored at 20:30 UTC shows as 04:30 the next
    morning on the pages, in the export and on the command line; a registration code's end
    is said without a foreign clock's name."""
    from county import cli

    county.service_point("SP01", "东乡卫生院")
    reg = county.register("SP01")
    with county.conn() as c, c.transaction():
        create_staff(c, "boss", "李局长", "admin", "admin-pass-1")
        c.execute(
            "UPDATE device SET last_seen_at = '2026-03-01 20:30:00+00',"
            " registered_at = '2026-02-28 17:00:00+00' WHERE id = %s",
            (reg["device_id"],),
        )
    page, token = county.console_login("boss", "admin-pass-1", then="/console/devices")
    assert _rows(page.text, "devices")[0][3:5] == ["2026-03-01", "2026-03-02 04:30"]
    assert _rows(page.text, "points")[0][-1] == "2026-03-02 04:30"
    export = county.client.get("/console/reports/export?table=quiet&days=1").content
    assert "2026-03-02 04:30" in _xlsx_text(export)
    code = county.client.post(
        "/console/devices/code", data={"service_point": "SP01", "csrf": token}
    ).text
    assert "有效期至" in code and "UTC" not in code

    monkeypatch.setenv("TOWNSHIP_COUNTY_DATABASE_URL", county.dsn)
    monkeypatch.setenv("TOWNSHIP_COUNTY_SIGNING_KEY", SIGNING_KEY)
    assert cli.main(["device", "list"]) == 0
    assert "2026-03-02 04:30" in capsys.readouterr().out


def _xlsx_text(data: bytes) -> str:
    import io

    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return " ".join(str(c) for row in wb.active.iter_rows(values_only=True) for c in row)


def test_a_provinces_points_and_devices_are_filtered_not_all_listed(county):
    """A province has thousands of service points and PCs: the page lists the first 200
    points and 500 PCs and says so, and a county (区划) or a piece of a code or name narrows
    it — in the database; a % typed is a character, not a pattern."""
    with county.conn() as c, c.transaction():
        create_staff(c, "boss", "李局长", "admin", "admin-pass-1")
    county.many_points(280, second_county_from=251, name="{county}第{n}卫生院")
    county.register("P0263")  # a PC at one of 乙县's points
    page, _ = county.console_login("boss", "admin-pass-1", then="/console/devices")
    assert len(_rows(page.text, "points")) == 200 and 'id="more_points"' in page.text
    assert 'option value="140122"' in page.text and "（30 个服务点）" in page.text

    narrowed = county.client.get("/console/devices?region=140122").text
    points = _rows(narrowed, "points")
    assert len(points) == 30 and {p[2] for p in points} == {"140122"}
    assert 'id="more_points"' not in narrowed
    assert [d[0] for d in _rows(narrowed, "devices")] == ["乙县第263卫生院"]
    assert [d[0] for d in _rows(county.client.get("/console/devices?region=140121").text,
                                "devices")] == ["没有符合条件的电脑"]  # fmt: skip

    found = _rows(county.client.get("/console/devices?q=第26").text, "points")
    assert [p[1] for p in found] == [f"{'甲县' if n <= 250 else '乙县'}第{n}卫生院"
                                     for n in [26, *range(260, 270)]]  # fmt: skip
    by_pc = county.client.get("/console/devices?q=测试机").text
    assert [d[1] for d in _rows(by_pc, "devices")] == ["测试机"]
    assert _rows(county.client.get("/console/devices?q=%25").text, "points") == [
        ["没有符合条件的服务点"]
    ]
