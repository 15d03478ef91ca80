"""The console's conflicts list at a province's size: filtered in the database (state, kind,
service point), the open ones oldest first and the others newest first, a page of 500 that
says so; one conflict's page reads that conflict, not every conflict there has been."""

from __future__ import annotations

import re

import pytest

from county import admin
from county.console.auth import create_staff

pytestmark = pytest.mark.postgres

KINDS = ["double_enrollment", "identity_review", "stale_update"]


def _rows(html: str) -> list[list[str]]:
    body = re.search(r'<table id="conflicts".*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    return [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
        for r in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_a_provinces_conflicts_filtered_in_the_database(county):
    a = county.service_point("SP01", "东乡卫生院")["id"]
    b = county.service_point("SP02", "西乡卫生院")["id"]
    with county.conn() as c, c.transaction():
        create_staff(c, "case", "王经办", "clerk", "clerk-pass-1")
        c.execute(
            "INSERT INTO conflict(id, kind, status, sp_ids, summary, created_at, resolved_at,"
            " resolution)"
            " SELECT 'c' || n, (%s::text[])[1 + n %% 3], s, "
            " CASE WHEN n %% 2 = 0 THEN ARRAY[%s] ELSE ARRAY[%s, %s] END,"
            " '第' || n || '条', t, CASE WHEN s = 'resolved' THEN t + interval '1 hour' END,"
            " CASE WHEN s = 'resolved' THEN jsonb_build_object('note', '已核实') END"
            " FROM generate_series(1, 1500) n,"
            " LATERAL (SELECT CASE WHEN n %% 10 = 0 THEN 'open' ELSE 'resolved' END AS s,"
            " timestamptz '2026-01-01 00:00+08' + n * interval '1 minute' AS t) x",
            (KINDS, a, a, b),
        )
    county.console_login("case", "clerk-pass-1")

    page = county.client.get("/console/conflicts").text  # open: 150, oldest first
    rows = _rows(page)
    assert len(rows) == 150 and 'id="more"' not in page
    assert rows[0][3] == "第10条" and rows[-1][3] == "第1500条"

    page = county.client.get("/console/conflicts?state=all").text  # a page, newest first
    rows = _rows(page)
    assert len(rows) == 500 and rows[0][3] == "第1500条" and "只列出最近的 500 条" in page

    url = "/console/conflicts?state=resolved&kind=identity_review&point=SP02"
    rows = _rows(county.client.get(url).text)
    truth = county.sql(
        "SELECT summary FROM conflict WHERE status = 'resolved' AND kind = 'identity_review'"
        " AND %s = ANY(sp_ids) ORDER BY created_at DESC",
        (b,),
    )
    assert [r[3] for r in rows] == [t["summary"] for t in truth] and 0 < len(rows) < 500
    assert _rows(county.client.get("/console/conflicts?point=NOPE").text) == [
        ["没有符合条件的冲突"]
    ]

    assert "西乡卫生院（SP02）" in page  # a name and its code: 城关镇卫生院 is in every county
    county.many_points(70, second_county_from=1, code="X")  # a province: the code is typed
    page = county.client.get(url.replace("point=SP02", "point=+SP02+")).text
    assert 'id="point" value="SP02"' in page and "<option" in page  # state, kind: lists still
    assert [r[3] for r in _rows(page)] == [t["summary"] for t in truth]

    one = county.client.get("/console/conflicts/c777")
    assert one.status_code == 200 and "第777条" in one.text
    assert "已于 2026-01-01 13:57 处理：已核实" in one.text  # China time; no one recorded
    # resolved on the server's command line: the technician, in words
    with county.conn() as c, c.transaction():
        admin.resolve_conflict(c, "c20", "keep_county", note="已核对")
    assert (
        "由技术员（服务器上的命令）处理：已核对" in county.client.get("/console/conflicts/c20").text
    )
    assert "没有这条冲突记录" in county.client.get("/console/conflicts/c99999").text


def test_the_command_line_lists_conflicts_in_words(county, monkeypatch, capsys):
    """The technician's `township-county conflicts list`: kind, state and China time in
    words (the id stays: `conflicts resolve` takes it), no English codes."""
    from county import cli
    from tests.county.conftest import SIGNING_KEY

    county.service_point("SP01", "东乡卫生院")
    with county.conn() as c, c.transaction():
        c.execute(
            "INSERT INTO conflict(id, kind, status, summary, created_at) VALUES"
            " ('k1', 'identity_review', 'open', '张三的出生日期不同',"
            " '2026-03-01 20:30+00')"
        )
    monkeypatch.setenv("TOWNSHIP_COUNTY_DATABASE_URL", county.dsn)
    monkeypatch.setenv("TOWNSHIP_COUNTY_SIGNING_KEY", SIGNING_KEY)
    assert cli.main(["conflicts", "list"]) == 0
    out = capsys.readouterr().out
    assert "k1  2026-03-02 04:30  身份核对  待处理  张三的出生日期不同" in out
    assert "identity_review" not in out and "open" not in out


def test_a_conflicts_two_sides_are_in_words(county):
    """身份核对 side by side: each field by its name and each value in words — 男/女,
    全额资助, 正常参保 — never the stored codes (male, full, 1)."""
    import json

    county.service_point("SP01", "东乡卫生院")
    with county.conn() as c, c.transaction():
        create_staff(c, "case", "王经办", "clerk", "clerk-pass-1")
        differences = {
            "name": {"county": "张三", "desktop": "张叁"},
            "sex": {"county": "male", "desktop": "female"},
            "subsidy_category": {"county": "none", "desktop": "full"},
            "status": {"county": 1, "desktop": "3"},
        }
        c.execute(
            "INSERT INTO conflict(id, kind, summary, detail) VALUES"
            " ('r1', 'identity_review', '张三的信息不同', %s)",
            (json.dumps({"differences": differences}),),
        )
    county.console_login("case", "clerk-pass-1")
    page = county.client.get("/console/conflicts/r1").text
    cells = [
        re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", page, re.S)
    ]
    for words in (["男", "女"], ["无资助", "全额资助"], ["正常参保", "终止参保"], ["张三", "张叁"]):
        assert all(w in cells for w in words), (words, cells)
    for code in ("male", "female", ">full<", ">none<"):
        assert code not in page, code
