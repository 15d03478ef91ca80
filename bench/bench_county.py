"""County server benchmarks on a private PostgreSQL 15 (started here, as in the tests):

- ingest ops/s with dedupe through the real HTTP server (uvicorn, gzip JSON), p50/p99 per
  200-op batch; the same batches resent (all replays);
- a bare PostgreSQL insert of the same rows (executemany in one transaction per batch);
- bytes per op on the wire (gzip JSON request);
- a no-op pull (round trips, time).

Run: .venv/bin/python bench/bench_county.py [--batches 25] [--no-durable]
(PostgreSQL runs with fsync and synchronous commit on, as in production, unless --no-durable.)
"""

from __future__ import annotations

import argparse
import atexit
import gzip
import json
import platform
import statistics
import time
import uuid

import httpx
import psycopg

from core import syncproto as sp
from county import admin, sealing
from county.testing import ServerProcess, fresh_database, start_cluster

ARGS: argparse.Namespace
KEY = "bench-signing-key-0123456789abcdef0123456789"


def cert(i: int) -> str:
    """A distinct 18-character certificate number per i (the server keys on it)."""
    return f"1401211980{i:08d}"


def make_ops(start: int, n: int, seq0: int) -> list[dict]:
    """Realistic mix: a household, then person + enrollment + payment per resident."""
    ops: list[dict] = []
    i = start
    hid = str(uuid.uuid4())

    def op(t, eid, payload):
        payload = {**payload, "id": eid} if t.endswith((".create", ".record")) else payload
        ops.append(
            {
                "op_id": str(uuid.uuid4()),
                "device_seq": seq0 + len(ops),
                "op_type": t,
                "entity_id": eid,
                "base_version": None,
                "payload": payload,
                "payload_sha256": sp.payload_sha256(payload),
            }
        )

    op("household.create", hid, {"address": "东村", "hukou_type": "rural"})
    while len(ops) < n:
        pid, eid = str(uuid.uuid4()), str(uuid.uuid4())
        c = cert(i)
        op(
            "person.create",
            pid,
            {
                "name": "张三",
                "cert_type": "resident_id",
                "cert_no": c,
                "sex": "male",
                "birth_date": "1980-01-01",
                "household_id": hid,
                "relation": "head",
                "insured_category": "ordinary",
                "region_code": "140121",
            },
        )
        op(
            "enrollment.create",
            eid,
            {"person_id": pid, "year": 2025, "insured_category": "ordinary"},
        )
        op(
            "payment.record",
            str(uuid.uuid4()),
            {
                "enrollment_id": eid,
                "amount": "400.00",
                "receipt_no": f"SP01-2025-{i:06d}",
                "channel": "cash",
            },
        )
        i += 1
    return ops[:n]


def device_token(c: httpx.Client, code: str) -> str:
    """Register a desk with a one-time code and take its token (as a desk does)."""
    reg = c.post(sp.EP_REGISTER, json={"code": code}).json()
    return c.post(
        sp.EP_TOKEN, json={"credential": reg["credential"], "operator_id": "bench"}
    ).json()["token"]


def push_headers(tok: str) -> dict:
    """A push's headers: the token, and the body as gzip JSON."""
    return {
        "Authorization": f"Bearer {tok}",
        "Content-Type": "application/json",
        "Content-Encoding": "gzip",
    }


def ingest_slow_path(url: str, args) -> tuple[float, float]:
    """The same kind of batches through a server with the fast path off."""
    import os

    with psycopg.connect(url) as conn, conn.transaction():
        from psycopg.rows import dict_row

        conn.row_factory = dict_row
        admin.create_service_point(conn, "SP09", "慢路径乡", "140121")
        code = admin.issue_device_code(conn, "SP09")["code"]
    batches = [
        make_ops(900_000 + k * 1000, args.batch_size, k * args.batch_size + 1)
        for k in range(max(5, args.batches // 3))
    ]
    os.environ["TOWNSHIP_COUNTY_FASTPATH"] = "0"
    try:
        with (
            ServerProcess(url, KEY) as server,
            httpx.Client(base_url=server.url, headers={sp.PROTOCOL_HEADER: "1"}, timeout=60) as c,
        ):
            tok = device_token(c, code)
            auth = push_headers(tok)
            times = []
            for b in batches:
                body = gzip.compress(json.dumps({"batch_id": str(uuid.uuid4()), "ops": b}).encode())
                t = time.perf_counter()
                r = c.post(sp.EP_PUSH, content=body, headers=auth)
                times.append(time.perf_counter() - t)
                assert all(x["status"] == "applied" for x in r.json()["results"])
    finally:
        del os.environ["TOWNSHIP_COUNTY_FASTPATH"]
    return len(batches) * args.batch_size / sum(times), pct(times, 99)


def first_sync_snapshot(url: str, code2=None, server_url=None) -> dict:
    """50,000 residents of a second service point (households of 4), written straight into
    the county tables, then downloaded by a new device as a gzip snapshot."""
    n = int(ARGS.residents)
    with psycopg.connect(url) as conn, conn.transaction():
        from psycopg.rows import dict_row

        conn.row_factory = dict_row
        sp2 = admin.create_service_point(conn, "SP50", "五万人乡卫生院", "140121")
        code = admin.issue_device_code(conn, "SP50")["code"]
        with conn.cursor() as cur:
            hh_rows, p_rows, l_rows = [], [], []
            for i in range(n):
                if i % 4 == 0:
                    hid = str(uuid.uuid4())
                    hh = {
                        "id": hid,
                        "household_no": f"H{i // 4:06d}",
                        "village_name": "东村",
                        "address": f"东村{i // 4}号",
                        "hukou_type": "rural",
                        "home_service_point_id": sp2["id"],
                    }
                    hh_rows.append((hid, sp2["id"], json.dumps(hh, ensure_ascii=False)))
                pid = str(uuid.uuid4())
                c = f"140121{1940 + i % 80:04d}0101{i:07d}"
                d = {
                    "id": pid,
                    "name": "张三丰",
                    "cert_type": "resident_id",
                    "cert_no": c,
                    "sex": "male",
                    "birth_date": f"{1940 + i % 80}-01-01",
                    "ethnicity": "01",
                    "phone": "",
                    "address": f"东村{i // 4}号",
                    "insured_category": "ordinary",
                    "subsidy_category": "none",
                    "region_code": "140121",
                    "status": 1,
                }
                p_rows.append((pid, c, sp2["id"], json.dumps(d, ensure_ascii=False)))
                l_rows.append((pid, sp2["id"], hid, "head" if i % 4 == 0 else "son"))
            cur.executemany(
                "INSERT INTO household(id, home_sp_id, data, origin) VALUES (%s, %s, %s, 'county')",
                hh_rows,
            )
            cur.executemany(
                "INSERT INTO person(id, cert_type, cert_no, home_sp_id, data, origin, region)"
                " VALUES (%s, 'resident_id', %s, %s, %s, 'county', '140121')",
                p_rows,
            )
            cur.executemany(
                "INSERT INTO person_link(person_id, sp_id, household_id, relation)"
                " VALUES (%s, %s, %s, %s)",
                l_rows,
            )
    with (
        ServerProcess(url, KEY) as server,
        httpx.Client(
            base_url=server.url,
            headers={sp.PROTOCOL_HEADER: "1", "Accept-Encoding": "gzip"},
            timeout=120,
        ) as c,
    ):
        tok = device_token(c, code)
        t = time.perf_counter()
        token, pages, rows, wire = None, 0, 0, 0
        while True:
            r = c.post(
                sp.EP_SNAPSHOT,
                json={"page_token": token, "limit": sp.MAX_SNAPSHOT_LIMIT},
                headers={"Authorization": f"Bearer {tok}"},
            )
            wire += r.num_bytes_downloaded
            body = r.json()
            pages += 1
            rows += len(body["changes"])
            token = body["next_page_token"]
            if body["done"]:
                break
        seconds = time.perf_counter() - t
    return {"residents": n, "seconds": seconds, "pages": pages, "rows": rows, "bytes": wire}


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", type=int, default=25)
    ap.add_argument("--batch-size", type=int, default=200)
    ap.add_argument("--slow", type=int, default=1, help="also measure the op-by-op path")
    ap.add_argument("--residents", type=int, default=50_000, help="first-sync size (0 = skip)")
    ap.add_argument(
        "--no-durable",
        dest="durable",
        action="store_false",
        help="fsync and synchronous commit off (as the tests run); default: as in production",
    )
    args = ap.parse_args()
    global ARGS
    ARGS = args
    cluster = start_cluster(durable=args.durable)
    atexit.register(cluster.stop)
    sealing.configure(KEY)  # keys sealed here as the server (same signing key) unseals them
    url = fresh_database(cluster)
    with psycopg.connect(url) as conn, conn.transaction():
        from psycopg.rows import dict_row

        conn.row_factory = dict_row
        admin.create_service_point(conn, "SP01", "东乡卫生院", "140121")
        code = admin.issue_device_code(conn, "SP01")["code"]
    batches = [
        make_ops(k * 1000, args.batch_size, k * args.batch_size + 1) for k in range(args.batches)
    ]
    slow = ingest_slow_path(url, args) if args.slow else None
    with ServerProcess(url, KEY) as server:
        h = {sp.PROTOCOL_HEADER: "1"}
        with httpx.Client(base_url=server.url, headers=h, timeout=60) as c:
            tok = device_token(c, code)
            auth = push_headers(tok)
            wire_bytes, times, replay_times = 0, [], []
            for b in batches:
                body = gzip.compress(
                    json.dumps(
                        {"batch_id": str(uuid.uuid4()), "ops": b}, ensure_ascii=False
                    ).encode()
                )
                wire_bytes += len(body)
                t = time.perf_counter()
                r = c.post(sp.EP_PUSH, content=body, headers=auth)
                times.append(time.perf_counter() - t)
                assert r.status_code == 200, r.text
                bad = [x for x in r.json()["results"] if x["status"] != "applied"]
                assert not bad, bad[:2]
            for b in batches:  # resend everything: dedupe path
                body = gzip.compress(json.dumps({"batch_id": "again", "ops": b}).encode())
                t = time.perf_counter()
                r = c.post(sp.EP_PUSH, content=body, headers=auth)
                replay_times.append(time.perf_counter() - t)
                assert all(x["replayed"] for x in r.json()["results"])
            cursor = sp.empty_cursor()
            while True:
                page = c.post(
                    sp.EP_PULL,
                    json={"cursor": cursor, "limit": 2000},
                    headers={"Authorization": f"Bearer {tok}"},
                ).json()
                cursor = page["next_cursor"]
                if not page["has_more"]:
                    break
            t = time.perf_counter()
            noop = c.post(
                sp.EP_PULL,
                json={"cursor": cursor},
                headers={"Authorization": f"Bearer {tok}", "Accept-Encoding": "gzip"},
            )
            noop_ms = (time.perf_counter() - t) * 1000
            assert noop.json()["changes"] == []
    snap = first_sync_snapshot(url, code2=None, server_url=None) if args.residents else None
    # bare PostgreSQL: the same rows, one executemany transaction per batch
    bare_times = []
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE bare (id text PRIMARY KEY, kind text, data jsonb)")
        conn.commit()
        for b in batches:
            t = time.perf_counter()
            with conn.transaction(), conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO bare(id, kind, data) VALUES (%s, %s, %s)",
                    [
                        (o["entity_id"], o["op_type"], json.dumps(o["payload"], ensure_ascii=False))
                        for o in b
                    ],
                )
            bare_times.append(time.perf_counter() - t)
    n_ops = args.batches * args.batch_size
    ingest = n_ops / sum(times)
    replay = n_ops / sum(replay_times)
    bare = n_ops / sum(bare_times)
    rows = [
        (
            "server ingest, new ops (HTTP+gzip, dedupe by op_id+hash, set-based fast path)",
            f"{ingest:,.0f} ops/s",
        ),
        (
            "p50 / p99 per 200-op batch",
            f"{statistics.median(times) * 1000:.0f} / {pct(times, 99) * 1000:.0f} ms",
        ),
        (
            "server, same batches resent (all replays)",
            f"{replay:,.0f} ops/s; p99 {pct(replay_times, 99) * 1000:.0f} ms",
        ),
        ("bare PostgreSQL insert of the same rows", f"{bare:,.0f} rows/s"),
        ("ratio server / bare", f"{ingest / bare:.2f}"),
        ("bytes per op on the wire (gzip JSON push)", f"{wire_bytes / n_ops:.0f} B"),
        ("no-op sync (pull with nothing new)", f"1 round trip, {noop_ms:.1f} ms"),
    ]
    if slow:
        rows.insert(
            2,
            (
                "… same, op by op (savepoint per op; used when a batch has conflicts)",
                f"{slow[0]:,.0f} ops/s; p99 {slow[1] * 1000:.0f} ms",
            ),
        )
    if snap:
        rows += [
            (
                f"first sync snapshot of {snap['residents']:,} residents: server time",
                f"{snap['seconds']:.1f} s, {snap['pages']} pages",
            ),
            (
                "… bytes on the wire (gzip JSON)",
                f"{snap['bytes'] / 1e6:.2f} MB ({snap['bytes'] / snap['rows']:.0f} B per row)",
            ),
            ("… transfer time at 256 kbit/s", f"{snap['bytes'] * 8 / 256_000:.0f} s"),
        ]
    print(
        f"county bench: {n_ops} ops in {args.batches} batches; {platform.machine()}, "
        f"{platform.python_version()}"
    )
    for k, v in rows:
        print(f"  {k:<70} {v}")
    import os

    out = [
        f"# County server benchmarks\n\nMachine: {platform.node()} ({os.cpu_count()} cores, "
        f"{platform.machine()}), PostgreSQL 15 private cluster "
        f"({'fsync, synchronous_commit and full_page_writes on, as in production' if args.durable else 'fsync off, as in tests'}), "
        f"Python {platform.python_version()}. Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.\n"
        f"Run: `.venv/bin/python bench/bench_county.py` ({n_ops} ops: household, then person +"
        " enrollment + payment per resident; batches of 200).\n\n| what | result | target |\n|---|---|---|"
    ]
    targets = {
        rows[0][0]: "≥ 2,000 ops/s",
        "p50 / p99 per 200-op batch": "p99 ≤ 300 ms",
        "bytes per op on the wire (gzip JSON push)": "≤ 120 B",
        "no-op sync (pull with nothing new)": "one round trip",
        "… transfer time at 256 kbit/s": "≤ 2 minutes (with the desktop apply)",
    }
    for k, v in rows:
        out.append(f"| {k} | {v} | {targets.get(k, '')} |")
    durability = (
        "\nNote: the cluster runs with PostgreSQL's durability as in production (fsync, "
        "synchronous commit): the bare insert and the server each pay a flush per commit. "
        if args.durable
        else "\nNote: fsync is off in this throwaway cluster (`--no-durable`), so the bare "
        "insert and the server both run without disk flush cost. "
    )
    out.append(
        durability + "The machine is shared with other "
        "sessions' tests and benchmarks, so figures vary by ±50 % between runs. The op-by-op "
        "row is the path a batch takes when any op needs a decision (merge, double "
        "enrollment, update, rejection).\n"
    )
    from pathlib import Path

    Path(__file__).with_name("results").mkdir(exist_ok=True)
    Path(__file__).with_name("results").joinpath("county.md").write_text(
        "\n".join(out), encoding="utf-8"
    )


if __name__ == "__main__":
    main()
