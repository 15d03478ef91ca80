"""Issue 18: person, enrollment, payment and applied_op are partitioned by county (region
code) on a real PostgreSQL — an older database moves across, a resident of one county met
at another county's point stays in their own county's partition with everything about
them, ids and certificate numbers stay unique across the province, a lookup by id reads
one county, and a county can be detached (archived) and attached again."""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest
from psycopg.rows import dict_row

from core import rowids
from core import syncproto as sp
from county import db
from county.testing import drop_database, fresh_database

A, B = "140121", "140122"


def _partitions(county, table: str) -> dict[str, str]:
    """id → the partition that holds it."""
    key = "op_id" if table == "applied_op" else "id"
    return {
        r["k"]: r["part"]
        for r in county.sql(f"SELECT {key} AS k, tableoid::regclass::text AS part FROM {table}")
    }


@pytest.fixture
def older_database(pg_cluster):
    """A database at migration 0018 (before partitioning)."""
    url = fresh_database(pg_cluster, migrated=False)
    with psycopg.connect(url, autocommit=True) as c:
        c.execute(
            "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        for path in db.migration_files():
            if int(path.name[:4]) < 19:
                with c.transaction():
                    c.execute(path.read_text(encoding="utf-8"))
                    c.execute(
                        "INSERT INTO schema_migrations(version, name) VALUES (%s, %s)",
                        (int(path.name[:4]), path.stem),
                    )
    yield url
    drop_database(pg_cluster, url)


def test_an_older_database_moves_into_county_partitions(older_database):
    d = json.dumps({})
    with psycopg.connect(older_database, row_factory=dict_row) as c:
        for sp_id, region in (("s-a", A), ("s-b", B)):
            c.execute(
                "INSERT INTO service_point(id, code, name, region_code) VALUES (%s, %s, %s, %s)",
                (sp_id, sp_id.upper(), sp_id, region),
            )
            c.execute(
                "INSERT INTO device(id, service_point_id, secret_sha256) VALUES (%s, %s, 'x')",
                ("d" + sp_id, sp_id),
            )
        # p-b's number was issued in county A; p-b is insured in B
        cert_a, cert_b = f"{A}195504010011", f"{A}196001010022"
        c.execute(
            "INSERT INTO person(id, cert_type, cert_no, home_sp_id, data) VALUES"
            " ('p-a', 'resident_id', %s, 's-a', %s), ('p-b', 'resident_id', %s, 's-b', %s)",
            (cert_a, d, cert_b, d),
        )
        c.execute("INSERT INTO person_link(person_id, sp_id) VALUES ('p-a', 's-a'), ('p-a', 's-b')")
        # p-a (county A) enrolled and paid at county B's point
        c.execute(
            "INSERT INTO enrollment(id, person_id, year, sp_id, data) VALUES"
            " ('e-a', 'p-a', 2026, 's-b', %s), ('e-b', 'p-b', 2026, 's-b', %s)",
            (d, d),
        )
        c.execute(
            "INSERT INTO payment(id, enrollment_id, sp_id, amount, data) VALUES"
            " ('pay-a', 'e-a', 's-b', 400, %s)",
            (d,),
        )
        c.execute(
            "INSERT INTO applied_op(op_id, device_id, device_seq, op_type, entity_id,"
            " payload_sha256, batch_id, result) VALUES"
            " ('o1', 'ds-b', 1, 'payment.record', 'pay-a', 'h', 'b', '{}')"
        )
        c.commit()
        assert db.migrate(c) == [
            "0019_region_partitions",
            "0020_row_functions",
            "0021_conflict_point",
            "0022_report_payments_region",
            "0023_staff_county",
            "0024_report_county_recount",
            "0025_resident_elsewhere",
            "0026_key_index_only",
        ]
        where = {
            t: {
                r["k"]: r["part"]
                for r in c.execute(
                    f"SELECT {'op_id' if t == 'applied_op' else 'id'} AS k,"
                    f" tableoid::regclass::text AS part FROM {t}"
                ).fetchall()
            }
            for t in ("person", "enrollment", "payment", "applied_op")
        }
        assert where == {
            "person": {"p-a": f"person_{A}", "p-b": f"person_{B}"},
            "enrollment": {"e-a": f"enrollment_{A}", "e-b": f"enrollment_{B}"},
            "payment": {"pay-a": f"payment_{A}"},
            "applied_op": {"o1": f"applied_op_{B}"},  # the county of the device that sent it
        }
        keys = c.execute("SELECT id, region, cert_no FROM person_key ORDER BY id").fetchall()
        assert keys == [
            {"id": "p-a", "region": A, "cert_no": cert_a},
            {"id": "p-b", "region": B, "cert_no": cert_b},
        ]
        # the resident insured outside the county that issued the number is listed (0025)
        assert c.execute("SELECT cert_no, region FROM resident_elsewhere").fetchall() == [
            {"cert_no": cert_b, "region": B}
        ]
        assert db.person_by_cert(c, "resident_id", cert_b, "id") == {"id": "p-b"}
        # the links kept their foreign key, now on the key table
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            c.execute("INSERT INTO person_link(person_id, sp_id) VALUES ('nobody', 's-a')")


def test_a_resident_of_one_county_stays_there_when_another_county_serves_them(
    county, make_id, person_payload
):
    """A person of county A registered again, enrolled and paid at county B's point: one
    person, and the enrollment, the payment and the refund task are in county A's
    partitions; B's device's operations are in B's."""
    county.service_point("SP01", "东乡卫生院", A)
    county.service_point("SP02", "外县卫生院", B)
    a, b = county.device("SP01"), county.device("SP02")
    cert = make_id(seq=41)
    pa, pb = str(uuid.uuid4()), str(uuid.uuid4())
    assert a.push_ok([a.op("person.create", pa, person_payload(cert))])[0]["status"] == "applied"
    rb = b.push_ok([b.op("person.create", pb, person_payload(cert))])[0]
    assert rb["status"] == sp.ST_MERGED and rb["canonical_id"] == pa
    ea, eb = str(uuid.uuid4()), str(uuid.uuid4())
    pay_a, pay_b = str(uuid.uuid4()), str(uuid.uuid4())
    a.push_ok(
        [
            a.op("enrollment.create", ea, {"person_id": pa, "year": 2026}),
            a.op("payment.record", pay_a, {"enrollment_id": ea, "amount": "400.00"}),
        ]
    )
    rb = b.push_ok(
        [
            b.op("enrollment.create", eb, {"person_id": pb, "year": 2026}),
            b.op(
                "payment.record",
                pay_b,
                {"enrollment_id": eb, "amount": "400.00", "receipt_no": "SP02-2026-000001"},
            ),
        ]
    )
    assert rb[0]["code"] == "double_enrollment"
    assert _partitions(county, "person") == {pa: f"person_{A}"}
    assert _partitions(county, "enrollment") == {ea: f"enrollment_{A}", eb: f"enrollment_{A}"}
    assert _partitions(county, "payment") == {pay_a: f"payment_{A}", pay_b: f"payment_{A}"}
    assert set(_partitions(county, "applied_op").values()) == {f"applied_op_{A}", f"applied_op_{B}"}
    status = {
        r["id"]: r["conflict_status"]
        for r in county.sql("SELECT id, conflict_status FROM enrollment")
    }
    assert status == {ea: "lost", eb: "won"}  # the receipt wins, across counties
    tasks = county.sql("SELECT payment_id FROM task")
    assert [t["payment_id"] for t in tasks] == [pay_a]
    # a void from B finds its payment in A's partition
    r = b.push_ok([b.op("payment.void", pay_b, {"reason": "收错了"})])[0]
    assert r["status"] == sp.ST_APPLIED
    assert county.sql("SELECT cancelled FROM payment WHERE id = %s", (pay_b,))[0]["cancelled"]


def _person(c, pid: str, cert: str, region: str) -> None:
    c.execute(
        "INSERT INTO person(id, cert_type, cert_no, home_sp_id, data, region)"
        " SELECT %s, 'resident_id', %s, id, '{}', region_code FROM service_point"
        " WHERE region_code = %s LIMIT 1",
        (pid, cert, region),
    )


def test_ids_and_certificate_numbers_stay_unique_across_counties(county):
    county.service_point("SP01", "东乡卫生院", A)
    county.service_point("SP02", "外县卫生院", B)
    with county.conn() as c:
        _person(c, "p1", "C1", A)
        _person(c, "p2", "C2", B)
        c.commit()
        for pid, cert, region in (("p1", "C9", B), ("p9", "C1", B), ("p9", "C2", A)):
            with pytest.raises(psycopg.errors.UniqueViolation), c.transaction():
                _person(c, pid, cert, region)
        # a corrected certificate number moves with its person, and is checked
        c.execute("UPDATE person SET cert_no = 'C3' WHERE id = 'p1'")
        assert c.execute("SELECT cert_no FROM person_key WHERE id = 'p1'").fetchone() == {
            "cert_no": "C3"
        }
        with pytest.raises(psycopg.errors.UniqueViolation), c.transaction():
            c.execute("UPDATE person SET cert_no = 'C2' WHERE id = 'p1'")
        with pytest.raises(psycopg.errors.UniqueViolation), c.transaction():
            c.execute(
                "INSERT INTO enrollment(id, person_id, year, sp_id, data, region)"
                " SELECT 'e1', 'p1', 2026, home_sp_id, '{}'::jsonb, region FROM person"
                " WHERE id = 'p1'"
                " UNION ALL SELECT 'e1', 'p2', 2026, home_sp_id, '{}'::jsonb, region FROM person"
                " WHERE id = 'p2'"
            )


def _planned(c, query: str, params) -> list[str]:
    """The tables in a query's plan (EXPLAIN): what PostgreSQL planned to read."""
    plan = c.execute("EXPLAIN (FORMAT JSON) " + query, params).fetchone()
    found: list[str] = []

    def walk(node: dict) -> None:
        if node.get("Relation Name"):
            found.append(node["Relation Name"])
        for child in node.get("Plans", []):
            walk(child)

    walk(plan["QUERY PLAN"][0]["Plan"])
    return found


def _partitions_locked(c, sql: str, args: tuple) -> list[str]:
    """The county partitions of person a statement planned: PostgreSQL locks a partition
    it plans (those pruned while planning are never opened), until the transaction ends."""
    c.commit()
    c.execute(sql, args).fetchall()
    rows = c.execute(
        "SELECT relation::regclass::text AS t FROM pg_locks WHERE locktype = 'relation'"
        " AND pid = pg_backend_pid() AND relation::regclass::text ~ '^person_[0-9]{6}$'"
        " ORDER BY 1"
    ).fetchall()
    c.rollback()
    return [r["t"] for r in rows]


def test_a_lookup_by_id_plans_and_reads_one_county(county):
    regions = (A, B, "140123")
    for i, region in enumerate(regions):
        county.service_point(f"SP0{i}", f"第{i}卫生院", region)
    with county.conn() as c:
        for i, region in enumerate(regions):
            _person(c, f"p{i}", f"C{i}", region)
        c.commit()
        for i, region in list(enumerate(regions)) * 3:  # past PL/pgSQL's 5 custom plans
            assert db.region_of(c, "person", f"p{i}") == region
            assert _planned(
                c, "SELECT version FROM person WHERE region = %s AND id = %s", (region, f"p{i}")
            ) == [f"person_{region}"]
            # by id alone, through person_row (0020): one statement, one partition
            assert db.row_by_id(c, "person", f"p{i}", "id, region") == {
                "id": f"p{i}",
                "region": region,
            }
            sql = "SELECT * FROM person_row(%s, %s)"
            assert _partitions_locked(c, sql, (f"p{i}", False)) == [f"person_{region}"]
            sql = "SELECT * FROM person_with_cert('resident_id', %s, false)"
            assert _partitions_locked(c, sql, (f"C{i}",)) == [f"person_{region}"]
        assert db.person_by_cert(c, "resident_id", "C2", "id, region") == {
            "id": "p2",
            "region": "140123",
        }
        # where the caller expects the row (a desk's own county): read there; found in
        # another county all the same; nowhere: nothing
        for guess in regions:
            assert db.row_by_id(c, "person", "p1", "id, region", county=guess) == {
                "id": "p1",
                "region": B,
            }
        assert db.row_by_id(c, "person", "nobody", county=A) is None
        for guess in regions:
            got = db.person_by_cert(c, "resident_id", "C1", "id", lock=True, county=guess)
            assert got == {"id": "p1"}
        c.rollback()
        assert db.person_by_cert(c, "resident_id", "C9", "id", county=A) is None
        sql = (
            "SELECT 1 FROM person WHERE region = %s AND cert_type = 'resident_id' AND cert_no = %s"
        )
        assert _planned(c, sql, (B, "C1")) == [f"person_{B}"]
        # an id (a certificate) no county holds: nothing, and no partition at all
        assert db.row_by_id(c, "person", "nobody") is None
        assert db.person_by_cert(c, "resident_id", "C9", "id") is None
        assert _partitions_locked(c, "SELECT * FROM person_row('nobody')", ()) == []
        # without the county, every county's partition is planned (what the key tables spare)
        assert len(_planned(c, "SELECT 1 FROM person WHERE id = %s", ("p1",))) == 3
        assert len(_partitions_locked(c, "SELECT 1 FROM person WHERE id = 'p1'", ())) == 3


def _key_table_read(c, read) -> bool:
    """Whether ``read`` (a function of the connection) read the province's key table of
    persons — the step a read in the right county's partition does without."""
    c.commit()
    read(c)
    rows = c.execute(
        "SELECT 1 FROM pg_locks WHERE locktype = 'relation' AND pid = pg_backend_pid()"
        " AND relation = 'person_key'::regclass"
    ).fetchall()
    c.rollback()
    return bool(rows)


def _elsewhere(c) -> dict[str, str]:
    rows = c.execute("SELECT cert_no, region FROM resident_elsewhere").fetchall()
    return {r["cert_no"]: r["region"] for r in rows}


def test_a_resident_id_number_is_read_in_one_county_without_the_key_table(county):
    """A tax import row without a service point: the number's first six digits name the
    county that issued it, where most residents are insured. The few insured in another
    county (moved since, or a number from a county this server does not hold) are listed
    with their county in resident_elsewhere, kept by a trigger (0025): every resident is
    read in one partition, without the province's key table."""
    county.service_point("SP01", "东乡卫生院", A)
    county.service_point("SP02", "外县卫生院", B)
    home, moved, far = f"{A}195504010011", f"{A}196001010022", "110101197001010033"
    with county.conn() as c:
        _person(c, "p-home", home, A)  # insured where the number was issued
        _person(c, "p-moved", moved, B)  # issued in A, insured in B
        _person(c, "p-far", far, B)  # issued in a county this server does not serve
        c.commit()
        assert _elsewhere(c) == {moved: B, far: B}
        sql = "SELECT id FROM person_with_resident_id(%s, true)"
        for cert, pid, region in ((home, "p-home", A), (moved, "p-moved", B), (far, "p-far", B)):
            assert db.person_by_cert(c, "resident_id", cert, "id") == {"id": pid}
            for guess in (A, B, "140123"):  # a caller's county, right or wrong
                got = db.person_by_cert(c, "resident_id", cert, "id", lock=True, county=guess)
                assert got == {"id": pid}
            assert not _key_table_read(
                c, lambda c, cert=cert: db.person_by_cert(c, "resident_id", cert, "id", lock=True)
            )
            assert _partitions_locked(c, sql, (cert,)) == [f"person_{region}"]
        assert db.person_by_cert(c, "resident_id", f"{B}199001010044", "id") is None
        assert db.person_by_cert(c, "resident_id", "110101199001010055", "id") is None

        # the trigger keeps the list as numbers are corrected and rows go
        c.execute("UPDATE person SET cert_no = %s WHERE id = 'p-moved'", (f"{B}196001010022",))
        c.execute("UPDATE person SET cert_no = %s WHERE id = 'p-home'", (f"{B}195504010011",))
        c.commit()
        assert _elsewhere(c) == {far: B, f"{B}195504010011": A}
        for cert, pid in ((f"{B}196001010022", "p-moved"), (f"{B}195504010011", "p-home")):
            assert db.person_by_cert(c, "resident_id", cert, "id") == {"id": pid}
        assert db.person_by_cert(c, "resident_id", moved, "id") is None
        # a uniqueness refused on the number leaves the list as it was
        with pytest.raises(psycopg.errors.UniqueViolation), c.transaction():
            c.execute("UPDATE person SET cert_no = %s WHERE id = 'p-far'", (f"{B}196001010022",))
        assert _elsewhere(c) == {far: B, f"{B}195504010011": A}
        # another kind of certificate carries no county: through the key table
        c.execute("UPDATE person SET cert_type = 'passport' WHERE id = 'p-home'")
        c.execute("DELETE FROM person WHERE id = 'p-far'")
        c.commit()
        assert _elsewhere(c) == {}
        assert db.person_by_cert(c, "passport", f"{B}195504010011", "id") == {"id": "p-home"}
        assert _key_table_read(
            c, lambda c: db.person_by_cert(c, "passport", f"{B}195504010011", "id")
        )


def test_an_id_that_carries_its_county_is_read_there_without_the_key_table(county):
    """A row made from this version on carries its county in its id (core.rowids): read
    by id with no county to name (another county's desk, the console), it is one
    partition and no key table. An id made before (a version-4 UUID), or one whose
    county is not where the row is, is found through the key table all the same."""
    county.service_point("SP01", "东乡卫生院", A)
    county.service_point("SP02", "外县卫生院", B)
    tagged, old, astray = rowids.new_row_id(A), str(uuid.uuid4()), rowids.new_row_id(A)
    with county.conn() as c:
        _person(c, tagged, "C1", A)
        _person(c, old, "C2", B)
        _person(c, astray, "C3", B)  # made at a point whose code was corrected since
        c.commit()
        for pid, region in ((tagged, A), (old, B), (astray, B)):
            for guess in (None, A, B):  # whichever county the caller would try
                got = db.row_by_id(c, "person", pid, "id, region", county=guess)
                assert got == {"id": pid, "region": region}

        def read(pid, guess=None):
            return lambda c: db.row_by_id(c, "person", pid, "id", lock=True, county=guess)

        assert not _key_table_read(c, read(tagged))
        assert not _key_table_read(c, read(tagged, B))  # its id beats the caller's guess
        sql = "SELECT id FROM person WHERE region = %s AND id = %s FOR UPDATE"
        assert _partitions_locked(c, sql, (rowids.region_in(tagged), tagged)) == [f"person_{A}"]
        assert _key_table_read(c, read(old)) and _key_table_read(c, read(astray))
        assert db.row_by_id(c, "person", rowids.new_row_id(B)) is None


def _plans_run(c, read) -> list[str]:
    """The plans of the statements ``read`` (a function of the connection) ran, those
    inside the server's functions included, as PostgreSQL ran them (auto_explain)."""
    plans: list[str] = []
    c.execute("LOAD 'auto_explain'")
    for setting in ("log_min_duration = 0", "log_nested_statements = on", "log_analyze = on"):
        c.execute(f"SET auto_explain.{setting}")
    c.execute("SET client_min_messages = log")

    def keep(d) -> None:
        plans.append(d.message_primary or "")

    c.add_notice_handler(keep)
    try:
        read(c)
    finally:
        c.rollback()  # the settings go with the transaction
        c.remove_notice_handler(keep)
    return plans


def test_a_rows_county_is_read_from_the_key_tables_index_alone(county):
    """Migration 0026: the key tables' primary keys carry the county, so finding which
    county holds an id reads the index and never the table behind it (at twenty million
    residents, a page that was rarely in memory). The foreign keys that rest on those
    primary keys are as 0019 made them, and still refuse a row of no one."""
    county.service_point("SP01", "东乡卫生院", A)
    county.service_point("SP02", "外县卫生院", B)
    old = str(uuid.uuid4())  # an id made before ids carried their county
    with county.conn() as c:
        # commits flushed as in production: VACUUM marks a page all-visible only once the
        # commits of its rows are on disk (the test cluster commits without waiting)
        c.execute("SET synchronous_commit = on")
        _person(c, old, "C1", B)
        c.execute(  # enough residents that PostgreSQL reads by index, not the whole table
            "INSERT INTO person(id, cert_type, cert_no, home_sp_id, data, region)"
            " SELECT 'p' || n, 'resident_id', 'N' || n, s.id, '{}', s.region_code"
            " FROM generate_series(1, 3000) n, service_point s WHERE s.region_code = %s",
            (A,),
        )
        c.execute(
            "INSERT INTO enrollment(id, person_id, year, sp_id, data, region)"
            " SELECT 'e-' || id, id, 2026, home_sp_id, '{}'::jsonb, region FROM person"
        )
        c.commit()
        c.autocommit = True
        c.execute("VACUUM ANALYZE person_key, enrollment_key")  # as autovacuum does (0026)
        c.autocommit = False
        for table, key, rid, region in (
            ("person", "person_key", old, B),
            ("enrollment", "enrollment_key", f"e-{old}", B),
        ):
            assert db.row_by_id(c, table, rid, "id, region") == {"id": rid, "region": region}
            plans = _plans_run(c, lambda c, t=table, i=rid: db.row_by_id(c, t, i, "id"))
            key_read = next(p for p in plans if f" FROM {key} WHERE" in p)
            assert f"Index Only Scan using {key}_pkey" in key_read, key_read
            assert "Heap Fetches: 0" in key_read, key_read
        fkeys = c.execute(
            "SELECT conname, conrelid::regclass::text AS t, pg_get_constraintdef(oid) AS d"
            " FROM pg_constraint WHERE contype = 'f' AND conparentid = 0"
            " AND confrelid::regclass::text IN ('person_key', 'enrollment_key', 'payment_key')"
            " ORDER BY 1"
        ).fetchall()
        assert [(f["conname"], f["d"]) for f in fkeys] == [
            ("enrollment_person_id_fkey", "FOREIGN KEY (person_id) REFERENCES person_key(id)"),
            (
                "payment_enrollment_id_fkey",
                "FOREIGN KEY (enrollment_id) REFERENCES enrollment_key(id)",
            ),
            ("person_link_person_id_fkey", "FOREIGN KEY (person_id) REFERENCES person_key(id)"),
            ("person_ytd_person_id_fkey", "FOREIGN KEY (person_id) REFERENCES person_key(id)"),
            ("poverty_alert_person_id_fkey", "FOREIGN KEY (person_id) REFERENCES person_key(id)"),
            ("task_payment_id_fkey", "FOREIGN KEY (payment_id) REFERENCES payment_key(id)"),
        ]
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            c.execute(
                "INSERT INTO enrollment(id, person_id, year, sp_id, data, region)"
                f" VALUES ('e2', 'nobody', 2026, 's-x', '{{}}'::jsonb, '{A}')"
            )


def test_a_year_to_date_import_reads_its_resident_in_one_county(county, make_id):
    """A hospital's year-to-date figures name a resident by ID number: read in the
    importing account's county, or with none in the county the number names (0025) —
    never by certificate in the province's key table. Found elsewhere than the account's
    county, the row is refused."""
    from county import ytd

    county.service_point("SP01", "东乡卫生院", A)
    county.service_point("SP02", "外县卫生院", B)
    home, moved = make_id("19550401", 1), make_id("19600101", 2)  # both issued in A
    with county.conn() as c:
        _person(c, "p-home", home, A)
        _person(c, "p-moved", moved, B)
        c.commit()
        for cert, pid, region in ((home, "p-home", A), (moved, "p-moved", B)):
            row = {"身份证号": cert, "年度": "2026", "本年住院统筹基金已支付": "100"}
            for account in (None, region):
                plans = _plans_run(
                    c, lambda c, row=row, a=account: ytd.import_ytd(c, [row], region=a)
                )
                by_cert = [p for p in plans if "person_key" in p and "cert_no" in p]
                assert plans and not by_cert, by_cert
            rep = ytd.import_ytd(c, [row], region=region)
            c.commit()
            assert (rep.created, rep.errors) == (1, [])
            got = c.execute("SELECT person_id FROM person_ytd WHERE person_id = %s", (pid,))
            assert got.fetchone() == {"person_id": pid}
        rep = ytd.import_ytd(
            c, [{"身份证号": moved, "年度": "2026", "本年住院统筹基金已支付": "1"}], region=A
        )
        assert "不属于本账号管的区划" in rep.errors[0][1]


def test_a_row_read_by_id_with_lock_is_locked_until_the_transaction_ends(county):
    county.service_point("SP01", "东乡卫生院", A)
    with county.conn() as c, county.conn() as other:
        _person(c, "p1", "C1", A)
        c.commit()
        assert db.row_by_id(c, "person", "p1", "version", lock=True) == {"version": 1}
        with pytest.raises(psycopg.errors.LockNotAvailable):
            other.execute(
                f"SELECT 1 FROM person WHERE region = '{A}' AND id = 'p1' FOR UPDATE NOWAIT"
            )
        other.rollback()
        c.commit()
        assert db.person_by_cert(c, "resident_id", "C1", "id", lock=True) == {"id": "p1"}
        with pytest.raises(psycopg.errors.LockNotAvailable):
            other.execute(
                f"SELECT 1 FROM person WHERE region = '{A}' AND id = 'p1' FOR UPDATE NOWAIT"
            )
        other.rollback()
        c.rollback()
        # without lock, nothing is held
        assert db.row_by_id(c, "person", "p1", "id")["id"] == "p1"
        other.execute(f"SELECT 1 FROM person WHERE region = '{A}' AND id = 'p1' FOR UPDATE NOWAIT")
        other.rollback()


def test_a_county_is_detached_for_the_archive_and_attached_again(county, person_payload, make_id):
    county.service_point("SP01", "东乡卫生院", A)
    county.service_point("SP02", "外县卫生院", B)
    a, b = county.device("SP01"), county.device("SP02")
    a.push_ok([a.op("person.create", str(uuid.uuid4()), person_payload(make_id(seq=51)))])
    b.push_ok([b.op("person.create", str(uuid.uuid4()), person_payload(make_id(seq=52)))])
    tables = ("person", "enrollment", "payment", "applied_op")
    with county.conn() as c:
        for t in tables:
            c.execute(f"ALTER TABLE {t} DETACH PARTITION {t}_{B}")
        c.commit()
    # county B's rows are out of the live tables (kept in their own tables for the archive)
    assert county.sql("SELECT count(*) AS n FROM person")[0]["n"] == 1
    assert county.sql(f"SELECT count(*) AS n FROM person_{B}")[0]["n"] == 1
    # county A goes on
    r = a.push_ok([a.op("person.create", str(uuid.uuid4()), person_payload(make_id(seq=53)))])
    assert r[0]["status"] == sp.ST_APPLIED
    with county.conn() as c:
        for t in tables:
            c.execute(f"ALTER TABLE {t} ATTACH PARTITION {t}_{B} FOR VALUES IN ('{B}')")
        c.commit()
    assert county.sql("SELECT count(*) AS n FROM person")[0]["n"] == 3


def test_two_points_of_a_new_county_created_at_once(county):
    """Both succeed: the first point's new partitions lock service_point (their foreign
    keys name it), so the second waits for it and then finds the partitions made."""
    import threading

    first, second = county.conn(), county.conn()
    try:
        first.execute(
            "INSERT INTO service_point(id, code, name, region_code) VALUES ('n1', 'N1', '一', %s)",
            ("140199",),
        )
        errors: list[Exception] = []

        def other() -> None:
            try:
                second.execute(
                    "INSERT INTO service_point(id, code, name, region_code)"
                    " VALUES ('n2', 'N2', '二', %s)",
                    ("140199",),
                )
                second.commit()
            except psycopg.Error as e:
                errors.append(e)

        t = threading.Thread(target=other)
        t.start()
        t.join(1.0)
        assert t.is_alive()  # waiting for the first to finish the partitions
        first.commit()
        t.join(10)
        assert errors == []
    finally:
        first.close()
        second.close()
    assert {r["code"] for r in county.sql("SELECT code FROM service_point")} == {"N1", "N2"}
    assert len(county.sql("SELECT 1 FROM pg_class WHERE relname LIKE '%%_140199'")) >= 4
