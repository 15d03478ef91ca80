"""End to end: two desktops (two stores, two service points) and one county server on a
real PostgreSQL, over real HTTP. Registrations, enrollments and payments go up; roster,
confirmations and policies come down; the duplicate person and the double enrollment
resolve as designed and reach both inboxes."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sync_checks import county_checksum, diff_rows, import_roster_of

from core import syncproto as sp
from desktop.services import contribution, registration
from desktop.services import sync as svc
from desktop.services.demo import make_id
from desktop.store import syncstate as st
from desktop.sync import errors

pytestmark = pytest.mark.postgres
TODAY = dt.date(2025, 3, 20)
ZHANG = make_id("140121", "1970-01-01", 1, "male")
LI = make_id("140121", "1972-02-02", 2, "female")
WANG = make_id("140121", "1990-06-07", 5, "male")


def register(desk, members):
    return registration.create_household(
        desk.store, desk.actor, {"village_id": desk.village(), "address": "一组"}, members
    )


def pay(desk, person_id, year=2025, amount="400"):
    return contribution.record_payment(
        desk.store,
        desk.actor,
        {
            "person_id": person_id,
            "year": year,
            "amount": amount,
            "channel": "cash",
            "paid_on": "2024-10-10",
        },
        today=TODAY,
    )


def statuses(desk) -> dict[str, str]:
    return {
        r["op_type"] + ":" + r["entity_id"]: r["status"]
        for r in desk.store.query("SELECT op_type, entity_id, status FROM outbox")
    }


def test_two_desktops_one_county(desks, county_server, tmp_path):
    a = desks("SP01", "东乡卫生院")
    b = desks("SP02", "西乡卫生院")

    # --- up: registrations, enrollments and payments from A
    ha = register(
        a,
        [
            {"name": "张三", "sex": "male", "birth_date": "1970-01-01", "cert_no": ZHANG},
            {
                "name": "李四",
                "relation": "spouse",
                "sex": "female",
                "birth_date": "1972-02-02",
                "cert_no": LI,
            },
        ],
    )
    zhang_a, li_a = ha.person_ids
    pay(a, zhang_a)
    ops = [r["op_type"] for r in a.store.query("SELECT op_type FROM outbox ORDER BY device_seq")]
    assert ops == [
        "household.create",
        "person.create",
        "person.create",
        "enrollment.create",
        "payment.record",
    ]
    assert svc.status(a.store)["pending"] == 5
    first = a.sync()
    assert first.pushed == 5 and first.pending == 0
    assert first.by_status == {sp.ST_APPLIED: 5}, [
        (r["op_type"], r["result"])
        for r in a.store.query("SELECT op_type, result FROM outbox")
        if "rejected" in r["result"]
    ]
    assert "上传 5 条" in first.line()
    marks = a.store.query("SELECT first_sent_at, acked_at, result FROM outbox")
    assert all(m["first_sent_at"] and m["acked_at"] and m["result"] for m in marks)
    assert all(m["first_sent_at"] <= m["acked_at"] for m in marks)
    assert svc.status(a.store)["state"] == "ok" and a.store.setting("last_sync_at")
    rows = county_server.sql(
        "SELECT id, home_sp_id FROM person WHERE cert_no IN (%s, %s) ORDER BY cert_no", (ZHANG, LI)
    )
    assert {r["id"] for r in rows} == {zhang_a, li_a}
    assert county_server.sql("SELECT count(*) AS n FROM payment")[0]["n"] == 1
    assert county_server.sql("SELECT count(*) AS n FROM enrollment")[0]["n"] == 1
    # the pushed rows came back with county versions: confirmed, not pending
    assert svc.row_state(a.store, "person", zhang_a) == "已确认"

    # --- B registers the same person (same ID number) and enrolls + pays the same year
    hb = register(
        b, [{"name": "张三", "sex": "male", "birth_date": "1970-01-01", "cert_no": ZHANG}]
    )
    zhang_b = hb.person_ids[0]
    assert svc.row_state(b.store, "person", zhang_b) == "待上传"
    pay(b, zhang_b)
    sb = b.sync()
    res = statuses(b)
    assert res[f"person.create:{zhang_b}"] == sp.ST_MERGED
    assert sp.ST_CONFLICT in res.values()  # B's enrollment lost (A: home point, earlier)
    assert sb.pending == 0
    # one person on the county; B's local person now carries the county's id
    assert (
        county_server.sql("SELECT count(*) AS n FROM person WHERE cert_no = %s", (ZHANG,))[0]["n"]
        == 1
    )
    assert st.canonical_person_id(b.store, zhang_b) == zhang_a
    assert b.store.query_one("SELECT id FROM person WHERE cert_no = ?", (ZHANG,))["id"] == zhang_a
    kinds_b = {i["kind"] for i in svc.inbox(b.store)}
    assert sp.N_IDENTITY_MERGED in kinds_b and sp.N_DOUBLE_ENROLLMENT in kinds_b
    a.sync()
    inbox_a = svc.inbox(a.store)
    assert sp.N_DOUBLE_ENROLLMENT in {i["kind"] for i in inbox_a}
    dbl = next(i for i in inbox_a if i["kind"] == sp.N_DOUBLE_ENROLLMENT)
    assert "张三" in dbl["title"] or "张三" in dbl["action"]
    # money collected twice: B is told to refund or transfer
    assert any(i["kind"] == sp.N_REFUND_TASK for i in svc.inbox(b.store))
    enr = county_server.sql(
        "SELECT sp_id, conflict_status FROM enrollment ORDER BY conflict_status DESC"
    )
    assert sorted(r["conflict_status"] for r in enr) == ["lost", "won"]
    assert next(r for r in enr if r["conflict_status"] == "won")["sp_id"] == a.sp_id

    # --- down: roster, tax confirmations, policies
    from county import admin

    with county_server.conn() as c, c.transaction():
        rep = admin.import_roster(
            c,
            [
                {
                    "身份证号": WANG,
                    "姓名": "王五",
                    "服务点编码": "SP01",
                    "参保人员类别": "ordinary",
                },
            ],
        )
        assert not rep.errors, rep.errors
        rep = admin.import_payments(
            c,
            [
                {
                    "身份证号": ZHANG,
                    "参保年度": "2025",
                    "缴费金额": "400",
                    "完税凭证号": "TAX-0001",
                    "缴费日期": "2024-10-12",
                },
            ],
        )
        assert not rep.errors, rep.errors
        from desktop import paths

        admin.publish_policy(c, paths.resource("policies", "national-2025.toml"))
    down = a.sync()
    assert down.received >= 3
    wang = a.store.query_one("SELECT * FROM person WHERE cert_no = ?", (WANG,))
    assert wang is not None and wang["name"] == "王五" and wang["origin"] == "county"
    assert svc.row_state(a.store, "person", wang["id"]) == "已确认"
    paid = a.store.query_one(
        "SELECT status, confirmed_ref FROM payment WHERE person_id = ?", (zhang_a,)
    )
    assert paid == {"status": "confirmed", "confirmed_ref": "TAX-0001"}
    pol = a.store.query_one("SELECT data FROM server_row WHERE entity = 'policy'")
    assert pol is not None and "toml" in json.loads(pol["data"])
    # installed where the policy service loads the county's files
    from desktop.services import policies

    shipped = paths.resource("policies", "national-2025.toml").read_text(encoding="utf-8")
    installed = a.data_dir / "policies" / "national-2025.toml"
    assert installed.read_text(encoding="utf-8") == shipped
    policies.clear_cache()
    assert not policies.load(a.data_dir).errors
    b.sync()
    assert b.store.query_one("SELECT 1 AS x FROM server_row WHERE entity = 'policy'")
    # B never receives SP01's roster person
    assert b.store.query_one("SELECT 1 AS x FROM person WHERE cert_no = ?", (WANG,)) is None

    # --- a no-op sync is one round trip
    noop = a.sync()
    assert noop.round_trips == 1 and noop.pushed == 0 and noop.received == 0

    # --- both sides hold the same rows (checksums)
    for desk in (a, b):
        assert st.mirror_checksum(desk.store) == county_checksum(county_server, desk.sp_id), (
            diff_rows(county_server, desk.store, desk.sp_id)
        )


def test_registration_code_works_once_and_errors_are_chinese(desks, county_server):
    a = desks("SP01", "东乡卫生院")
    code = county_server.code("SP01")
    from desktop.sync.engine import SyncEngine

    e = SyncEngine(a.store, a.data_dir, hooks=svc.HOOKS)
    e.register(county_server.url, code)
    with pytest.raises(errors.RegistrationFailed) as exc:
        e.register(county_server.url, code)
    assert "注册码" in exc.value.message
    e.close()


def test_unregistered_and_revoked_device(desks, county_server, mem_keyring):
    a = desks("SP01", "东乡卫生院")
    # the credential vanished from the keyring (e.g. Windows reinstalled)
    mem_keyring.items.clear()
    with pytest.raises(errors.NotRegistered) as exc:
        a.sync()
    assert "重新注册" in exc.value.message
    a.register(county_server.url)
    county_server.sql("UPDATE device SET revoked_at = now() RETURNING id")
    with pytest.raises(errors.AuthFailed) as exc:
        a.sync()
    assert "注册码" in exc.value.message
    assert svc.status(a.store)["state"] == "failed"


def test_offline_sync_keeps_everything_and_says_what_to_do(desks, county_server):
    a = desks("SP01", "东乡卫生院")
    register(a, [{"name": "张三", "sex": "male", "birth_date": "1970-01-01", "cert_no": ZHANG}])
    county_server.kill()
    with pytest.raises(errors.Offline) as exc:
        a.sync()
    assert "不会丢失" in exc.value.message
    st_ = svc.status(a.store)
    assert st_["state"] == "offline" and st_["pending"] == 2
    county_server.start()
    assert a.sync().pending == 0


def test_first_sync_snapshot_resumes_after_a_break(desks, county_server):
    from desktop.sync.engine import SyncEngine
    from desktop.sync.transport import Cancelled

    import_roster_of(county_server, 28, surname="赵", born="1960-01", sex="male")
    a = desks("SP01", "东乡卫生院")
    e = SyncEngine(
        a.store,
        a.data_dir,
        operator_id=a.actor.operator_id,
        snapshot_limit=5,
        hooks=svc.HOOKS,
    )
    pages = []

    def progress(done, total, text):
        if text.startswith("首次同步：已下载"):
            pages.append(done)
            if len(pages) == 2:
                e.cancel()

    with pytest.raises(Cancelled):
        e.sync(progress=progress)
    e.close()
    done, token = st.snapshot_state(a.store)
    assert not done and token  # the position of the break is kept
    held = a.store.query_one("SELECT COUNT(*) AS n FROM person")["n"]
    assert 0 < held < 28 and pages == [5, 10]
    s = a.sync()
    total = county_checksum(county_server, a.sp_id)[0]
    assert s.snapshot == total - 10  # only the rest, not everything again
    assert st.snapshot_state(a.store)[0]
    assert a.store.query_one("SELECT COUNT(*) AS n FROM person")["n"] == 28
    assert st.mirror_checksum(a.store) == county_checksum(county_server, a.sp_id)


def test_cli_register_and_sync(desks, county_server, fast_dir, capsys, monkeypatch):
    from desktop.cli import main
    from desktop.sync import engine as engine_mod
    from desktop.sync.transport import RetryPolicy

    # the product backs off for ~15 s before it calls the county unreachable; the test not
    monkeypatch.setattr(
        engine_mod, "RetryPolicy", lambda **kw: RetryPolicy(attempts=2, base_delay=0.01)
    )

    a = desks("SP01", "东乡卫生院")
    register(a, [{"name": "张三", "sex": "male", "birth_date": "1970-01-01", "cert_no": ZHANG}])
    assert main(["--data-dir", str(a.data_dir), "sync"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("同步完成：上传 2 条")
    # a fresh PC: not registered → exit 2; registered with a code → sync works
    fresh = fast_dir / "fresh"
    assert main(["--data-dir", str(fresh), "sync"]) == 2
    assert "尚未注册" in capsys.readouterr().err
    code = county_server.code("SP01")
    assert (
        main(
            [
                "--data-dir",
                str(fresh),
                "register-device",
                "--server",
                county_server.url,
                "--code",
                code,
            ]
        )
        == 0
    )
    assert "注册成功" in capsys.readouterr().out
    assert (
        main(
            [
                "--data-dir",
                str(fresh),
                "register-device",
                "--server",
                county_server.url,
                "--code",
                code,
            ]
        )
        == 1
    )
    assert "注册失败" in capsys.readouterr().err
    county_server.kill()
    assert main(["--data-dir", str(fresh), "sync"]) == 1
    err = capsys.readouterr().err
    assert "连不上县医保服务器" in err and "E-SYNC-OFFLINE" in err
