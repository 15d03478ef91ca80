"""Conflicts: duplicate person across service points, double enrollment winner rule,
county-owned fields, stale updates, and the admin resolution."""

from __future__ import annotations

import uuid

from core import syncproto as sp


def _notices(dev):
    changes, _ = dev.pull_all()
    latest = {}
    for c in changes:
        if c["entity"] == "notice":
            latest[c["id"]] = c["data"]
    return list(latest.values())


def _register_same_person(a, b, make_id, person_payload, name_b="张三"):
    cert = make_id(seq=31)
    pa, pb = str(uuid.uuid4()), str(uuid.uuid4())
    ra = a.push_ok([a.op("person.create", pa, person_payload(cert))])[0]
    rb = b.push_ok([b.op("person.create", pb, person_payload(cert, name=name_b))])[0]
    return pa, pb, ra, rb


def test_same_id_two_points_merged_with_alias(two_points, county, make_id, person_payload):
    a, b = two_points
    pa, pb, ra, rb = _register_same_person(a, b, make_id, person_payload)
    assert ra["status"] == sp.ST_APPLIED
    assert rb["status"] == sp.ST_MERGED and rb["canonical_id"] == pa
    assert county.sql("SELECT count(*) AS n FROM person")[0]["n"] == 1
    # a later op with B's own id resolves through the alias
    r = b.push_ok(
        [
            b.op(
                "person.update",
                pb,
                {"changes": {"phone": "13900000000"}, "before": {"phone": None}},
            )
        ]
    )[0]
    assert r["canonical_id"] == pa and r["status"] == sp.ST_MERGED
    e = b.push_ok([b.op("enrollment.create", str(uuid.uuid4()), {"person_id": pb, "year": 2025})])[
        0
    ]
    assert e["status"] == sp.ST_APPLIED
    changes, _ = b.pull_all()
    alias = [c for c in changes if c["entity"] == "alias"]
    assert alias and alias[0]["id"] == pb and alias[0]["data"]["canonical_id"] == pa
    assert any(c["entity"] == "person" and c["id"] == pa for c in changes)
    # both inboxes are told; no review needed when name and birth date agree. B's phone
    # change to A's resident went to the county as a correction request (issue 14)
    assert [n["kind"] for n in _notices(a)] == [sp.N_IDENTITY_MERGED]
    assert sorted(n["kind"] for n in _notices(b)) == sorted([sp.N_IDENTITY_MERGED, sp.N_CORRECTION])
    kinds = sorted(r["kind"] for r in county.sql("SELECT kind FROM conflict"))
    # no review of differences; the county still confirms the identity before B sees A's
    # record (issue 14)
    assert kinds == ["correction_request", "identity_confirm"]


def test_same_id_different_name_goes_to_review(two_points, county, make_id, person_payload):
    a, b = two_points
    pa, pb, _, rb = _register_same_person(a, b, make_id, person_payload, name_b="张叁")
    assert rb["status"] == sp.ST_MERGED and rb["conflict_id"]
    c = county.sql("SELECT kind, detail FROM conflict")[0]
    assert c["kind"] == "identity_review"
    assert c["detail"]["differences"]["name"] == {"county": "张三", "desktop": "张叁"}
    for dev in (a, b):
        assert [n["kind"] for n in _notices(dev)] == [sp.N_IDENTITY_REVIEW]
    # the county keeps its name until a person decides
    assert county.sql("SELECT data->>'name' AS n FROM person")[0]["n"] == "张三"
    r = county.client.post(
        f"/api/v1/admin/conflicts/{rb['conflict_id']}/resolve",
        json={"decision": "use_desktop", "note": "核对户口本"},
        headers={**county.H, "Authorization": "Bearer test-admin-key-0123456789"},
    )
    assert r.status_code == 200, r.text
    assert county.sql("SELECT data->>'name' AS n FROM person")[0]["n"] == "张叁"
    notes = _notices(a)
    assert notes[0]["status"] == "resolved" and "核对户口本" in notes[0]["message"]
    changes, _ = a.pull_all()
    assert [c["data"]["name"] for c in changes if c["entity"] == "person"][-1] == "张叁"


def _double_enroll(a, b, make_id, person_payload, pay_a=None, pay_b=None):
    pa, pb, _, _ = _register_same_person(a, b, make_id, person_payload)
    ea, eb = str(uuid.uuid4()), str(uuid.uuid4())
    ops_a = [a.op("enrollment.create", ea, {"person_id": pa, "year": 2025})]
    ops_b = [b.op("enrollment.create", eb, {"person_id": pb, "year": 2025})]
    if pay_a:
        ops_a.append(
            a.op(
                "payment.record",
                str(uuid.uuid4()),
                {"enrollment_id": ea, "amount": "400.00", **pay_a},
            )
        )
    if pay_b:
        ops_b.append(
            b.op(
                "payment.record",
                str(uuid.uuid4()),
                {"enrollment_id": eb, "amount": "400.00", **pay_b},
            )
        )
    return ea, eb, a.push_ok(ops_a), b.push_ok(ops_b)


def test_double_enrollment_home_point_wins(two_points, county, make_id, person_payload):
    a, b = two_points
    ea, eb, ra, rb = _double_enroll(a, b, make_id, person_payload)
    assert ra[0]["status"] == sp.ST_APPLIED
    assert rb[0]["status"] == sp.ST_CONFLICT and rb[0]["conflict_id"]
    rows = {
        r["id"]: r["conflict_status"]
        for r in county.sql("SELECT id, conflict_status FROM enrollment")
    }
    assert rows == {ea: "won", eb: "lost"}
    c = county.sql("SELECT kind, detail FROM conflict WHERE kind = 'double_enrollment'")[0]
    assert "所属" in c["detail"]["reason"]
    na = [n for n in _notices(a) if n["kind"] == sp.N_DOUBLE_ENROLLMENT]
    nb = [n for n in _notices(b) if n["kind"] == sp.N_DOUBLE_ENROLLMENT]
    assert len(na) == len(nb) == 1 and "无需操作" in na[0]["message"]
    assert "不生效" in nb[0]["message"]
    assert county.sql("SELECT count(*) AS n FROM enrollment")[0]["n"] == 2  # nothing deleted


def test_receipt_beats_home_point_and_money_twice_is_a_task(
    two_points, county, make_id, person_payload
):
    a, b = two_points
    ea, eb, ra, rb = _double_enroll(
        a,
        b,
        make_id,
        person_payload,
        pay_a={"receipt_no": ""},
        pay_b={"receipt_no": "SP02-2025-000001"},
    )
    status = {
        r["id"]: r["conflict_status"]
        for r in county.sql("SELECT id, conflict_status FROM enrollment")
    }
    assert status == {ea: "lost", eb: "won"}
    tasks = county.sql(
        "SELECT t.sp_id, t.amount, p.enrollment_id FROM task t"
        " JOIN payment p ON p.id = t.payment_id"
    )
    assert len(tasks) == 1 and tasks[0]["enrollment_id"] == ea and tasks[0]["sp_id"] == a.sp_id
    assert [n["kind"] for n in _notices(a)].count(sp.N_REFUND_TASK) == 1
    assert not [n for n in _notices(b) if n["kind"] == sp.N_REFUND_TASK]


def test_tax_confirmation_beats_receipt(two_points, county, make_id, person_payload, tmp_path):
    from county import admin

    a, b = two_points
    ea, eb, _, _ = _double_enroll(
        a,
        b,
        make_id,
        person_payload,
        pay_a={"receipt_no": ""},
        pay_b={"receipt_no": "SP02-2025-000001"},
    )
    cert = county.sql("SELECT cert_no FROM person")[0]["cert_no"]
    f = tmp_path / "tax.csv"
    f.write_text(
        "身份证号,参保年度,缴费金额,完税凭证号,缴费日期,服务点编码\n"
        f"{cert},2025,400.00,T0001,2024-10-01,SP01\n",
        encoding="utf-8",
    )
    with county.conn() as c, c.transaction():
        rep = admin.import_payments(c, admin.read_table(f))
    assert (rep.updated, rep.errors) == (1, [])
    status = {
        r["id"]: r["conflict_status"]
        for r in county.sql("SELECT id, conflict_status FROM enrollment")
    }
    # the payment at A (home, no receipt) matched the tax record: A wins now
    assert status == {ea: "won", eb: "lost"}
    with county.conn() as c, c.transaction():
        assert admin.import_payments(c, admin.read_table(f)).unchanged == 1  # idempotent
    na = [n for n in _notices(b) if n["kind"] == sp.N_DOUBLE_ENROLLMENT][0]
    assert "税务" in na["message"]
    row = county.sql("SELECT data FROM enrollment WHERE id = %s", (ea,))[0]["data"]
    assert row["county_confirmed_at"] == "2024-10-01"
    # the desktop's full-row update echoes the confirmation: no correction request
    full = {**row, "benefits_from": "2025-01-01", "version": 3, "server_version": 2}
    r = a.push_ok([a.op("enrollment.update", ea, full, base_version=2)])[0]
    assert r["status"] == sp.ST_APPLIED and r["corrections"] == []
    assert not county.sql("SELECT 1 FROM conflict WHERE kind = 'correction_request'")


def test_county_owned_field_becomes_correction_request(two_points, county, make_id, person_payload):
    a, _ = two_points
    pid = str(uuid.uuid4())
    a.push_ok([a.op("person.create", pid, person_payload(make_id(seq=41)))])
    after = person_payload(make_id(seq=41), subsidy_category="full", phone="13700000000")
    r = a.push_ok([a.op("person.update", pid, {**after, "id": pid}, base_version=None)])[0]
    assert r["status"] == sp.ST_APPLIED and r["corrections"] == ["subsidy_category"]
    row = county.sql("SELECT data FROM person")[0]["data"]
    assert row["subsidy_category"] == "none" and row["phone"] == "13700000000"
    c = county.sql("SELECT kind, detail FROM conflict")[0]
    assert c["kind"] == "correction_request"
    assert c["detail"]["fields"]["subsidy_category"] == {"county": "none", "requested": "full"}
    assert [n["kind"] for n in _notices(a)] == [sp.N_CORRECTION]


def test_roster_then_stale_desktop_edit_is_a_conflict(
    two_points, county, make_id, person_payload, tmp_path
):
    from county import admin

    a, _ = two_points
    cert = make_id(seq=51)
    pid = str(uuid.uuid4())
    a.push_ok([a.op("person.create", pid, person_payload(cert, address="东村1号"))])
    f = tmp_path / "roster.csv"
    f.write_text(
        f"身份证号,姓名,服务点编码,户号,地址,资助类别\n{cert},张三,SP01,H001,东村9号,全额资助\n",
        encoding="utf-8",
    )
    with county.conn() as c, c.transaction():
        rep = admin.import_roster(c, admin.read_table(f))
    assert (rep.updated, rep.errors) == (1, [])
    # the desktop edits the address it last saw at version 1 (before the roster)
    r = a.push_ok([a.op("person.update", pid, {"address": "东村2号"}, base_version=1)])[0]
    assert r["status"] == sp.ST_CONFLICT
    assert county.sql("SELECT data->>'address' AS a FROM person")[0]["a"] == "东村9号"
    # after pulling version 2, the same edit applies
    r = a.push_ok([a.op("person.update", pid, {"address": "东村2号"}, base_version=2)])[0]
    assert r["status"] == sp.ST_APPLIED
    assert county.sql("SELECT data->>'subsidy_category' AS s FROM person")[0]["s"] == "full"


def test_desktop_row_shapes_and_void(two_points, county, make_id, person_payload):
    """The payloads the desktop services really send (full rows with text enrollment
    status, paid_on, policy_id, cert_no …) apply; a void stops a payment counting."""
    a, b = two_points
    pa, pb, _, _ = _register_same_person(a, b, make_id, person_payload)
    ea, eb, pay_a, pay_b = (str(uuid.uuid4()) for _ in range(4))
    enr = {
        "year": 2025,
        "insurance_type": "390",
        "insured_category": "ordinary",
        "status": "registered",
        "policy_id": "national-2025",
        "amount_due": "400.00",
        "waiting": 0,
        "continuous_years": 3,
        "version": 1,
        "server_version": None,
        "origin": "local",
        "created_at": "2024-10-01T10:00:00+08:00",
    }
    pay = {
        "year": 2025,
        "policy_id": "national-2025",
        "amount": "400.00",
        "amount_due": "400.00",
        "channel": "cash",
        "paid_on": "2024-10-01",
        "status": "local",
        "operator_id": "x",
        "version": 1,
        "origin": "local",
    }
    ra = a.push_ok(
        [
            a.op("enrollment.create", ea, {**enr, "person_id": pa}),
            a.op(
                "payment.record",
                pay_a,
                {
                    **pay,
                    "person_id": pa,
                    "enrollment_id": ea,
                    "receipt_no": "SP01-1",
                    "cert_no": "x",
                },
            ),
        ]
    )
    rb = b.push_ok(
        [
            b.op("enrollment.create", eb, {**enr, "person_id": pb}),
            b.op(
                "payment.record",
                pay_b,
                {**pay, "person_id": pb, "enrollment_id": eb, "receipt_no": "SP02-1"},
            ),
        ]
    )
    assert [r["status"] for r in ra] == ["applied", "applied"]
    assert [r["status"] for r in rb] == ["conflict", "conflict"]
    assert county.sql("SELECT data->>'paid_on' AS d FROM payment LIMIT 1")[0]["d"] == "2024-10-01"
    assert len(county.sql("SELECT id FROM task WHERE status = 'open'")) == 1
    # B refunds its payment: the task is closed, B's enrollment still loses (home point)
    r = b.push_ok(
        [
            b.op(
                "payment.refund",
                pay_b,
                {"id": pay_b, "status": "refunded", "reason": "重复缴费退还", "at": "x"},
            )
        ]
    )[0]
    assert r["status"] == "applied"
    assert county.sql("SELECT status FROM task")[0]["status"] == "cancelled"
    # A voids its payment: now nobody has a receipt and the home point A still wins
    r = a.push_ok(
        [a.op("payment.void", pay_a, {"id": pay_a, "status": "voided", "reason": "录错金额"})]
    )[0]
    assert r["status"] == "applied"
    status = {
        x["id"]: x["conflict_status"]
        for x in county.sql("SELECT id, conflict_status FROM enrollment")
    }
    assert status == {ea: "won", eb: "lost"}


def test_concurrent_double_enrollment_always_detected(two_points, county, make_id, person_payload):
    """Both service points enroll the same people for the same year at the same moment:
    every pair ends with exactly one winner, one loser and one conflict record."""
    import threading

    a, b = two_points
    people = []
    for i in range(8):
        cert = make_id(seq=600 + 2 * i)
        pa, pb = str(uuid.uuid4()), str(uuid.uuid4())
        a.push_ok([a.op("person.create", pa, person_payload(cert))])
        b.push_ok([b.op("person.create", pb, person_payload(cert))])
        people.append((pa, pb))
    errors = []

    def enroll(dev, idx):
        try:
            for pair in people:
                r = dev.push(
                    [
                        dev.op(
                            "enrollment.create",
                            str(uuid.uuid4()),
                            {"person_id": pair[idx], "year": 2026},
                        )
                    ]
                )
                if r.status_code != 200:
                    errors.append(r.text)
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))

    threads = [
        threading.Thread(target=enroll, args=(a, 0)),
        threading.Thread(target=enroll, args=(b, 1)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    rows = county.sql("SELECT person_id, conflict_status FROM enrollment WHERE year = 2026")
    by_person: dict[str, list[str]] = {}
    for r in rows:
        by_person.setdefault(r["person_id"], []).append(r["conflict_status"])
    assert len(by_person) == 8
    assert all(sorted(v) == ["lost", "won"] for v in by_person.values())
    assert (
        county.sql(
            "SELECT count(*) AS n FROM conflict WHERE kind = 'double_enrollment' AND year = 2026"
        )[0]["n"]
        == 8
    )


def test_concurrent_same_person_merged_once(two_points, county, make_id, person_payload):
    import threading

    a, b = two_points
    certs = [make_id(seq=700 + 2 * i) for i in range(10)]
    results: dict[str, list] = {"a": [], "b": []}

    def create(dev, key):
        for c in certs:
            r = dev.push([dev.op("person.create", str(uuid.uuid4()), person_payload(c))])
            results[key].append(
                r.json()["results"][0]["status"] if r.status_code == 200 else r.text
            )

    threads = [
        threading.Thread(target=create, args=(a, "a")),
        threading.Thread(target=create, args=(b, "b")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    pairs = sorted(sorted(p) for p in zip(results["a"], results["b"], strict=True))
    assert pairs == [["applied", "merged"]] * 10
    assert county.sql("SELECT count(*) AS n FROM person")[0]["n"] == 10
    assert county.sql("SELECT count(*) AS n FROM alias")[0]["n"] == 10
