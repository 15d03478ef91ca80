"""因病返贫 early warning end to end (issue 16), real PostgreSQL and a real desk: a settled
estimate pushing a 监测对象 over the line of the county's policy file puts the person on the
desk's 预警 list, and the warning reaches the county with the next sync; a watched person
under the line and an ordinary resident over it never appear; county year-to-date figures
arriving by sync raise a warning too. Without a line in any policy file, nothing is raised."""

from __future__ import annotations

import pytest

from county.ingest.alerts import list_alerts
from county.tables import run_import
from county.ytd import import_ytd
from desktop.services import alerts, registration
from desktop.services import estimate as est
from desktop.services.demo import make_id

pytestmark = pytest.mark.postgres

WARNING = """[policy]
id = "county-warning-2025"
region = "140121"
year = 2025
title = "测试县因病返贫预警线（测试用）"
source = "测试数据：仅供测试"

[poverty_warning]
source = "测试数据：仅供测试"
income_per_capita = "10000.00"
income_source = "测试数据：上年居民人均可支配收入（测试用）"
share = "0.5"
share_source = "测试数据：预警比例（测试用）"
categories = ["monitored", "dibao"]
"""
BIG = {"setting": "inpatient", "price_class": "class2_county", "in_policy": "20000.00"}
SMALL = {"setting": "inpatient", "price_class": "class2_county", "in_policy": "3000.00"}


def _enroll(desk, name: str, n: int, category: str) -> tuple[str, str]:
    cert = make_id("140121", "1960-03-03", n, "male")
    registration.create_household(
        desk.store,
        desk.actor,
        {"village_id": desk.village(), "address": f"{n}组"},
        [{"name": name, "cert_no": cert, "relation": "head", "insured_category": category}],
    )
    pid = desk.store.query_one("SELECT id FROM person WHERE cert_no = ?", (cert,))["id"]
    return pid, cert


def _settle(desk, pid: str, bill: dict) -> None:
    saved = est.save(
        desk.store, desk.actor, policy_id="shanxi-2025", given=bill, person_id=pid, year=2025,
        data_dir=desk.data_dir,
    )  # fmt: skip
    est.mark_settled(desk.store, desk.actor, saved["id"])


def test_a_settled_estimate_over_the_line_reaches_the_county(desks, county_server):
    desk = desks("SP01", "东乡卫生院")
    watched, _ = _enroll(desk, "张监测", 1, "monitored")
    under, under_cert = _enroll(desk, "李低保", 2, "dibao")
    ordinary, _ = _enroll(desk, "王普通", 3, "ordinary")

    _settle(desk, watched, BIG)  # no line published yet: nothing
    assert alerts.listing(desk.store) == [] and not alerts.status(desk.store, 2025)["configured"]

    (desk.data_dir / "policies").mkdir(exist_ok=True)
    (desk.data_dir / "policies" / "county-warning-2025.toml").write_text(WARNING, "utf-8")
    from desktop.services import policies

    policies.clear_cache()
    assert alerts.status(desk.store, 2025)["threshold"] == "5000.00"
    _settle(desk, watched, SMALL)  # the year's burden now 5300 + …: over 5000
    _settle(desk, under, SMALL)
    _settle(desk, ordinary, BIG)
    listed = alerts.listing(desk.store)
    assert [(a["name"], a["category"]) for a in listed] == [("张监测", "防止返贫监测对象")]
    burden = sum(
        float(r["psn_part_amt"])
        for r in desk.store.query(
            "SELECT psn_part_amt FROM estimate WHERE person_id = ? AND settled = 1", (watched,)
        )
    )
    assert float(listed[0]["burden"]) == burden and listed[0]["threshold"] == "5000.00"
    assert listed[0]["sent"] == "待上传" and "*" in listed[0]["cert_masked"]
    _settle(desk, watched, SMALL)  # once per person and year
    assert len(alerts.listing(desk.store)) == 1

    desk.sync()
    assert alerts.listing(desk.store)[0]["sent"] == "已报县医保局"
    with county_server.conn() as c:
        rows = list_alerts(c)
    assert [(r["name"], r["category"], str(r["burden"])) for r in rows] == [
        ("张监测", "monitored", f"{burden:.2f}")
    ]

    # the county's year-to-date burden of the 低保 resident, arriving by sync
    with county_server.conn() as c:
        rep = run_import(
            c,
            [{"身份证号": under_cert, "年度": "2025", "本年倾斜救助累计基数": "6000.00"}],
            import_ytd,
        )
        assert not rep.errors, rep.errors
    desk.sync()  # pulls the figures (a warning is raised), pushes the warning
    names = [a["name"] for a in alerts.listing(desk.store)]
    assert sorted(names) == ["张监测", "李低保"]
    assert "县医保局本年累计数" in [a["basis"] for a in alerts.listing(desk.store)]
    desk.sync()
    with county_server.conn() as c:
        assert sorted(r["name"] for r in list_alerts(c)) == ["张监测", "李低保"]
