"""A province's tables against one county's (issue 18; goal: each query within 2×).
Run: .venv/bin/python bench/bench_partitions.py [--counties 100] [--residents 200000]

Two databases in one durable PostgreSQL cluster (fsync and synchronous commit on, as in
production; shared_buffers ``SHARED_BUFFERS`` for both):
- the bare baseline, **one county's table**: the schema before partitioning (migrations up
  to 0018) holding one county — ``--residents`` persons, one enrollment each;
- **the province**: the partitioned schema (all migrations) holding ``--counties`` counties
  of that size (default 100 × 200,000 = 20 million persons, 20 million enrollments).

Then the queries the server runs most, each as the server writes it for that schema, on
random residents, ``--runs`` times each, with prepared statements (psycopg's default) and
without (behind PgBouncer, ``database_pooled``). Writes bench/results/partitions.md."""

from __future__ import annotations

import argparse
import atexit
import datetime as dt
import hashlib
import random
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine  # noqa: E402

from core import rowids  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "partitions.md"
ROUNDS = 5  # each query's runs, in alternating rounds on the two databases
SHARED_BUFFERS = "6GB"  # a quarter of the memory, the usual advice; the rest caches files
FIRST = 140101  # county codes from here (six digits; not real codes past the first few)

# One resident in MOVED_EVERY carries an ID number another county issued (the first six
# digits of a resident ID are the issuing county, GB 11643): moved since, insured here.
MOVED_EVERY = 50

# (label, statements on one county's table, statements on the partitioned province), each
# as the server writes them for that schema (the province's from county/ingest, conflicts,
# db.row_by_id / person_by_cert; the county's from before migration 0019; reads without
# FOR UPDATE here). Named parameters: pid, eid (the resident's enrollment), new (an id
# not yet held), cert (cert_county: its first six digits; cert_moved: one ``issuer``
# issued), year, region (the resident's county, which the desk's own county is
# for its residents); a statement's columns are parameters of the statements after it.
QUERIES = [
    (
        "payment.record: is the id taken, its enrollment, the person",
        [
            "SELECT p.sp_id AS pay_sp, p.version AS pay_version, e.id, e.person_id, e.year,"
            " e.sp_id FROM (SELECT 1) x LEFT JOIN payment p ON p.id = %(new)s"
            " LEFT JOIN enrollment e ON e.id = %(eid)s",
            "SELECT id, cert_no, home_sp_id, version, data FROM person WHERE id = %(pid)s",
        ],
        [
            "SELECT (SELECT region FROM payment_key WHERE id = %(new)s) AS pay_region,"
            " CASE WHEN e.id IS NULL THEN (SELECT region FROM enrollment_key"
            "   WHERE id = %(eid)s) END AS enr_region,"
            " e.id, e.person_id, e.year, e.sp_id, e.region AS here"
            " FROM (SELECT 1) x LEFT JOIN enrollment e ON e.region = %(region)s AND e.id = %(eid)s",
            "SELECT id, cert_no, home_sp_id, version, data, region FROM person"
            " WHERE region = %(here)s AND id = %(pid)s",
        ],
    ),
    (
        "enrollment.create: is the id taken, the person",
        [
            "SELECT (SELECT sp_id FROM enrollment WHERE id = %(new)s) AS sp_id,"
            " (SELECT version FROM enrollment WHERE id = %(new)s) AS version,"
            " COALESCE((SELECT canonical_id FROM alias WHERE entity = 'person'"
            "   AND alias_id = %(pid)s), %(pid)s) AS person_id",
            "SELECT id, cert_no, home_sp_id, version, data FROM person WHERE id = %(person_id)s",
        ],
        [
            "SELECT (SELECT region FROM enrollment_key WHERE id = %(new)s) AS enr_region,"
            " q.person_id, (SELECT region FROM person_key WHERE id = q.person_id) AS person_region"
            " FROM (SELECT COALESCE((SELECT canonical_id FROM alias WHERE entity = 'person'"
            "   AND alias_id = %(pid)s), %(pid)s) AS person_id) q",
            "SELECT id, cert_no, home_sp_id, version, data, region FROM person"
            " WHERE region = %(person_region)s AND id = %(person_id)s",
        ],
    ),
    (
        "the winner rule: a person's enrollments of a year and their payments",
        [
            "SELECT e.id, e.sp_id, e.arrival, e.conflict_status, e.version, e.data,"
            " EXISTS (SELECT 1 FROM payment p WHERE p.enrollment_id = e.id AND p.tax_confirmed"
            "   AND NOT p.cancelled) AS tax,"
            " EXISTS (SELECT 1 FROM payment p WHERE p.enrollment_id = e.id AND p.receipt_no <> ''"
            "   AND NOT p.cancelled) AS receipt,"
            " EXISTS (SELECT 1 FROM payment p WHERE p.enrollment_id = e.id AND NOT p.cancelled)"
            "   AS paid FROM enrollment e WHERE e.person_id = %(pid)s AND e.year = %(year)s"
            " ORDER BY e.arrival"
        ],
        [
            "SELECT e.id, e.sp_id, e.arrival, e.conflict_status, e.version, e.data, e.region,"
            " coalesce(bool_or(p.tax_confirmed AND NOT p.cancelled), false) AS tax,"
            " coalesce(bool_or(p.receipt_no <> '' AND NOT p.cancelled), false) AS receipt,"
            " coalesce(bool_or(NOT p.cancelled), false) AS paid"
            " FROM enrollment e LEFT JOIN payment p ON p.region = %(region)s"
            " AND p.enrollment_id = e.id"
            " WHERE e.region = %(region)s AND e.person_id = %(pid)s AND e.year = %(year)s"
            " GROUP BY e.region, e.id ORDER BY e.arrival"
        ],
    ),
    (
        "an update's target by id, a resident of the desk's county (person.update, a void)",
        ["SELECT * FROM person WHERE id = %(pid)s"],
        ["SELECT * FROM person WHERE region = %(region)s AND id = %(pid)s"],
    ),
    (
        "an update's target by id, county not known (another county's resident, the console),"
        " an id made before ids carried their county: through person_row",
        ["SELECT * FROM person WHERE id = %(pid)s"],
        ["SELECT * FROM person_row(%(pid)s, false)"],
    ),
    (
        "an update's target by id, county not known, an id that carries its county"
        " (core.rowids: rows made from that version on): read in that county",
        ["SELECT * FROM person WHERE id = %(pid)s"],
        ["SELECT * FROM person WHERE region = %(id_region)s AND id = %(pid)s"],
    ),
    (
        "居民 by 证件号码, county known (a desk's merge, a roster's service point)",
        [
            "SELECT id, cert_no, home_sp_id, version, data FROM person"
            " WHERE cert_type = 'resident_id' AND cert_no = %(cert)s"
        ],
        [
            "SELECT id, cert_no, home_sp_id, version, data, region FROM person"
            " WHERE region = %(region)s AND cert_type = 'resident_id' AND cert_no = %(cert)s"
        ],
    ),
    (
        "居民 by 证件号码, county not given (a tax import without a service point), random"
        f" residents ({100 // MOVED_EVERY}% insured outside the county that issued their"
        " number): person_with_resident_id — the county resident_elsewhere names, else the"
        " issuing one",
        [
            "SELECT id, cert_no, home_sp_id, version, data FROM person"
            " WHERE cert_type = 'resident_id' AND cert_no = %(cert)s"
        ],
        [
            "SELECT id, cert_no, home_sp_id, version, data, region"
            " FROM person_with_resident_id(%(cert)s, false)"
        ],
    ),
    (
        "居民 by 证件号码, county not given, insured outside the county that issued the"
        f" number ({100 // MOVED_EVERY}% here): person_with_resident_id",
        [
            "SELECT id, cert_no, home_sp_id, version, data FROM person"
            " WHERE cert_type = 'resident_id' AND cert_no = %(cert_moved)s"
        ],
        [
            "SELECT id, cert_no, home_sp_id, version, data, region"
            " FROM person_with_resident_id(%(cert_moved)s, false)"
        ],
    ),
    (
        "ids taken? (the fast path's check, 5 ids)",
        [
            "SELECT 1 FROM person WHERE id = ANY(%(ids)s) UNION ALL"
            " SELECT 1 FROM enrollment WHERE id = ANY(%(ids)s) LIMIT 1"
        ],
        [
            "SELECT 1 FROM person_key WHERE id = ANY(%(ids)s) UNION ALL"
            " SELECT 1 FROM enrollment_key WHERE id = ANY(%(ids)s) LIMIT 1"
        ],
    ),
    (
        "one county's residents counted (a county's report)",
        ["SELECT count(*) FROM person WHERE data->>'status' = '1'"],
        ["SELECT count(*) FROM person WHERE region = %(region)s AND data->>'status' = '1'"],
    ),
]


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))]


def _uid(region: str, key: str) -> str:
    """A row id as a desk makes it (core.rowids: a version-8 UUID beginning with its
    county, the rest random), its random part the md5 of ``key`` so that the load (in SQL,
    ``_UID``) and the queries (here) name the same rows."""
    h = hashlib.md5(key.encode()).hexdigest()
    return f"{region}{h[0:2]}-{h[2:6]}-8{h[6:9]}-8{h[9:12]}-{h[12:24]}"


def _UID(key: str) -> str:  # noqa: N802 — _uid in SQL, ``key`` an SQL text expression
    h = f"md5({key})"
    return (
        f"%(r)s || substr({h}, 1, 2) || '-' || substr({h}, 3, 4) || '-8' || substr({h}, 7, 3)"
        f" || '-8' || substr({h}, 10, 3) || '-' || substr({h}, 13, 12)"
    )


def _pid(region: str, n: int) -> str:
    return _uid(region, f"{region}-{n}")


def _eid(region: str, n: int) -> str:
    return _uid(region, f"e{region}-{n}")


def _issuer(regions: list[str], region: str) -> str:
    """The county that issued the numbers of ``region``'s moved residents: the next one."""
    return regions[(regions.index(region) + 1) % len(regions)]


def _cert(region: str, n: int, issuer: str) -> str:
    if n % MOVED_EVERY == 0:
        return f"{issuer}{n + 500_000_000:012d}"
    return f"{region}{n:012d}"


def _load_county(conn, region: str, issuer: str, residents: int, partitioned: bool) -> None:
    """One county: a service point, its residents, one enrollment each for 2026 (ids as
    the desks make them: UUIDs beginning with their county, in random order)."""
    sp_id = f"sp-{region}"
    conn.execute(
        "INSERT INTO service_point(id, code, name, region_code) VALUES (%s, %s, %s, %s)",
        (sp_id, f"C{region}", f"{region}乡卫生院", region),
    )
    if partitioned:  # the service point's trigger would (triggers are off during the load)
        conn.execute("SELECT region_partitions(%s)", (region,))
    extra_cols, extra_val = (", region", ", %(r)s") if partitioned else ("", "")
    # inserted in random order, so index inserts land at random places, as UUIDs do
    pid, eid = _UID("%(r)s || '-' || g"), _UID("'e' || %(r)s || '-' || g")
    conn.execute(
        f"INSERT INTO person(id, cert_type, cert_no, home_sp_id, data{extra_cols})"
        f" SELECT {pid}, 'resident_id',"
        " CASE WHEN g %% %(every)s = 0 THEN %(issuer)s || lpad((g + 500000000)::text, 12, '0')"
        " ELSE %(r)s || lpad(g::text, 12, '0') END, %(sp)s,"
        " jsonb_build_object('name', '居民' || g, 'status', 1, 'sex', 1 + g %% 2,"
        "   'birth_date', '1970-01-01', 'insured_category', 'ordinary')"
        f"{extra_val}"
        " FROM generate_series(1, %(n)s) g ORDER BY md5(g::text)",
        {"r": region, "sp": sp_id, "n": residents, "issuer": issuer, "every": MOVED_EVERY},
    )
    conn.execute(
        f"INSERT INTO enrollment(id, person_id, year, sp_id, data{extra_cols})"
        f" SELECT {eid}, {pid},"
        " 2026, %(sp)s,"
        " jsonb_build_object('year', 2026, 'status', 'registered')"
        f"{extra_val}"
        " FROM generate_series(1, %(n)s) g ORDER BY md5(g::text)",
        {"r": region, "sp": sp_id, "n": residents},
    )
    if partitioned:  # the keys the triggers would claim, in one statement per table
        conn.execute(
            "INSERT INTO person_key(id, region, cert_type, cert_no)"
            f" SELECT id, region, cert_type, cert_no FROM person_{region}"
        )
        conn.execute(
            f"INSERT INTO enrollment_key(id, region) SELECT id, region FROM enrollment_{region}"
        )


def _check_ids(url: str, regions: list[str], residents: int) -> None:
    """The rows the queries name are the rows the load made (else a query would find
    nothing, quickly): ids computed here as in SQL, each carrying its county."""
    import psycopg

    rnd = random.Random(7)
    with psycopg.connect(url) as c:
        for _ in range(20):
            region, n = rnd.choice(regions), rnd.randrange(1, residents + 1)
            pid = _pid(region, n)
            row = c.execute(
                "SELECT e.person_id FROM enrollment e WHERE e.id = %s", (_eid(region, n),)
            ).fetchone()
            assert row == (pid,) and rowids.region_in(pid) == region, (region, n, row)
            assert c.execute("SELECT 1 FROM person WHERE id = %s", (pid,)).fetchone()


def _old_schema(url: str) -> None:
    import psycopg

    from county import db

    with psycopg.connect(url, autocommit=True) as c:
        for path in db.migration_files():
            if int(path.name[:4]) < 19:
                c.execute(path.read_text(encoding="utf-8"))


def _run(c, steps: list[str], p: dict) -> None:
    got: dict = {}
    for q in steps:
        row = c.execute(q, {**p, **got}).fetchone()
        got = dict(row) if row else {}


def _measure(url: str, steps: list[str], params: list[dict], prepared: bool) -> list[float]:
    import psycopg
    from psycopg.rows import dict_row

    times = []
    with psycopg.connect(url, prepare_threshold=5 if prepared else None, row_factory=dict_row) as c:
        for p in params[:10]:  # warm (and past the prepare threshold)
            _run(c, steps, p)
        for p in params:
            t = time.perf_counter()
            _run(c, steps, p)
            times.append(time.perf_counter() - t)
    return times


def _load(
    url: str, regions: list[str], residents: int, partitioned: bool
) -> tuple[float, int, str]:
    """Load ``regions`` of ``residents`` each; (seconds, persons, size on disk)."""
    import psycopg

    t0 = time.perf_counter()
    with psycopg.connect(url) as c:
        if partitioned:
            c.execute("SET session_replication_role = replica")  # key triggers: done in bulk
        for i, region in enumerate(regions):
            _load_county(c, region, _issuer(regions, region), residents, partitioned)
            c.commit()
            if i % 10 == 9:
                print(f"{i + 1} counties loaded, {time.perf_counter() - t0:.0f} s", flush=True)
        c.execute("RESET session_replication_role")
        c.execute("ANALYZE")
        c.commit()
        persons = c.execute("SELECT count(*) FROM person").fetchone()[0]
        size = c.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[
            0
        ]
    return time.perf_counter() - t0, persons, size


def _fill_elsewhere(url: str) -> float:
    """resident_elsewhere filled as migration 0025 fills it on a province that has its
    residents already (the load ran with triggers off); its seconds — an upgrade's cost."""
    import psycopg

    from county import db

    path = next(p for p in db.migration_files() if p.name.startswith("0025_"))
    fill = next(
        stmt
        for stmt in path.read_text(encoding="utf-8").split(";")
        if "INSERT INTO resident_elsewhere" in stmt and "SELECT" in stmt
    )
    with psycopg.connect(url) as c:
        t = time.perf_counter()
        c.execute(fill)
        c.commit()
        seconds = time.perf_counter() - t
        c.execute("ANALYZE resident_elsewhere")
    return seconds


def _vacuum(url: str, tables: list[str]) -> float:
    """VACUUM ``tables`` (the province's key tables, filled in bulk) as autovacuum keeps
    them on a running server (migration 0026: after 1% new rows), so that a lookup of a
    row's county reads their indexes alone (an index-only scan needs the pages marked
    all-visible); its seconds."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as c:
        t = time.perf_counter()
        c.execute(f"VACUUM (ANALYZE) {', '.join(tables)}")
        return time.perf_counter() - t


def _prewarm(url: str, tables: list[str], *, indexes_only: bool = False) -> str:
    """Read ``tables`` and their indexes (``indexes_only``: the indexes) into shared
    buffers (pg_prewarm); the size read. The province's key tables: every county's
    traffic reads their indexes (a row's county by id, index-only since 0026; a new id's
    or certificate's uniqueness), so a running province server holds those in memory
    (docs/province.md sizes its shared_buffers for it), while their tables are read only
    where a row is added; one county's tables: as hot as they are in the county's server.
    The province's partitions stay as the load left them."""
    import psycopg

    rels = (
        "SELECT c.oid FROM pg_class c WHERE"
        + ("" if indexes_only else " c.oid = %(t)s::regclass OR")
        + " c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = %(t)s::regclass)"
    )
    size = 0
    with psycopg.connect(url, autocommit=True) as c:
        c.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        for t in tables:
            size += c.execute(
                f"SELECT sum(pg_prewarm(oid)) AS pages FROM ({rels}) r", {"t": t}
            ).fetchone()[0]
        return c.execute(
            "SELECT pg_size_pretty(%s * current_setting('block_size')::bigint)", (size,)
        ).fetchone()[0]


def _push(url: str, region: str, fast: bool, batches: int, size: int) -> float:
    """A new service point of ``region`` pushes ``batches`` batches of new residents (a
    household; person, enrollment, payment each) through the real server: ops/s. ``fast``
    False: the op-by-op path (the fast path off), which reads every row by its county."""
    import gzip
    import json

    import httpx
    import psycopg
    from bench_county import KEY, device_token, make_ops, push_headers
    from psycopg.rows import dict_row

    from core import syncproto as sp
    from county import admin, sealing
    from county.testing import ServerProcess

    sealing.configure(KEY)
    code_sp = f"B{region}{'F' if fast else 'S'}"
    with psycopg.connect(url, row_factory=dict_row) as conn, conn.transaction():
        admin.create_service_point(conn, code_sp, "测试乡卫生院", region)
        code = admin.issue_device_code(conn, code_sp)["code"]
    start = 3_000_000 + (0 if fast else 1_000_000)
    work = [make_ops(start + k * 1000, size, k * size + 1) for k in range(batches)]
    env = {} if fast else {"TOWNSHIP_COUNTY_FASTPATH": "0"}
    with (
        ServerProcess(url, KEY, env=env) as server,
        httpx.Client(base_url=server.url, headers={sp.PROTOCOL_HEADER: "1"}, timeout=120) as c,
    ):
        auth = push_headers(device_token(c, code))
        took = 0.0
        for b in work:
            body = gzip.compress(json.dumps({"batch_id": str(uuid.uuid4()), "ops": b}).encode())
            t = time.perf_counter()
            r = c.post(sp.EP_PUSH, content=body, headers=auth)
            took += time.perf_counter() - t
            assert r.status_code == 200, r.text
            assert all(x["status"] == "applied" for x in r.json()["results"])
    return batches * size / took


def main() -> None:
    import psycopg

    from county import db
    from county.testing import fresh_database, start_cluster

    ap = argparse.ArgumentParser()
    ap.add_argument("--counties", type=int, default=100)
    ap.add_argument("--residents", type=int, default=200_000)
    ap.add_argument("--runs", type=int, default=2000)
    ap.add_argument("--batches", type=int, default=10, help="pushes of 200 ops per path")
    ap.add_argument("--results", default="partitions", help="bench/results/<this>.md")
    args = ap.parse_args()
    cluster = start_cluster(
        durable=True,
        options=f"-c shared_buffers={SHARED_BUFFERS} -c max_wal_size=4GB"
        " -c checkpoint_timeout=30min",
    )
    atexit.register(cluster.stop)
    regions = [str(FIRST + i) for i in range(args.counties)]

    one = fresh_database(cluster, migrated=False)
    _old_schema(one)
    one_s, _, _ = _load(one, regions[:1], args.residents, partitioned=False)
    county = fresh_database(cluster, migrated=False)  # partitioned, one county
    with psycopg.connect(county) as c:
        db.migrate(c)
    _load(county, regions[:1], args.residents, partitioned=True)
    province = fresh_database(cluster, migrated=False)
    with psycopg.connect(province) as c:
        db.migrate(c)
    province_s, persons, size = _load(province, regions, args.residents, partitioned=True)
    _check_ids(one, regions[:1], args.residents)
    _check_ids(province, regions, args.residents)
    _fill_elsewhere(county)
    elsewhere_s = _fill_elsewhere(province)
    keys = ["person_key", "enrollment_key", "payment_key"]
    vacuum_s = _vacuum(province, keys)
    keys_size = _prewarm(province, keys, indexes_only=True)
    elsewhere_size = _prewarm(province, ["resident_elsewhere"])
    _prewarm(one, ["person", "enrollment", "payment"])

    results = _queries(one, province, regions, args)
    pushes = {
        (fast, name): _push(
            url, regions[len(regions) // 2 if name == "province" else 0], fast, args.batches, 200
        )
        for fast in (True, False)
        for name, url in (("county", county), ("province", province))
    }
    _write(
        args,
        one_s,
        province_s,
        persons,
        size,
        (keys_size, vacuum_s),
        (elsewhere_s, elsewhere_size),
        results,
        pushes,
    )


def _queries(one: str, province: str, regions: list[str], args) -> list[dict]:
    rnd = random.Random(18)
    results = []
    for label, q_one, q_province in QUERIES:
        row = {"label": label}
        for prepared in (True, False):
            params_one, params_province = [], []
            for _ in range(args.runs):
                n = rnd.randrange(1, args.residents + 1)
                moved_n = max(MOVED_EVERY, n - n % MOVED_EVERY)  # one another county issued
                region = rnd.choice(regions)
                some = [rnd.randrange(1, args.residents + 1) for _ in range(5)]
                new = str(uuid.UUID(int=rnd.getrandbits(128)))
                for out, r, issuer in (
                    # (loaded alone, one county's moved residents' numbers are its own)
                    (params_one, regions[0], regions[0]),
                    (params_province, region, _issuer(regions, region)),
                ):
                    out.append(
                        {
                            "pid": _pid(r, n),
                            "id_region": rowids.region_in(_pid(r, n)),
                            "eid": _eid(r, n),
                            "new": new,
                            "cert": _cert(r, n, issuer),
                            "cert_county": _cert(r, n, issuer)[:6],
                            "cert_moved": _cert(r, moved_n, issuer),
                            "issuer": issuer,
                            "year": 2026,
                            "region": r,
                            "ids": [_pid(r, k) for k in some],
                        }
                    )
            runs = args.runs if "counted" not in label else max(20, args.runs // 50)
            t_one, t_prov = [], []
            for k in range(ROUNDS):  # alternating, so a busy moment of the machine hits both
                part = slice(k * runs // ROUNDS, (k + 1) * runs // ROUNDS)
                t_one += _measure(one, q_one, params_one[part], prepared)
                t_prov += _measure(province, q_province, params_province[part], prepared)
            row[prepared] = (pct(t_one, 50), pct(t_prov, 50), pct(t_one, 95), pct(t_prov, 95))
        results.append(row)
    return results


def _write(args, one_s, province_s, persons, size, keys, elsewhere, results, pushes) -> None:
    elsewhere_s, elsewhere_size = elsewhere
    keys_size, vacuum_s = keys
    lines = [
        "# A province's partitioned tables against one county's table (issue 18)",
        "",
        f"Machine: {machine()}  ",
        f"Date: {dt.datetime.now().astimezone().isoformat(timespec='minutes')}  ",
        "Command: `.venv/bin/python bench/bench_partitions.py"
        + (f" --counties {args.counties}" if args.counties != 100 else "")
        + (f" --residents {args.residents}" if args.residents != 200_000 else "")
        + (f" --results {args.results}" if args.results != "partitions" else "")
        + "`  ",
        "PostgreSQL 15, durable as in production (fsync, synchronous commit, full page writes "
        f"on); shared_buffers {SHARED_BUFFERS}, one cluster for every database.  ",
        f"**One county's table** (the bare baseline: the schema before partitioning, "
        f"migrations up to 0018): {args.residents:,} persons and as many enrollments, loaded "
        f"in {one_s:.0f} s.  ",
        f"**The province**: {args.counties} counties partitioned by region, {persons:,} "
        f"persons and as many enrollments ({size} on disk), loaded in {province_s:.0f} s "
        "(key tables filled in bulk; ids in random index order, as UUIDs are), then its key "
        f"tables vacuumed as autovacuum keeps them (migration 0026): {vacuum_s:.0f} s. Before "
        f"the queries the indexes of the province's key tables ({keys_size}: every county's "
        "traffic reads them — a row's county by id, from the index alone since 0026 — so a "
        "running province server holds them in memory; their tables are read only where a "
        "row is added) and one county's tables are read into shared buffers (pg_prewarm); "
        "the province's partitions stay as the load left them. The residents insured "
        "outside the county "
        f"that issued their number ({100 // MOVED_EVERY}%) are listed in resident_elsewhere "
        f"by migration 0025's statement, as an upgrade fills it: {elsewhere_s:.1f} s; "
        f"{elsewhere_size} with its index, read into shared buffers too (every county's "
        "tax rows read it).",
        "",
        "## The queries the server runs most",
        "",
        f"Each on random residents (of random counties in the province), {args.runs} times "
        "(the county count: 40), through psycopg on the cluster's Unix socket; the statements "
        "each read makes, as the server writes them for that schema (without FOR UPDATE), in "
        f"{ROUNDS} alternating rounds. On the province a row is read with its county named, so "
        "PostgreSQL plans and reads one partition: the county comes from the desk (its own "
        "residents), from a row already read, or from the key table — a lookup folded into "
        "the op's first statement where there is one, else inside the server by the table's "
        "`<table>_row` function (migration 0020: one statement from the server; an update's "
        "target of another county, a row the console names, a certificate). A desk's update "
        "or void looks in the desk's own county first (`db.row_by_id(county=…)`), where its "
        "clerks' residents are; a certificate is looked for in the county of the desk or of "
        "the roster's service point first (an index on the certificate in each partition); "
        "with no county given, a resident ID number is read in the county resident_elsewhere "
        "names, else in the county that issued it (`person_with_resident_id`, migration 0025).",
        "",
        "**Not prepared** is how a province's server runs them: behind PgBouncer in "
        "transaction pooling (`database_pooled`), which in Debian 12 (PgBouncer 1.18) keeps no "
        "prepared statements; the goal is judged on it. **Prepared** (psycopg's default, "
        "server-side after 5 runs: a server without PgBouncer) is shown beside it: there one "
        "county's table skips planning altogether (a cached generic plan), while a statement "
        "on a partitioned table is planned at every run for its county — a generic plan "
        "would lock every county's partition in PostgreSQL 15.",
        "",
        "| query | not prepared: one county p50 / p95 | province p50 / p95 | ÷ (p50) | "
        "goal ≤ 2× | prepared: one county p50 | province p50 | ÷ |",
        "|---|---|---|---|---|---|---|---|",
    ]
    worst = 0.0
    worst_prepared = 0.0
    for row in results:
        o50, p50, o95, p95 = row[False]
        pr_o50, pr_p50, _, _ = row[True]
        worst = max(worst, p50 / o50)
        worst_prepared = max(worst_prepared, pr_p50 / pr_o50)
        lines.append(
            f"| {row['label']} | {o50 * 1e3:.2f} / {o95 * 1e3:.2f} ms | "
            f"{p50 * 1e3:.2f} / {p95 * 1e3:.2f} ms | {p50 / o50:.2f}× | "
            + ("met" if p50 / o50 <= 2 else "**not met**")
            + f" | {pr_o50 * 1e3:.2f} ms | {pr_p50 * 1e3:.2f} ms | {pr_p50 / pr_o50:.2f}× |"
        )
    lines += [
        "",
        f"Worst ratio, not prepared (the goal): {worst:.2f}×; prepared: {worst_prepared:.2f}×.",
        "",
        "## A desk's push through the real server",
        "",
        f"The same server (`township-county serve`, one worker, HTTP on loopback) on a database "
        f"holding one county ({args.residents:,} residents, partitioned: one partition) and on "
        f"the province; a new service point pushes {args.batches} batches of 200 ops (a "
        "household; then person, enrollment and payment per resident), on the fast path and "
        "op by op.",
        "",
        "| path | one county | province | province ÷ one county | goal ≥ 0.5 |",
        "|---|---|---|---|---|",
    ]
    for fast in (True, False):
        c_ops, p_ops = pushes[(fast, "county")], pushes[(fast, "province")]
        lines.append(
            f"| {'fast path' if fast else 'op by op'} | {c_ops:,.0f} ops/s | {p_ops:,.0f} ops/s"
            f" | {p_ops / c_ops:.2f} | " + ("met" if p_ops / c_ops >= 0.5 else "**not met**") + " |"
        )
    out = RESULTS.with_name(f"{args.results}.md")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(out.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
