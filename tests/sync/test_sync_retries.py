"""Retry rules against the real county server, with a proxy that can answer in its place:
429/503 honour Retry-After, 5xx give up with a clear message after the retries, 426 says
update the app, 401 refreshes the token once, 413 halves the batch, a rejected op is final
and goes to the inbox while the rest of the batch goes on."""

from __future__ import annotations

import json

import pytest
from sync_proxy import CutProxy

from core import syncproto as sp
from desktop.services import registration
from desktop.services import sync as svc
from desktop.services.demo import make_id
from desktop.store import syncstate as st
from desktop.store.journal import enqueue_op
from desktop.sync import errors
from desktop.sync.engine import SyncEngine
from desktop.sync.transport import RetryPolicy

pytestmark = pytest.mark.postgres


@pytest.fixture
def setup(desks, county_server):
    proxy = CutProxy(county_server.port)
    a = desks("SP01", "东乡卫生院", proxy.url)
    a.sync()  # snapshot done, token cached
    yield a, proxy
    proxy.close()


def engine(desk, attempts=3):
    return SyncEngine(
        desk.store,
        desk.data_dir,
        hooks=svc.HOOKS,
        operator_id=desk.actor.operator_id,
        retry=RetryPolicy(attempts=attempts, base_delay=0.01, max_delay=0.02),
    )


def add_people(desk, n, start=0):
    for i in range(start, start + n):
        birth = f"19{50 + i // 300:02d}-{1 + i // 28 % 12:02d}-{1 + i % 28:02d}"
        registration.create_household(
            desk.store,
            desk.actor,
            {"village_id": desk.village()},
            [
                {
                    "name": "周" + "伟芳娜敏静丽强"[i % 7],
                    "sex": "male",
                    "birth_date": birth,
                    "cert_no": make_id("140121", birth, i % 100, "male"),
                }
            ],
        )


@pytest.mark.parametrize("status", [429, 503])
def test_busy_server_retry_after_is_honoured(setup, status):
    a, proxy = setup
    proxy.answer_next(status, b'{"code":"internal","message":"busy"}', {"Retry-After": "1"})
    e = engine(a)
    s = e.sync()
    assert proxy.canned_sent == 1
    assert e.transport.stats.waits[0] == 1.0
    assert s.round_trips == 2
    e.close()


def test_server_errors_give_up_with_a_clear_message(setup):
    a, proxy = setup
    for _ in range(3):
        proxy.answer_next(500, b'{"code":"internal","message":"x"}')
    e = engine(a, attempts=3)
    with pytest.raises(errors.ServerFailed) as exc:
        e.sync()
    assert "数据仍保存在本机" in exc.value.message
    assert len(e.transport.stats.waits) == 2  # three sends, two pauses (jittered backoff)
    e.close()
    assert svc.status(a.store)["state"] == "failed"
    assert a.sync().pending == 0


def test_app_too_old(setup):
    a, proxy = setup
    body = json.dumps({"code": sp.ERR_PROTOCOL, "message": "请升级软件"}).encode()
    proxy.answer_next(426, body)
    with pytest.raises(errors.TooOld) as exc:
        engine(a).sync()
    assert "升级" in exc.value.message


def test_expired_token_is_refreshed_once(setup, mem_keyring):
    a, proxy = setup
    add_people(a, 1)
    key = ("township-desk", f"device:{a.device_id}".replace("device:", "token:"))
    exp, op, _tok = mem_keyring.items[key].split("|", 2)
    mem_keyring.items[key] = f"{exp}|{op}|not-a-valid-token"
    e = engine(a)
    s = e.sync()
    assert s.pending == 0 and s.pushed == 2
    assert s.round_trips == 4  # push 401, token, push, pull
    assert mem_keyring.items[key].split("|", 2)[2] != "not-a-valid-token"
    e.close()


def test_too_large_batch_is_halved(setup, county_server):
    a, proxy = setup
    add_people(a, 300)  # 600 ops: more than the county takes in one push
    e = engine(a)
    e.batch_size = sp.MAX_BATCH_OPS + 100
    s = e.sync()
    e.close()
    assert s.pushed == 600 and s.pending == 0
    assert s.by_status == {sp.ST_APPLIED: 600}
    assert county_server.sql("SELECT count(*) AS n FROM applied_op")[0]["n"] == 600


def test_a_rejected_op_is_final_and_the_batch_goes_on(setup):
    a, proxy = setup
    add_people(a, 1)
    with a.store.write() as db:
        enqueue_op(
            db,
            op_type="person.update",
            entity_id="no-such-person",
            payload={"changes": {"phone": "13900000000"}, "before": {"phone": ""}},
            operator_id=a.actor.operator_id,
        )
    add_people(a, 1, start=1)
    s = a.sync()
    assert s.pending == 0
    assert s.by_status == {sp.ST_APPLIED: 4, sp.ST_REJECTED: 1}
    items = [i for i in svc.inbox(a.store) if i["kind"] == "rejected"]
    assert len(items) == 1
    assert "修改人员信息未被县医保局接受" in items[0]["title"]
    assert items[0]["action"]
    # final: the next sync does not send it again
    again = a.sync()
    assert again.pushed == 0


def test_newer_county_protocol_keeps_syncing_and_asks_for_an_update(setup):
    a, proxy = setup
    add_people(a, 1)
    body = json.dumps({"batch_id": "x", "results": []}).encode()
    proxy.answer_next(503, body, {sp.PROTOCOL_HEADER: str(sp.PROTOCOL_VERSION + 1)})
    e = engine(a)
    s = e.sync()
    e.close()
    assert s.pending == 0 and s.update_app is False  # later answers came from this county
    e = engine(a)
    proxy.answer_next(
        200,
        json.dumps({"changes": [], "next_cursor": st.cursors(a.store), "has_more": False}).encode(),
        {sp.PROTOCOL_HEADER: str(sp.PROTOCOL_VERSION + 1)},
    )
    s = e.sync()
    e.close()
    assert s.update_app and "升级本软件" in s.line()
