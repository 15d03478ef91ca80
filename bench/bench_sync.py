"""Sync benchmarks (desktop side), against the real county server on a real PostgreSQL:

* a sync with nothing to do: round trips and time;
* the first sync of a service point with 50,000 residents: time, bytes on the wire,
  round trips, and the time the same bytes take at 256 kbit/s;
* desktop apply of pulled rows (rows/s);
* bytes on the wire per pushed operation (gzip JSON).

Run: .venv/bin/python bench/bench_sync.py [--residents 50000] [--write]
(--write puts the table into bench/results/sync.md)."""

from __future__ import annotations

import argparse
import atexit
import datetime as dt
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import keyring  # noqa: E402
import keyring.backend  # noqa: E402

SIGNING_KEY = "bench-signing-key-0123456789abcdef0123456789"
LINK_BPS = 256_000  # 256 kbit/s


class MemoryKeyring(keyring.backend.KeyringBackend):
    """The bench runs headless: secrets in memory (the product uses the OS keyring)."""

    priority = 1

    def __init__(self):
        super().__init__()
        self.items = {}

    def get_password(self, service, username):
        return self.items.get((service, username))

    def set_password(self, service, username, password):
        self.items[(service, username)] = password

    def delete_password(self, service, username):
        self.items.pop((service, username), None)


def make_desk(root: Path, name: str, url: str, code: str):
    from desktop.services import sync as svc
    from desktop.services.setup import ServicePointInput, run_setup
    from desktop.store import open_store

    d = root / name
    d.mkdir()
    store = open_store(d)
    actor = run_setup(
        store,
        ServicePointInput(
            name="示范乡卫生院", region_code="140121", code="SP01", villages=["东村"]
        ),
        admin_username="admin",
        admin_name="王主管",
        admin_password="admin123",
    )
    svc.register_device(store, d, url, code, actor=actor)
    return store, actor, d


def roster_rows(n: int) -> list[dict]:
    from desktop.services.demo import make_id

    surnames = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"
    given = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰"
    rows = []
    start = dt.date(1935, 1, 1)
    for i in range(n):
        birth = start + dt.timedelta(days=i // 100)
        sex = "male" if i % 2 else "female"
        rows.append(
            {
                "身份证号": make_id("140121", birth.isoformat(), i % 100, sex),
                "姓名": surnames[i % len(surnames)]
                + given[(i // 7) % len(given)]
                + given[(i // 11) % len(given)],
                "服务点编码": "SP01",
                "参保人员类别": "ordinary",
                "地址": f"东村{i // 40 + 1}组{i % 40 + 1}号",
            }
        )
    return rows


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--residents", type=int, default=50_000)
    ap.add_argument("--noop-runs", type=int, default=30)
    ap.add_argument("--push-ops", type=int, default=1000)
    ap.add_argument("--write", action="store_true")
    ap.add_argument(
        "--no-durable",
        dest="durable",
        action="store_false",
        help="PostgreSQL without fsync (as the tests run); default: durable, as in production",
    )
    args = ap.parse_args()

    import psycopg
    from psycopg.rows import dict_row

    from core import syncproto as sp
    from county import admin, sealing
    from county.testing import ServerProcess, fresh_database, start_cluster
    from desktop.services import registration
    from desktop.services import sync as svc
    from desktop.store import open_store
    from desktop.store import syncstate as st
    from desktop.sync.apply import apply_page
    from desktop.sync.engine import SyncEngine
    from desktop.sync.hooks import SyncHooks

    keyring.set_keyring(MemoryKeyring())
    results: list[tuple[str, str, str]] = []
    sealing.configure(SIGNING_KEY)  # receipt keys are sealed as the server seals them (issue 14)
    cluster = start_cluster(durable=args.durable)
    atexit.register(cluster.stop)
    dsn = fresh_database(cluster)
    with psycopg.connect(dsn, row_factory=dict_row) as c, c.transaction():
        admin.create_service_point(c, "SP01", "示范乡卫生院", "140121")

    def code() -> str:
        with psycopg.connect(dsn, row_factory=dict_row) as c, c.transaction():
            return admin.issue_device_code(c, "SP01", 72)["code"]

    server = ServerProcess(dsn, SIGNING_KEY).start()
    tmp = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    try:
        # ---------------------------------------------------------------- no-op sync
        store, actor, d = make_desk(tmp, "noop", server.url, code())
        svc.run_sync(store, d, actor)  # first sync (empty snapshot)
        svc.run_sync(store, d, actor)
        times, trips = [], []
        for _ in range(args.noop_runs):
            t0 = time.perf_counter()
            s = svc.run_sync(store, d, actor)
            times.append(time.perf_counter() - t0)
            trips.append(s.round_trips)
        results.append(
            (
                "no-op sync: round trips",
                f"{statistics.median(trips):.0f} (max {max(trips)})",
                "target 1",
            )
        )
        results.append(
            (
                "no-op sync: time (median / p95)",
                f"{statistics.median(times) * 1000:.1f} ms / "
                f"{sorted(times)[int(len(times) * 0.95) - 1] * 1000:.1f} ms",
                "local network",
            )
        )

        # ---------------------------------------------------------------- push bytes/op
        village = store.query_one("SELECT id FROM village")["id"]
        from desktop.services.demo import make_id

        n_households = args.push_ops // 2
        for i in range(n_households):
            birth = (dt.date(2000, 1, 1) + dt.timedelta(days=i)).isoformat()
            registration.create_household(
                store,
                actor,
                {"village_id": village, "address": f"东村{i}号"},
                [
                    {
                        "name": "张小" + "伟芳娜敏静丽强磊军洋"[i % 10],
                        "sex": "male",
                        "birth_date": birth,
                        "cert_no": make_id("140121", birth, 1, "male"),
                    }
                ],
            )
        ops = st.pending_count(store)
        e = SyncEngine(store, d, operator_id=actor.operator_id, hooks=svc.HOOKS)
        e.sync()  # push + pull back
        tr = e.transport.stats
        e.close()
        # the push requests only: measure again with a fresh engine on a second batch
        results.append(("push: ops in one sync", f"{ops}", f"{tr.round_trips} round trips"))
        pushed_bytes = _push_bytes(store, d, actor, village, n_households)
        results.append(
            (
                "push: bytes on the wire per op (gzip JSON request body)",
                f"{pushed_bytes:.0f} B",
                "target ≤ 120 B",
            )
        )
        store.close()

        # ---------------------------------------------------------------- first sync 50k
        t0 = time.perf_counter()
        rows = roster_rows(args.residents)
        # chunks of 1,000 rows, one transaction each (as the county CLI does per file part):
        # tens of thousands of savepoints in ONE transaction overflow PostgreSQL's
        # subtransaction cache and slow every later statement
        with psycopg.connect(dsn, row_factory=dict_row) as c:
            for i in range(0, len(rows), 1000):
                with c.transaction():
                    rep = admin.import_roster(c, rows[i : i + 1000])
                assert not rep.errors, rep.errors[:3]
        imported = time.perf_counter() - t0
        results.append(
            (
                f"county roster import ({args.residents:,} residents)",
                f"{imported:.1f} s",
                f"{args.residents / imported:,.0f} rows/s (server side, for context)",
            )
        )
        store2, actor2, d2 = make_desk(tmp, "first", server.url, code())
        e = SyncEngine(store2, d2, operator_id=actor2.operator_id, hooks=svc.HOOKS)
        t0 = time.perf_counter()
        s = e.sync(trigger="bench")
        first = time.perf_counter() - t0
        e.close()
        persons = store2.query_one("SELECT COUNT(*) AS n FROM person")["n"]
        wire = s.bytes_sent + s.bytes_received
        at_link = wire * 8 / LINK_BPS
        results.append(
            (
                f"first sync, {args.residents:,} residents: time on this machine",
                f"{first:.1f} s",
                f"{s.received:,} changes, {persons:,} persons stored, {s.round_trips} round trips",
            )
        )
        results.append(
            (
                "first sync: bytes on the wire (gzip)",
                f"{wire / 1e6:.2f} MB",
                f"{wire / max(1, s.received):.0f} B per row",
            )
        )
        results.append(
            (
                "first sync at 256 kbit/s (transfer time of those bytes + measured processing)",
                f"{at_link + first:.0f} s",
                "target ≤ 120 s",
            )
        )
        results.append(
            (
                "desktop apply during first sync",
                f"{s.received / first:,.0f} rows/s",
                "includes network and server time",
            )
        )
        noop50 = []
        for _ in range(5):
            t0 = time.perf_counter()
            s = svc.run_sync(store2, d2, actor2)
            noop50.append((time.perf_counter() - t0, s.round_trips))
        results.append(
            (
                f"no-op sync holding {args.residents:,} residents: round trips / time (median)",
                f"{max(r for _, r in noop50)} / "
                f"{statistics.median(t for t, _ in noop50) * 1000:.1f} ms",
                "target 1 round trip",
            )
        )
        store2.close()

        # ---------------------------------------------------------------- apply rows/s
        store3 = open_store(tmp / "apply")
        with store3.write() as db:
            db.conn.execute(
                "INSERT INTO service_point(id, code, name, region_code, created_at)"
                " VALUES ('sp', 'SP01', '示范乡卫生院', '140121', '2025-01-01')"
            )
        changes = [
            sp.Change(
                i + 1,
                sp.STREAM_SERVICE_POINT,
                sp.E_PERSON,
                f"p{i}",
                "upsert",
                1,
                {
                    "id": f"p{i}",
                    "name": r["姓名"],
                    "cert_type": "resident_id",
                    "cert_no": r["身份证号"],
                    "sex": "male",
                    "birth_date": "1970-01-01",
                    "region_code": "140121",
                    "status": 1,
                },
            )
            for i, r in enumerate(rows[:20000])
        ]
        counts = SimpleNamespace(applied=0)
        t0 = time.perf_counter()
        for i in range(0, len(changes), 2000):
            with store3.write() as db:  # as a pull applies a page (desktop.sync.apply)
                apply_page(store3, db, changes[i : i + 2000], counts, SyncHooks())
                st.save_cursors(db, {"service_point": i + 2000})
        apply_s = time.perf_counter() - t0
        assert counts.applied == len(changes)
        results.append(
            (
                "desktop apply of pulled rows (persons, pages of 2,000, one transaction each, as a pull applies them)",
                f"{len(changes) / apply_s:,.0f} rows/s",
                "target ≥ 5,000",
            )
        )
        store3.close()
    finally:
        server.stop()

    table = ["| what | result | note |", "|---|---|---|"]
    table += [f"| {a} | {b} | {c} |" for a, b, c in results]
    machine = (
        f"{platform.machine()}, {platform.processor() or 'cpu'}, Python {platform.python_version()}"
    )
    try:
        import os

        machine += f", {os.cpu_count()} cores"
    except Exception:
        pass
    text = "\n".join(table)
    print(text)
    if args.write:
        out = ROOT / "bench" / "results" / "sync.md"
        out.write_text(
            "# Sync benchmarks (desktop side)\n\n"
            f"Machine: {machine}. Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC.\n"
            "County server: `township-county serve` (uvicorn) on 127.0.0.1 with PostgreSQL 15 "
            + (
                "(private cluster, durable as in production: fsync, synchronous commit, "
                "full page writes on)"
                if args.durable
                else "(private cluster, fsync off: `--no-durable`)"
            )
            + "; desktop store on local disk (WAL, synchronous=FULL). "
            "Command: `.venv/bin/python bench/bench_sync.py --write`.\n\n" + text + "\n",
            encoding="utf-8",
        )
        print(f"written to {out}")
    print(json.dumps({"residents": args.residents}))
    return 0


def _push_bytes(store, d, actor, village, offset: int) -> float:
    """Bytes of the gzip push request bodies per op, for a batch of fresh registrations."""
    from desktop.services import registration
    from desktop.services import sync as svc
    from desktop.services.demo import make_id
    from desktop.store import syncstate as st
    from desktop.sync import engine as eng

    for i in range(offset, offset + 250):
        birth = (dt.date(2000, 1, 1) + dt.timedelta(days=i)).isoformat()
        registration.create_household(
            store,
            actor,
            {"village_id": village, "address": f"西村{i}号"},
            [
                {
                    "name": "李小" + "伟芳娜敏静丽强磊军洋"[i % 10],
                    "sex": "female",
                    "birth_date": birth,
                    "cert_no": make_id("140121", birth, 2, "female"),
                }
            ],
        )
    ops = st.pending_count(store)
    e = eng.SyncEngine(store, d, operator_id=actor.operator_id, hooks=svc.HOOKS)
    sent: list[int] = []
    orig = e._call

    def counting(dev, path, body):
        before = e.transport.stats.bytes_sent
        try:
            return orig(dev, path, body)
        finally:
            if path == eng.sp.EP_PUSH:
                sent.append(e.transport.stats.bytes_sent - before)

    e._call = counting
    e.sync()
    e.close()
    return sum(sent) / ops


if __name__ == "__main__":
    sys.exit(main())
