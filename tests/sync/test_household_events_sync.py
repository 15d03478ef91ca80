"""Household life events reach the county (real PostgreSQL): a split, a head change and an
exit pushed by a desk are applied there; the exit's status, which the county owns, becomes a
correction request the county decides (never applied behind its back)."""

from __future__ import annotations

import datetime as dt

from core import syncproto as sp
from desktop.services import household_events as ev
from desktop.services import registration
from desktop.services.demo import make_id

TODAY = dt.date(2025, 3, 20)


def test_events_reach_the_county(desks, county_server):
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
    # the status is the county's: a correction request, and the desk is told so
    requests = county_server.sql("SELECT kind, detail FROM conflict WHERE person_id = %s", (zhang,))
    assert [r["kind"] for r in requests] == ["correction_request"]
    assert requests[0]["detail"]["fields"]["status"]["requested"] == 3
    assert sp.N_CORRECTION in {
        i["kind"] for i in __import__("desktop.services.sync", fromlist=["inbox"]).inbox(a.store)
    }
