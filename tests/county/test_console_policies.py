"""Console policies: a broken file is refused in words; a correct one is checked with the
desk's own parser, previewed (reference bills under the file in force and the new one) and
published by an administrator only, to every desk or to chosen service points; the history
says who published what, and where."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from county.console.auth import create_staff

pytestmark = pytest.mark.postgres
SHANXI = Path(__file__).resolve().parents[2] / "resources" / "policies" / "shanxi-2025.toml"


def _login(county, username, password):
    return county.console_login(username, password)[1]


def _check(county, token, name, text):
    return county.client.post(
        "/console/policies/check",
        data={"csrf": token},
        files={"upload": (name, text.encode("utf-8"), "application/toml")},
    )


def _cells(html: str, row_text: str) -> list[str]:
    row = next(r for r in re.findall(r"<tr>(.*?)</tr>", html, re.S) if row_text in r)
    return [
        re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    ]


def test_check_preview_publish(county):
    with county.conn() as c, c.transaction():
        create_staff(c, "boss", "李局长", "admin", "admin-pass-1")
        create_staff(c, "case", "王经办", "clerk", "clerk-pass-1")
    text = SHANXI.read_text(encoding="utf-8")

    token = _login(county, "case", "clerk-pass-1")
    bad = _check(county, token, "坏.toml", text.replace('ratio = "0.85"', 'ratio = "1.85"', 1))
    assert "政策文件有误" in bad.text and "ratio" in bad.text
    broken = _check(county, token, "坏.toml", "[policy\nid = ")
    assert "格式错误" in broken.text
    ok = _check(county, token, "shanxi-2025.toml", text)
    assert "检查通过" in ok.text and "这是新的政策" in ok.text
    assert 'id="publish"' not in ok.text  # a case worker checks, an administrator publishes
    refused = county.client.post(
        "/console/policies/publish", data={"upload": "x" * 32 + ".toml", "csrf": token}
    )
    assert refused.status_code == 403

    token = _login(county, "boss", "admin-pass-1")
    ok = _check(county, token, "shanxi-2025.toml", text)
    upload = re.search(r'name="upload" value="([^"]+)"', ok.text).group(1)
    r = county.client.post("/console/policies/publish", data={"upload": upload, "csrf": token})
    assert "已发布第1版" in r.text
    assert county.sql("SELECT version FROM policy")[0]["version"] == 1
    hist = county.sql("SELECT version, published_by FROM policy_history")
    assert hist == [{"version": 1, "published_by": "boss"}]
    history = re.search(
        r'<table id="history">.*?</table>', county.client.get("/console/policies").text, re.S
    )
    assert "<td>李局长</td>" in history.group(0) and "boss" not in history.group(0)

    # a new file that pays less at township hospitals: the preview shows it per bill
    worse = text.replace('ratio = "0.85"', 'ratio = "0.80"', 1)
    r = _check(county, token, "shanxi-2025.toml", worse)
    assert "将替换现行的同名政策" in r.text and "ratio" in r.text  # the diff names the line
    cells = _cells(
        r.text, '三类收费价格（乡镇卫生院等）</td><td>普通居民</td><td class="num">20000'
    )
    # in policy 17,000 − deductible 100 = 16,900; 5% less of it: the resident pays 845 more
    assert cells[-1] == "+845.00", cells
    upload = re.search(r'name="upload" value="([^"]+)"', r.text).group(1)
    r = county.client.post("/console/policies/publish", data={"upload": upload, "csrf": token})
    assert "已发布第2版" in r.text
    r = county.client.post("/console/policies/publish", data={"upload": upload, "csrf": token})
    assert "已过期" in r.text  # an upload is published once


def test_publish_to_chosen_points(county):
    """A pilot: published to the ticked service points only; with none ticked the file is
    shown again with the reason and nothing is published; the lists say where it went."""
    county.service_point("SP01", "东乡卫生院")
    county.service_point("SP02", "西乡卫生院")
    with county.conn() as c, c.transaction():
        create_staff(c, "boss", "李局长", "admin", "admin-pass-1")
    text = SHANXI.read_text(encoding="utf-8")
    token = _login(county, "boss", "admin-pass-1")
    ok = _check(county, token, "shanxi-2025.toml", text)
    assert 'value="SP01"' in ok.text and "西乡卫生院（SP02）" in ok.text
    upload = re.search(r'name="upload" value="([^"]+)"', ok.text).group(1)
    form = {"upload": upload, "csrf": token, "scope": "chosen"}
    r = county.client.post("/console/policies/publish", data=form)
    assert "请至少选择一个服务点" in r.text and "检查通过" in r.text
    assert county.sql("SELECT count(*) AS n FROM change_log WHERE entity = 'policy'")[0]["n"] == 0
    r = county.client.post("/console/policies/publish", data={**form, "points": ["SP02"]})
    assert "已发布第1版，选定的 1 个服务点的电脑下次同步时收到" in r.text, r.text
    streams = county.sql("SELECT stream FROM change_log WHERE entity = 'policy'")
    sp02 = county.sql("SELECT id FROM service_point WHERE code = 'SP02'")[0]["id"]
    assert streams == [{"stream": f"sp:{sp02}"}]
    assert _cells(r.text, "第1版：")[-1] == "第1版：西乡卫生院"  # 现行政策: the pilot
    assert _cells(r.text, "李局长")[3] == "西乡卫生院"
    audit = county.sql("SELECT detail FROM staff_audit WHERE action = 'policy.publish'")
    assert audit[0]["detail"]["points"] == ["SP02"]


def test_a_provinces_pilot_is_chosen_by_county_and_by_code(county):
    """A province's thousands of service points are no list of boxes: past 60 the page
    offers whole counties (区划) and typed codes; a pilot of one county and one more point
    reaches exactly those, and a mistyped code is refused by name with nothing published."""
    with county.conn() as c, c.transaction():
        create_staff(c, "boss", "李局长", "admin", "admin-pass-1")
    county.many_points(80, second_county_from=71)
    token = _login(county, "boss", "admin-pass-1")
    ok = _check(county, token, "shanxi-2025.toml", SHANXI.read_text(encoding="utf-8"))
    assert 'id="pointpick"' in ok.text and 'id="pointlist"' not in ok.text
    assert 'value="140122"' in ok.text and 'type="checkbox"' not in ok.text
    upload = re.search(r'name="upload" value="([^"]+)"', ok.text).group(1)
    form = {"upload": upload, "csrf": token, "scope": "chosen"}
    r = county.client.post(
        "/console/policies/publish", data={**form, "pick_codes": "P0003、P9999 x1"}
    )
    assert "没有这些服务点编码：P9999、x1" in r.text
    assert county.sql("SELECT count(*) AS n FROM change_log WHERE entity = 'policy'")[0]["n"] == 0
    r = county.client.post(
        "/console/policies/publish",
        data={**form, "pick_codes": "P0003", "pick_region": ["140122"]},
    )
    assert "选定的 11 个服务点的电脑" in r.text, r.text
    got = county.sql(
        "SELECT sp.code FROM change_log l JOIN service_point sp ON l.stream = 'sp:' || sp.id"
        " WHERE l.entity = 'policy' ORDER BY sp.code"
    )
    assert [g["code"] for g in got] == ["P0003", *[f"P{n:04d}" for n in range(71, 81)]]
