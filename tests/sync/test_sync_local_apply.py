"""Applying pulled changes locally (no server needed): version rule, pending rows kept
apart, aliases re-keying references, notices into the inbox, cursors."""

from __future__ import annotations

import json

from core import syncproto as sp
from desktop.services import registration as reg
from desktop.services import sync as sync_service
from desktop.services.demo import make_id
from desktop.store import syncstate as st


def person_change(pid, version, name="赵六", seq=1, **extra):
    data = {
        "id": pid,
        "name": name,
        "cert_type": "resident_id",
        "cert_no": make_id("140121", "1970-03-04", 7, "male"),
        "sex": "male",
        "birth_date": "1970-03-04",
        "region_code": "140121",
        "status": 1,
        **extra,
    }
    return sp.Change(seq, sp.STREAM_SERVICE_POINT, sp.E_PERSON, pid, "upsert", version, data)


def test_newer_version_wins_and_replay_is_ignored(store, admin):
    with store.write() as db:
        assert st.apply_change(db, person_change("p1", 2, "赵六"))
        assert not st.apply_change(db, person_change("p1", 2, "赵六"))  # at-least-once
        assert not st.apply_change(db, person_change("p1", 1, "旧名"))  # older
    row = store.query_one("SELECT * FROM person WHERE id = 'p1'")
    assert row["name"] == "赵六" and row["server_version"] == 2 and row["origin"] == "county"
    assert row["name_initials"] == "zl"
    with store.write() as db:
        assert st.apply_change(db, person_change("p1", 3, "赵陆"))
    assert store.query_one("SELECT name FROM person WHERE id = 'p1'")["name"] == "赵陆"
    assert st.row_state(store, "person", "p1") == "confirmed"


def test_pending_local_change_is_kept_apart(store, admin, clerk):
    village = store.query_one("SELECT id FROM village WHERE name = '东村'")["id"]
    done = reg.create_household(
        store,
        clerk,
        {"village_id": village},
        [
            {
                "name": "钱七",
                "cert_no": make_id("140121", "1981-02-03", 3, "female"),
                "sex": "female",
            }
        ],
    )
    pid = done.person_ids[0]
    assert st.row_state(store, "person", pid) == "pending"
    with store.write() as db:
        assert st.apply_change(db, person_change(pid, 5, "县里的名字"))
    # the local row keeps the clerk's value until the county answers the pending op
    assert store.query_one("SELECT name FROM person WHERE id = ?", (pid,))["name"] == "钱七"
    assert st.mirror_version(store.db, "person", pid) == 5
    # once the op is answered, the county row is projected
    with store.write() as db:
        for op in store.query("SELECT op_id FROM outbox WHERE status = 'pending'"):
            st.store_result(db, sp.OpResult(op["op_id"], sp.ST_APPLIED, version=4))
        assert st.reproject_waiting(db) >= 1
    assert store.query_one("SELECT name FROM person WHERE id = ?", (pid,))["name"] == "县里的名字"


def test_alias_rekeys_person_and_references(store, admin, clerk):
    village = store.query_one("SELECT id FROM village WHERE name = '东村'")["id"]
    done = reg.create_household(
        store,
        clerk,
        {"village_id": village},
        [{"name": "孙八", "cert_no": make_id("140121", "1960-05-06", 9, "male")}],
    )
    old = done.person_ids[0]
    with store.write() as db:
        st.apply_change(
            db,
            sp.Change(
                9,
                sp.STREAM_SERVICE_POINT,
                sp.E_ALIAS,
                old,
                "upsert",
                1,
                {"entity": "person", "canonical_id": "county-p"},
            ),
        )
    assert store.query_one("SELECT 1 AS x FROM person WHERE id = ?", (old,)) is None
    assert store.query_one("SELECT name FROM person WHERE id = 'county-p'")["name"] == "孙八"
    hh = store.query_one("SELECT head_person_id FROM household WHERE id = ?", (done.household_id,))
    assert hh["head_person_id"] == "county-p"
    assert st.canonical_person_id(store, old) == "county-p"
    audit = store.query_one(
        "SELECT entity_id, detail FROM audit_log WHERE action = 'sync.person_merged'"
    )
    assert audit["entity_id"] == "county-p" and old in audit["detail"]
    from desktop.store.journal import verify_audit

    assert verify_audit(store.db) == []
    # the immutable outbox op keeps the old id (the county resolves it by alias)
    assert store.query_one("SELECT COUNT(*) AS n FROM outbox WHERE entity_id = ?", (old,))["n"] >= 1


def test_notice_goes_to_inbox_and_resolution_closes_it(store, admin):
    n = sp.Notice("n1", sp.N_DOUBLE_ENROLLMENT, "张三 2027年度在两个服务点参保", "请联系参保人确认")
    with store.write() as db:
        st.apply_change(
            db, sp.Change(1, sp.STREAM_NOTICES, sp.E_NOTICE, "n1", "upsert", 1, n.as_dict())
        )
    items = st.inbox(store)
    assert [i["title"] for i in items] == ["张三 2027年度在两个服务点参保"]
    assert items[0]["action"] == "请联系参保人确认"
    resolved = sp.Notice("n1", sp.N_DOUBLE_ENROLLMENT, n.title, n.message, status="resolved")
    with store.write() as db:
        st.apply_change(
            db, sp.Change(2, sp.STREAM_NOTICES, sp.E_NOTICE, "n1", "upsert", 2, resolved.as_dict())
        )
    assert st.inbox(store) == []
    assert len(st.inbox(store, include_resolved=True)) == 1


def test_enrollment_before_its_person_waits_in_the_mirror(store, admin):
    enr = sp.Change(
        1,
        sp.STREAM_SERVICE_POINT,
        sp.E_ENROLLMENT,
        "e1",
        "upsert",
        1,
        {"id": "e1", "person_id": "p9", "year": 2027, "insured_category": "ordinary"},
    )
    with store.write() as db:
        assert st.apply_change(db, enr)
    assert store.query_one("SELECT 1 AS x FROM enrollment WHERE id = 'e1'") is None
    with store.write() as db:
        st.apply_change(db, person_change("p9", 1))
        assert st.reproject_waiting(db) == 1
    assert store.query_one("SELECT person_id FROM enrollment WHERE id = 'e1'")["person_id"] == "p9"


def test_cursors_and_checksum(store, admin):
    assert st.cursors(store) == sp.empty_cursor()
    with store.write() as db:
        st.save_cursors(db, {"service_point": 7, "county": 2, "notices": 0})
        st.apply_change(db, person_change("p1", 1))
    assert st.cursors(store)["service_point"] == 7
    n, digest = st.mirror_checksum(store)
    assert n == 1 and len(digest) == 64
    row = store.query_one("SELECT data FROM server_row WHERE id = 'p1'")
    assert json.loads(row["data"])["name"] == "赵六"


def test_a_broken_county_policy_is_not_installed(store, admin, data_dir):
    from desktop.sync.engine import SyncEngine

    good = (
        __import__("desktop.paths", fromlist=["resource"])
        .resource("policies", "national-2025.toml")
        .read_text(encoding="utf-8")
    )
    with store.write() as db:
        for pid, text in (("national-2025", good), ("bad-policy", "[policy]\nid = 'bad-policy'\n")):
            st.apply_change(
                db,
                sp.Change(
                    1,
                    sp.STREAM_COUNTY,
                    sp.E_POLICY,
                    pid,
                    "upsert",
                    1,
                    {"id": pid, "title": pid, "toml": text},
                ),
            )
    e = SyncEngine(store, data_dir, hooks=sync_service.HOOKS)
    assert e._install_policies() == 1
    assert (data_dir / "policies" / "national-2025.toml").read_text(encoding="utf-8") == good
    assert not (data_dir / "policies" / "bad-policy.toml").exists()
    item = [i for i in st.inbox(store) if i["kind"] == "policy_error"]
    assert len(item) == 1 and "无法使用" in item[0]["title"] and "原有政策" in item[0]["action"]
    assert e._install_policies() == 0  # unchanged files are left alone


def test_a_pulled_page_compiles_each_statement_once_not_once_a_row(store, admin):
    """The connection keeps its compiled statements even after the migrations and a day's
    many different statements: a pulled page compiles the person INSERT once, not for every
    row (a full statement cache of the old size made the mirror upsert and the INSERT push
    each other out, and a first sync ran ~3x slower)."""
    from types import SimpleNamespace

    from desktop.sync.apply import apply_page
    from desktop.sync.hooks import SyncHooks

    for i in range(300):  # a day's different statements, beyond the old cache of 128
        store.conn.execute(f"SELECT {i} + 1").fetchone()
    compiled = []

    def watch(action, table, *_):  # called while a statement is compiled, never when run
        if action == 18 and table == "person":  # SQLITE_INSERT
            compiled.append(table)
        return 0

    store.conn.set_authorizer(watch)
    counts = SimpleNamespace(applied=0)
    changes = [
        person_change(f"p{i}", 1, seq=i + 1, cert_no=make_id("140121", "1970-03-04", i, "male"))
        for i in range(400)
    ]
    try:
        for start in (0, 200):
            with store.write() as db:
                apply_page(store, db, changes[start : start + 200], counts, SyncHooks())
    finally:
        store.conn.set_authorizer(None)
    assert counts.applied == 400
    assert store.query_one("SELECT count(*) AS n FROM person WHERE id LIKE 'p%'")["n"] == 400
    assert 1 <= len(compiled) <= 2, len(compiled)
