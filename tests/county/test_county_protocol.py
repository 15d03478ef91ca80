"""Registration, tokens, push idempotency, pull cursors and snapshots on a real PostgreSQL."""

from __future__ import annotations

import contextlib
import uuid
from concurrent.futures import ThreadPoolExecutor

import anyio.to_thread
import psycopg
import pytest
from psycopg.pq import TransactionStatus

from core import syncproto as sp
from county.db import autocommit


def _types(changes):
    return [(c["entity"], c["id"]) for c in changes]


def test_register_once_and_token(county):
    county.service_point("SP01", "东乡卫生院")
    code = county.code("SP01")
    r = county.post(sp.EP_REGISTER, {"code": code.lower().replace("-", " ")})
    assert r.status_code == 200, r.text
    reg = sp.RegisterResponse.from_dict(r.json())
    assert reg.service_point.code == "SP01" and len(reg.credential) < 200
    again = county.post(sp.EP_REGISTER, {"code": code})
    assert again.status_code == 400
    assert again.json()["code"] == sp.ERR_CODE_INVALID and "只能用一次" in again.json()["message"]
    assert county.sql("SELECT count(*) AS n FROM device")[0]["n"] == 1
    assert county.sql("SELECT kind FROM security_event")[-1]["kind"] == "registration_refused"
    tok = county.token(reg.credential)
    assert tok.status_code == 200
    assert sp.TokenResponse.from_dict(tok.json()).service_point_id == reg.service_point.id
    bad = county.token(reg.credential[:-3] + "xyz")
    assert bad.status_code == 401 and bad.json()["code"] == sp.ERR_CREDENTIAL


def test_expired_code_refused(county):
    county.service_point("SP01", "东乡卫生院")
    code = county.code("SP01")
    county.sql("UPDATE registration_code SET expires_at = now() - interval '1 hour' RETURNING 1")
    r = county.post(sp.EP_REGISTER, {"code": code})
    assert r.status_code == 400 and "过期" in r.json()["message"]


def test_token_expiry(county):
    county.service_point("SP01", "东乡卫生院")
    dev = county.device("SP01")
    assert dev.pull()["has_more"] is False
    county.clock.offset = sp.TOKEN_TTL_SECONDS + 5
    r = county.post(sp.EP_PULL, {"cursor": sp.empty_cursor()}, dev.token)
    assert r.status_code == 401 and r.json()["code"] == sp.ERR_TOKEN_EXPIRED
    dev.refresh()
    assert dev.pull()["has_more"] is False


def test_push_idempotent_and_hash_mismatch(two_points, county, make_id, person_payload):
    a, _ = two_points
    pid = str(uuid.uuid4())
    op = a.op("person.create", pid, person_payload(make_id()))
    first = a.push_ok([op])[0]
    assert first["status"] == sp.ST_APPLIED and first["version"] == 1
    again = a.push_ok([op])[0]
    assert again["replayed"] is True and again["status"] == sp.ST_APPLIED
    forged = {**op, "payload": {**op["payload"], "name": "李四"}}
    forged["payload_sha256"] = sp.payload_sha256(forged["payload"])
    r = a.push_ok([forged])[0]
    assert r["status"] == sp.ST_REJECTED and r["code"] == sp.R_HASH_MISMATCH
    corrupt = a.op("person.create", str(uuid.uuid4()), person_payload(make_id(seq=2)))
    corrupt["payload_sha256"] = "0" * 64
    assert a.push_ok([corrupt])[0]["code"] == sp.R_HASH_MISMATCH
    assert county.sql("SELECT data->>'name' AS n FROM person")[0]["n"] == "张三"
    assert county.sql("SELECT count(*) AS n FROM applied_op")[0]["n"] == 1


def test_bad_op_does_not_abort_batch(two_points, county, make_id, person_payload):
    a, _ = two_points
    hid, p1, p2 = (str(uuid.uuid4()) for _ in range(3))
    ops = [
        a.op("household.create", hid, {"address": "东村1号", "hukou_type": "rural"}),
        a.op("person.create", p1, person_payload(make_id(seq=3), household_id=hid)),
        a.op("person.create", p2, {**person_payload(make_id(seq=5)), "sex": "unknown"}),
        a.op("payment.record", str(uuid.uuid4()), {"enrollment_id": "nope", "amount": "400.00"}),
        a.op("spaceship.launch", str(uuid.uuid4()), {}),
        a.op("enrollment.create", str(uuid.uuid4()), {"person_id": p1, "year": 2025}),
    ]
    res = a.push_ok(ops)
    assert [r["status"] for r in res] == [
        "applied",
        "applied",
        "rejected",
        "rejected",
        "rejected",
        "applied",
    ]
    assert [r["code"] for r in res[2:5]] == [sp.R_INVALID, sp.R_NOT_FOUND, sp.R_UNKNOWN_OP]
    assert "性别" in res[2]["message"]
    assert county.sql("SELECT count(*) AS n FROM person")[0]["n"] == 1
    # the rejected results are stored too: resending gives the same answers
    assert [r["status"] for r in a.push_ok(ops)] == [r["status"] for r in res]


def test_pull_cursor_and_scope(two_points, county, make_id, person_payload):
    a, b = two_points
    ids = [str(uuid.uuid4()) for _ in range(5)]
    a.push_ok(
        [
            a.op("person.create", pid, person_payload(make_id(seq=10 + i), name=f"甲{i}"))
            for i, pid in enumerate(ids)
        ]
    )
    changes, cursor = a.pull_all(limit=2)
    persons = [c for c in changes if c["entity"] == "person"]
    assert [c["id"] for c in persons] == ids
    assert {c["entity"] for c in changes if c["stream"] == "county"} == {"service_point"}
    seqs = [c["seq"] for c in changes if c["stream"] == "service_point"]
    assert seqs == sorted(seqs)
    # the streams are read in one statement: any page size gives the same changes in the
    # same order, and a page that takes exactly what is left says there is no more
    whole = a.pull(limit=500)
    assert whole["changes"] == changes and whole["has_more"] is False
    assert whole["next_cursor"] == cursor
    for size in (1, 3):
        assert a.pull_all(limit=size) == (changes, cursor)
    exact = a.pull(limit=len(changes))
    assert exact["changes"] == changes and exact["has_more"] is False
    short = a.pull(limit=len(changes) - 1)
    assert short["changes"] == changes[:-1] and short["has_more"] is True
    # nothing new: one round trip, no changes
    page = a.pull(cursor)
    assert page["changes"] == [] and page["has_more"] is False and page["next_cursor"] == cursor
    # the other service point sees none of it
    other, _ = b.pull_all()
    assert not [c for c in other if c["entity"] == "person"]


def test_snapshot_resumable(two_points, county, make_id, person_payload):
    a, _ = two_points
    ids = [str(uuid.uuid4()) for _ in range(7)]
    a.push_ok(
        [
            a.op(
                "person.create",
                pid,
                person_payload(make_id(seq=20 + i), household_id=f"hh-{i % 3}" if i % 2 else None),
            )
            for i, pid in enumerate(ids)
        ]
    )
    r = county.post(sp.EP_SNAPSHOT, {"limit": 3}, a.token).json()
    got, token, pages = list(r["changes"]), r["next_page_token"], 1
    cursor = r["cursor"]
    replayed_once = False
    while token:
        r2 = county.post(sp.EP_SNAPSHOT, {"page_token": token, "limit": 3}, a.token)
        assert r2.status_code == 200
        if not replayed_once:  # the answer is "lost": resend the same token
            replayed_once = True
            again = county.post(sp.EP_SNAPSHOT, {"page_token": token, "limit": 3}, a.token)
            assert again.json()["changes"] == r2.json()["changes"]
        body = r2.json()
        got += body["changes"]
        token, pages = body["next_page_token"], pages + 1
        assert body["cursor"] == cursor
    assert sorted(c["id"] for c in got if c["entity"] == "person") == sorted(ids)
    assert pages >= 3
    # a change after the snapshot began comes by pull from the snapshot's cursor
    a.push_ok(
        [
            a.op(
                "person.update",
                ids[0],
                {"changes": {"phone": "13800000000"}, "before": {"phone": None}},
            )
        ]
    )
    later, _ = a.pull_all(cursor)
    assert [c["data"]["phone"] for c in later if c["entity"] == "person"] == ["13800000000"]
    bad = county.post(sp.EP_SNAPSHOT, {"page_token": token or "x.y"}, a.token)
    assert bad.status_code == 400


def test_snapshot_rows_equal_latest_pulled_rows(two_points, county, make_id, person_payload):
    """For every row, the snapshot's data equals the latest pulled data at that version
    (a desktop that first syncs late must end with the same rows as one that pulled)."""
    a, b = two_points
    cert = make_id(seq=111)
    pa, pb = str(uuid.uuid4()), str(uuid.uuid4())
    a.push_ok([a.op("person.create", pa, person_payload(cert))])
    b.push_ok([b.op("person.create", pb, person_payload(cert, name="张叁"))])
    ea, eb = str(uuid.uuid4()), str(uuid.uuid4())
    a.push_ok([a.op("enrollment.create", ea, {"person_id": pa, "year": 2025})])
    b.push_ok([b.op("enrollment.create", eb, {"person_id": pb, "year": 2025})])
    for dev in (a, b):
        pulled, _ = dev.pull_all()
        latest = {}
        for c in pulled:
            latest[(c["entity"], c["id"])] = (c["version"], sp.canonical_json(c["data"]))
        snap = county.post(sp.EP_SNAPSHOT, {"limit": 1000}, dev.token).json()
        assert snap["done"]
        got = {
            (c["entity"], c["id"]): (c["version"], sp.canonical_json(c["data"]))
            for c in snap["changes"]
        }
        assert got == latest


def test_a_replay_is_answered_only_to_the_device_that_sent_it(
    two_points, county, make_id, person_payload
):
    """Issue 14 item 7: pushing B's operation (its op id and payload) with A's token used to
    return B's stored result (``replayed``, the canonical id), unlogged. Now A is refused,
    learns nothing, and the attempt is a security event; B still gets its replay."""
    a, b = two_points
    pid = str(uuid.uuid4())
    op = b.op("person.create", pid, person_payload(make_id()))
    assert b.push_ok([op])[0]["status"] == sp.ST_APPLIED
    stolen = a.push_ok([op])[0]
    assert stolen["status"] == sp.ST_REJECTED and stolen["code"] == sp.R_SCOPE
    assert not stolen.get("replayed") and stolen.get("canonical_id") is None
    assert stolen.get("version") is None and pid not in str(stolen)
    events = county.sql("SELECT kind, detail->>'op_id' AS op FROM security_event")
    assert {"kind": "foreign_replay", "op": op["op_id"]} in events
    assert b.push_ok([op])[0]["replayed"] is True


def test_the_request_threads_are_as_many_as_the_pooled_connections(county):
    """The sync endpoints run on anyio's threads, each needing a pooled connection: the
    threads are sized to the pool (6 here, not anyio's 40), and more requests at once
    than threads all get their answer, in turn."""
    assert county.client.portal.call(_thread_tokens) == 6
    county.service_point("SP01", "东乡卫生院")
    devices = [county.device("SP01") for _ in range(3)]
    with ThreadPoolExecutor(16) as ex:
        pages = list(ex.map(lambda i: devices[i % 3].pull(), range(48)))
    assert [p["has_more"] for p in pages] == [False] * 48


def _thread_tokens() -> float:
    return anyio.to_thread.current_default_thread_limiter().total_tokens


def test_sync_reads_commit_on_their_own_and_the_pool_gets_its_connections_back(county):
    """A device's check and a pull run without BEGIN/COMMIT round trips (each statement
    commits on its own); every pooled connection goes back as it was (not autocommit), also
    when a statement failed — the next user's statements are a transaction again."""
    county.service_point("SP01", "东乡卫生院")
    dev = county.device("SP01")
    assert dev.pull()["has_more"] is False
    pool = county.client.app.state.pool
    with autocommit(pool) as conn:
        assert conn.autocommit
        conn.execute("SELECT 1")
        assert conn.info.transaction_status == TransactionStatus.IDLE  # nothing left open
    with pytest.raises(psycopg.errors.UndefinedTable), autocommit(pool) as conn:
        conn.execute("SELECT * FROM no_such_table")
    with contextlib.ExitStack() as held:  # every connection the pool holds, at once
        conns = [
            held.enter_context(pool.connection()) for _ in range(pool.get_stats()["pool_size"])
        ]
        for conn in conns:
            assert not conn.autocommit
            conn.execute("SELECT 1")
            assert conn.info.transaction_status == TransactionStatus.INTRANS
    # the rate count a device's request took is committed at once (no transaction held)
    assert county.sql("SELECT count(*) AS n FROM rate_limit WHERE kind = 'device'")[0]["n"] == 1
