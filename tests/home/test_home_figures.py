"""The home page's figures for a generated township equal the truth the generator wrote and
an independent SQL count; a village's 未缴 is the number of names on its campaign list."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from desktop.services import contribution, home
from desktop.services.demo import write_demo_policies
from desktop.store.township import generate

TODAY = dt.date(2026, 12, 3)  # the 2027 campaign is on (demo policy: 2026-09-01 … 12-31);
# the generator spreads 2027 payments over 2026-09-01 … 2026-12-03


@pytest.fixture
def township(store, admin, data_dir):
    write_demo_policies(data_dir, TODAY)
    from desktop.services import setup

    for name in ("南村", "北村"):
        setup.add_village(store, name, by=admin)
    return generate(store, residents=3_000, year=2027)


def test_campaign_figures_equal_the_truth(store, township):
    s = home.summary(store, today=TODAY)
    camp = s["campaign"]
    assert camp["year"] == 2027 == home.open_year(store, TODAY)
    assert (
        camp["target"]["percent"] == Decimal("95.00")
        and "国办发〔2021〕36号" in camp["target"]["cite"]
    )
    by = {v["village"]: v for v in camp["villages"]}
    assert set(by) == {"东村", "西村", "南村", "北村"}
    for name, v in by.items():
        assert v["registered"] == township["registered"][name], name
        assert v["paid"] == township["paid"][name], name
        assert v["subsidized"] == township["subsidized"][name], name
        covered = township["paid"][name] + township["subsidized"][name]
        assert v["rate"] == (Decimal(100) * covered / v["registered"]).quantize(Decimal("0.1"))
        assert v["last_rate"] == (
            Decimal(100) * township["last_covered"][name] / v["registered"]
        ).quantize(Decimal("0.1"))
        assert v["behind"] == (v["rate"] < Decimal(95))
    # an independent count: live payments of 2027 by persons not terminated
    independent = store.query_one(
        "SELECT count(DISTINCT pay.person_id) AS n FROM payment pay JOIN person p"
        " ON p.id = pay.person_id WHERE pay.year = 2027 AND pay.status = 'local'"
        " AND p.status != 3"
    )["n"]
    confirmed = store.query_one(
        "SELECT count(*) AS n FROM enrollment e JOIN person p ON p.id = e.person_id"
        " WHERE e.year = 2027 AND e.county_confirmed_at IS NOT NULL AND p.status != 3"
    )["n"]
    assert camp["total"]["paid"] == independent + confirmed
    assert camp["total"]["registered"] == sum(township["registered"].values())


def test_unpaid_is_the_campaign_list(store, township):
    camp = home.summary(store, today=TODAY)["campaign"]
    for v in camp["villages"]:
        listed = contribution.campaign(store, year=2027, village_id=v["village_id"], today=TODAY)
        assert listed["unpaid_count"] == v["unpaid"], v["village"]
        assert listed["subsidized_count"] == v["subsidized"], v["village"]


def test_payments_by_day_and_today(store, township):
    s = home.summary(store, today=TODAY)
    got = {(d["day"], d["channel"]): d["n"] for d in s["days"]}
    names = {"cash": "现金", "qr": "扫码支付", "bank": "银行代扣/转账"}
    want = {(day, names[ch]): n for (day, ch), n in township["days"].items()}
    assert got == want
    assert all(d["total"] == 400 * d["n"] for d in s["days"])
    work = s["work"]
    today = [n for (day, _ch), n in township["days"].items() if day == TODAY.isoformat()]
    assert today and work["payments"] == sum(today)
    assert work["payments_total"] == 400 * sum(today)
    assert work["pending"] == 0 and work["inbox"] == 0
