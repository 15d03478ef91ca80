"""Issue 14 item 7: another service point's resident, read and rewritten with an ID number
alone. A device of point B pushes ``person.create`` with a new id and the ID number of a
resident registered by A: the county merges them, but B sees only what it sent until the
county confirms the identity, its changes to A's resident become correction requests, and
the merge is a security event. (Each assertion below failed on the code before.)"""

from __future__ import annotations

import uuid

from core import syncproto as sp


def _person_views(dev, pid):
    changes, _ = dev.pull_all()
    return [c["data"] for c in changes if c["entity"] == sp.E_PERSON and c["id"] == pid]


def test_an_id_number_alone_hands_over_nothing(two_points, county, make_id, person_payload):
    a, b = two_points
    cert = make_id(seq=77)
    pa, pb = str(uuid.uuid4()), str(uuid.uuid4())
    real = person_payload(cert, phone="13811112222", address="东乡一组3号")
    assert a.push_ok([a.op("person.create", pa, real)])[0]["status"] == sp.ST_APPLIED
    # B knows the ID number only, and writes another name
    probe = person_payload(cert, name="王五")
    r = b.push_ok([b.op("person.create", pb, probe)])[0]
    assert r["status"] == sp.ST_MERGED and r["canonical_id"] == pa
    seen = _person_views(b, pa)
    assert seen, "B is told the county's id for what it registered"
    for view in seen:
        assert view["name"] == "王五"  # what B sent, not A's record
        assert view.get("phone") in (None, "") and view.get("address") in (None, "")
    # B's change to A's resident is a correction request, not applied
    upd = b.push_ok(
        [
            b.op(
                "person.update",
                pb,
                {"changes": {"name": "李四", "phone": "13900000000"}, "before": {}},
            )
        ]
    )[0]
    assert set(upd.get("corrections") or []) >= {"name", "phone"}
    row = county.sql("SELECT data->>'name' AS n, data->>'phone' AS p FROM person")[0]
    assert (row["n"], row["p"]) == ("张三", "13811112222")
    assert [v["name"] for v in _person_views(a, pa)][-1] == "张三"
    kinds = [e["kind"] for e in county.sql("SELECT kind FROM security_event")]
    assert "cross_point_merge" in kinds
    # the county checks the identity: from then on B sees the county's record
    conflict = county.sql("SELECT id FROM conflict WHERE kind = 'identity_review'")[0]["id"]
    res = county.client.post(
        f"/api/v1/admin/conflicts/{conflict}/resolve",
        json={"decision": "keep_county", "note": "核对户口本，为同一人"},
        headers={**county.H, "Authorization": "Bearer test-admin-key-0123456789"},
    )
    assert res.status_code == 200, res.text
    assert _person_views(b, pa)[-1]["name"] == "张三"
