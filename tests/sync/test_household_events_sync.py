"""Household life events reach the county (real PostgreSQL): a split, a head change and an
exit pushed by a desk are applied there; the exit's status, which the county owns, becomes a
correction request the county decides (never applied behind its back); a death the county
records wins; two service points moving the same person: the first wins."""

from __future__ import annotations

import datetime as dt

from core import syncproto as sp
from desktop.services import household_events as ev
from desktop.services import registration
from desktop.services import sync as sync_service
from desktop.services.demo import make_id

TODAY = dt.date(2025, 3, 20)


def test_events_reach_the_county(desks, county_server, fast_dir):
    a = desks("SP01", "东乡卫生院")
    made = registration.create_household(
        a.store,
        a.actor,
        {"village_id": a.village(), "address": "一组"},
        [
            {
                "name": "张三",
                "sex": "male",
                "birth_date": "1970-01-01",
                "cert_no": make_id("140121", "1970-01-01", 41, "male"),
            },
            {
                "name": "李四",
                "relation": "spouse",
                "sex": "female",
                "birth_date": "1972-02-02",
                "cert_no": make_id("140121", "1972-02-02", 42, "female"),
            },
            {
                "name": "张五",
                "relation": "son",
                "sex": "male",
                "birth_date": "1995-03-03",
                "cert_no": make_id("140121", "1995-03-03", 43, "male"),
            },
        ],
    )
    zhang, li, wu = made.person_ids
    assert a.sync().pending == 0
    split = ev.apply(
        a.store,
        a.actor,
        {
            "kind": "split",
            "person_ids": [wu],
            "head_id": wu,
            "address": "二组5号",
            "village_id": a.village(),
        },
        today=TODAY,
    )
    ev.apply(
        a.store,
        a.actor,
        {
            "kind": "change_head",
            "household_id": made.household_id,
            "new_head_id": li,
            "old_head_relation": "spouse",
        },
        today=TODAY,
    )
    ev.apply(
        a.store,
        a.actor,
        {
            "kind": "terminate",
            "person_id": zhang,
            "exit_reason": "employee",
            "exit_date": "2025-03-01",
        },
        today=TODAY,
    )
    run = a.sync()
    assert run.pending == 0
    rejected = [
        r for r in a.store.query("SELECT op_type, result FROM outbox") if "rejected" in r["result"]
    ]
    assert rejected == []
    link = county_server.sql(
        "SELECT household_id, relation FROM person_link WHERE person_id = %s", (wu,)
    )[0]
    assert link == {"household_id": split["household_id"], "relation": "head"}
    assert (
        county_server.sql("SELECT data FROM household WHERE id = %s", (split["household_id"],))[0][
            "data"
        ]["address"]
        == "二组5号"
    )
    head = county_server.sql("SELECT data FROM household WHERE id = %s", (made.household_id,))[0][
        "data"
    ]["head_person_id"]
    assert head == li
    zhang_c = county_server.sql("SELECT data FROM person WHERE id = %s", (zhang,))[0]["data"]
    assert zhang_c["exit_reason"] == "参加职工医保" and zhang_c["exit_date"] == "2025-03-01"
    # a second desk of the same service point sees the household as it is now
    from conftest import Desk

    b = Desk(fast_dir / "second", county_server, "SP01", "东乡卫生院")
    try:
        b.sync()
        b_wu = b.store.query_one("SELECT household_id, relation FROM person WHERE id = ?", (wu,))
        assert b_wu == {"household_id": split["household_id"], "relation": "head"}
        b_hh = b.store.query_one(
            "SELECT head_person_id FROM household WHERE id = ?", (made.household_id,)
        )
        assert b_hh["head_person_id"] == li
        b_zhang = b.store.query_one("SELECT exit_date FROM person WHERE id = ?", (zhang,))
        assert b_zhang["exit_date"] == "2025-03-01"
    finally:
        b.close()
    # the status is the county's: a correction request, and the desk is told so
    requests = county_server.sql("SELECT kind, detail FROM conflict WHERE person_id = %s", (zhang,))
    assert [r["kind"] for r in requests] == ["correction_request"]
    assert requests[0]["detail"]["fields"]["status"]["requested"] == 3
    assert sp.N_CORRECTION in {i["kind"] for i in sync_service.inbox(a.store)}


def test_a_death_the_county_records_wins(desks, county_server):
    from county import admin
    from desktop.services import contribution

    a = desks("SP01", "东乡卫生院")
    number = make_id("140121", "1940-04-04", 51, "male")
    made = registration.create_household(
        a.store,
        a.actor,
        {"village_id": a.village(), "address": "三组"},
        [{"name": "赵老汉", "sex": "male", "birth_date": "1940-04-04", "cert_no": number}],
    )
    pid = made.person_ids[0]
    a.sync()
    with county_server.conn() as c, c.transaction():
        rep = admin.import_roster(
            c,
            [
                {
                    "身份证号": number,
                    "姓名": "赵老汉",
                    "服务点编码": "SP01",
                    "死亡日期": "2025-02-10",
                }
            ],
        )
        assert not rep.errors, rep.errors
        bad = admin.import_roster(
            c,
            [{"身份证号": number, "姓名": "赵老汉", "服务点编码": "SP01", "终止日期": "2025/2/10"}],
        )
        assert "YYYY-MM-DD" in bad.errors[0][1]
    a.sync()
    row = a.store.query_one(
        "SELECT status, exit_reason, exit_date FROM person WHERE id = ?", (pid,)
    )
    assert row == {"status": 3, "exit_reason": "死亡", "exit_date": "2025-02-10"}
    rows = contribution.campaign(a.store, year=2025, household_id=made.household_id, today=TODAY)
    assert rows["rows"] == []
    # a later edit at the desk does not overwrite the county's record: a correction request
    registration.update_person(a.store, a.actor, pid, {"phone": "13900001111"})
    a.sync()
    county = county_server.sql("SELECT data FROM person WHERE id = %s", (pid,))[0]["data"]
    assert county.get("phone") in (None, "") and county["status"] == 3
    kinds = [
        r["detail"]["fields"]
        for r in county_server.sql(
            "SELECT detail FROM conflict WHERE person_id = %s AND kind = 'correction_request'",
            (pid,),
        )
    ]
    assert any("phone" in f for f in kinds)
    a.sync()
    assert a.store.query_one("SELECT status FROM person WHERE id = ?", (pid,))["status"] == 3


def test_two_service_points_moving_the_same_person(desks, county_server):
    """The first move to reach the county wins; the other desk's move is kept out, both
    points are told, and the county holds both versions."""
    a = desks("SP01", "东乡卫生院")
    b = desks("SP02", "西乡卫生院")
    number = make_id("140121", "1990-09-09", 71, "female")

    def family(desk, head_name, head_no):
        return registration.create_household(
            desk.store,
            desk.actor,
            {"village_id": desk.village(), "address": "一组"},
            [
                {"name": head_name, "sex": "male", "birth_date": "1960-01-01", "cert_no": head_no},
                {
                    "name": "周丽",
                    "relation": "daughter",
                    "sex": "female",
                    "birth_date": "1990-09-09",
                    "cert_no": number,
                },
            ],
        )

    fa = family(a, "周父", make_id("140121", "1960-01-01", 72, "male"))
    fb = family(b, "吴父", make_id("140121", "1960-01-01", 73, "male"))
    a.sync()
    b.sync()
    a.sync()
    zhou = fa.person_ids[1]
    assert b.store.query_one("SELECT id FROM person WHERE cert_no = ?", (number,))["id"] == zhou

    def split(desk, hid_owner):
        return ev.apply(
            desk.store,
            desk.actor,
            {
                "kind": "split",
                "person_ids": [zhou],
                "head_id": zhou,
                "address": "新房",
                "village_id": desk.village(),
            },
            today=TODAY,
        )

    first = split(a, fa)  # A moves her first and reaches the county first
    a.sync()
    split(b, fb)  # B, not knowing, moves her into another household
    b.sync()
    kept = county_server.sql(
        "SELECT sp_id, household_id FROM person_link WHERE person_id = %s ORDER BY sp_id", (zhou,)
    )
    assert {r["sp_id"]: r["household_id"] for r in kept}[a.sp_id] == first["household_id"]
    assert {r["sp_id"]: r["household_id"] for r in kept}[b.sp_id] == fb.household_id  # refused
    conflict = county_server.sql(
        "SELECT id, sp_ids, detail FROM conflict WHERE kind = 'move_conflict' AND person_id = %s",
        (zhou,),
    )
    assert len(conflict) == 1 and sorted(conflict[0]["sp_ids"]) == sorted([a.sp_id, b.sp_id])
    assert conflict[0]["detail"]["kept"][0]["household_id"] == first["household_id"]
    assert sp.N_MOVE_CONFLICT in {i["kind"] for i in sync_service.inbox(b.store)}
    a.sync()
    assert sp.N_MOVE_CONFLICT in {i["kind"] for i in sync_service.inbox(a.store)}
    outcome = b.store.query_one(
        "SELECT status FROM outbox WHERE op_type = 'person.update' ORDER BY device_seq DESC"
    )
    assert outcome["status"] == sp.ST_CONFLICT
    from county import admin

    with county_server.conn() as c, c.transaction():
        done = admin.resolve_conflict(c, conflict[0]["id"], "keep_first")
    assert done["status"] == "resolved" and "保留先办理的迁移" in done["result"]


def test_an_old_desk_still_syncs(desks, county_server, monkeypatch):
    """A desk speaking protocol version 1 registers, pushes and pulls against this county."""
    assert sp.MIN_PROTOCOL_VERSION == 1 < sp.PROTOCOL_VERSION
    monkeypatch.setattr(sp, "PROTOCOL_VERSION", 1)  # the desk's side of the wire only
    a = desks("SP01", "东乡卫生院")
    registration.create_household(
        a.store,
        a.actor,
        {"village_id": a.village(), "address": "一组"},
        [
            {
                "name": "老版本",
                "sex": "male",
                "birth_date": "1966-06-06",
                "cert_no": make_id("140121", "1966-06-06", 81, "male"),
            }
        ],
    )
    run = a.sync()
    assert run.pending == 0 and run.by_status == {sp.ST_APPLIED: 2}
