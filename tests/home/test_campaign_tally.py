"""The campaign counts the home page reads (kept by triggers, 0140_campaign_tally.sql) equal a
count over the whole township after every kind of write — payments taken, voided and
revived, county confirmations, persons moved, terminated or re-categorised, households moved
between villages or out of any — and a clerk's payment makes only her village be counted
again."""

from __future__ import annotations

import datetime as dt
import random
import uuid

import pytest

from desktop.services import home, setup
from desktop.services.demo import write_demo_policies
from desktop.store import dashboard
from desktop.store.township import generate

TODAY = dt.date(2026, 12, 3)
YEARS = (2027, 2026)
SUBSIDY = frozenset({"tekun"})


@pytest.fixture
def township(store, admin, data_dir):
    write_demo_policies(data_dir, TODAY)
    for name in ("南村", "北村", "中村"):
        setup.add_village(store, name, by=admin)
    generate(store, residents=800, year=2027, seed=5)
    return store


def counted_over_all(store) -> list[dict]:
    return dashboard.village_campaign(store, 2027, SUBSIDY, SUBSIDY)


def kept(store) -> list[dict]:
    dashboard.refresh_campaign_tally(store, YEARS)
    return dashboard.tallied_campaign(store, 2027, SUBSIDY, SUBSIDY)


def one(store, sql: str, params=()):
    row = store.query_one(sql, params)
    return None if row is None else next(iter(row.values()))


def _pay(store, rnd) -> None:
    pid = one(
        store,
        "SELECT p.id FROM person p WHERE NOT EXISTS (SELECT 1 FROM payment x WHERE"
        " x.person_id = p.id AND x.year = 2027 AND x.status IN ('local','confirmed'))"
        " ORDER BY random() LIMIT 1",
    )
    with store.write() as db:
        db.execute(
            "INSERT INTO payment(id, person_id, year, policy_id, amount, amount_due, channel,"
            " paid_on, status, created_at, updated_at) SELECT ?, ?, 2027, 'gen-2027', '400.00',"
            " '400.00', 'cash', ?, 'local', 'now', 'now'",
            (str(uuid.UUID(int=rnd.getrandbits(128))), pid, TODAY.isoformat()),
        )


WRITES = {
    "pay": _pay,
    "void": "UPDATE payment SET status = 'voided' WHERE id = (SELECT id FROM payment WHERE"
    " status = 'local' ORDER BY random() LIMIT 1)",
    "revive": "UPDATE payment SET status = 'local' WHERE id = (SELECT v.id FROM payment v"
    " WHERE v.status = 'voided' AND NOT EXISTS (SELECT 1 FROM payment x WHERE x.person_id ="
    " v.person_id AND x.year = v.year AND x.status IN ('local','confirmed'))"
    " ORDER BY random() LIMIT 1)",
    "confirm": "UPDATE enrollment SET county_confirmed_at = 'now' WHERE id = (SELECT id FROM"
    " enrollment WHERE county_confirmed_at IS NULL ORDER BY random() LIMIT 1)",
    "unconfirm": "UPDATE enrollment SET county_confirmed_at = NULL WHERE id = (SELECT id FROM"
    " enrollment WHERE county_confirmed_at IS NOT NULL ORDER BY random() LIMIT 1)",
    "move person": "UPDATE person SET household_id = (SELECT id FROM household ORDER BY"
    " random() LIMIT 1) WHERE id = (SELECT id FROM person ORDER BY random() LIMIT 1)",
    "terminate": "UPDATE person SET status = 3 WHERE id = (SELECT id FROM person WHERE"
    " status != 3 ORDER BY random() LIMIT 1)",
    "reinstate": "UPDATE person SET status = 1 WHERE id = (SELECT id FROM person WHERE"
    " status = 3 ORDER BY random() LIMIT 1)",
    "subsidize": "UPDATE person SET insured_category = 'tekun' WHERE id = (SELECT id FROM"
    " person WHERE insured_category != 'tekun' ORDER BY random() LIMIT 1)",
    "move household": "UPDATE household SET village_id = (SELECT id FROM village ORDER BY"
    " random() LIMIT 1) WHERE id = (SELECT id FROM household ORDER BY random() LIMIT 1)",
    "household out of any village": "UPDATE household SET village_id = NULL WHERE id ="
    " (SELECT id FROM household ORDER BY random() LIMIT 1)",
    "empty a village": "UPDATE household SET village_id = (SELECT id FROM village WHERE name ="
    " '东村') WHERE village_id = (SELECT id FROM village WHERE name = '中村')",
}


def test_kept_counts_equal_a_count_over_the_township_after_every_kind_of_write(township):
    store, rnd = township, random.Random(3)
    assert kept(store) == counted_over_all(store)
    for step in range(120):
        name = rnd.choice(sorted(WRITES))
        write = WRITES[name]
        if callable(write):
            write(store, rnd)
        else:
            with store.write() as db:
                db.execute(write)
        if step % 4 == 0:
            assert kept(store) == counted_over_all(store), f"after {name} (step {step})"
    assert kept(store) == counted_over_all(store)
    assert any(r["village_id"] is None for r in counted_over_all(store))


def test_a_payment_makes_only_its_village_be_counted_again(township):
    store = township
    kept(store)
    assert dashboard.refresh_campaign_tally(store, YEARS) == 0  # nothing written since
    _pay(store, random.Random(1))
    assert dashboard.refresh_campaign_tally(store, YEARS) == 1  # one village, one year
    assert kept(store) == counted_over_all(store)


def test_a_write_rolled_back_leaves_the_counts_true(township):
    store = township
    before = kept(store)
    with pytest.raises(RuntimeError), store.write() as db:
        db.execute("UPDATE payment SET status = 'voided' WHERE status = 'local'")
        raise RuntimeError("power cut")
    assert kept(store) == before == counted_over_all(store)


def test_the_home_page_reads_the_kept_counts_and_reports_of_a_day_count_it_all(township):
    store = township
    today = home.campaign(store, 2027)
    as_then = home.campaign(store, 2027, as_of=dt.date(2099, 12, 31))
    assert today["villages"] == as_then["villages"] and today["total"] == as_then["total"]
    assert one(store, "SELECT count(*) FROM campaign_tallied WHERE year = 2027") > 0


def _id_no(seq: int) -> str:
    from stdnum.cn import ric

    body = f"14012119800101{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def _pull(store, first: int, n: int, households: list[str]) -> int:
    """Apply a page of ``n`` pulled persons as a sync does; returns the rows applied."""
    from core import syncproto as sp
    from desktop.sync.apply import apply_page
    from desktop.sync.hooks import SyncHooks

    changes = [
        sp.Change(
            i + 1,
            sp.STREAM_SERVICE_POINT,
            sp.E_PERSON,
            f"county-p{i}",
            "upsert",
            1,
            {
                "id": f"county-p{i}",
                "name": "县里登记",
                "cert_type": "resident_id",
                "cert_no": _id_no(i),
                "sex": "male",
                "birth_date": "1980-01-01",
                "household_id": households[i % len(households)],
                "relation": "other",
                "region_code": "140121",
                "insured_category": "ordinary",
                "status": 1,
            },
        )
        for i in range(first, first + n)
    ]

    class Counts:
        applied = 0

    counts = Counts()
    with store.write() as db:
        apply_page(store, db, changes, counts, SyncHooks())
    return counts.applied


def test_a_pulled_page_takes_out_its_villages_and_a_large_one_every_tally(township):
    """An everyday page takes out only the villages it touches (the triggers); a first
    sync's page forgets every tally once (0150: the triggers then skip its rows); either
    way the next read agrees with a count over all."""
    from desktop.sync.apply import FORGET_TALLIES_AT

    store = township
    kept(store)
    one_village = [
        r["id"]
        for r in store.query(
            "SELECT id FROM household WHERE village_id ="
            " (SELECT id FROM village ORDER BY name LIMIT 1) ORDER BY id LIMIT 5"
        )
    ]
    assert _pull(store, 700, 10, one_village) == 10
    assert one(store, "SELECT count(*) FROM person WHERE id LIKE 'county-p%'") == 10
    assert one(store, "SELECT count(*) FROM campaign_tallied") > 0  # the other villages
    assert kept(store) == counted_over_all(store)
    assert _pull(store, 710, FORGET_TALLIES_AT, one_village) == FORGET_TALLIES_AT
    assert one(store, "SELECT count(*) FROM campaign_tallied") == 0
    assert kept(store) == counted_over_all(store)
