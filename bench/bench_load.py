"""Load: N simulated desks syncing at once against the real county server (issue 18), on
loopback only, bounded in time and count. The server runs as `township-county serve` on a
private PostgreSQL cluster with durability as in production (fsync, synchronous commit).

Each desk is its own service point with its own device, token and connection. For
``--seconds`` it syncs again and again, as the last weeks of a campaign look from the
county: each sync pushes what the desk recorded since (0–3 new residents, each a person, an
enrollment and a payment; a household first) and then pulls until nothing is left; about
one sync in ten has nothing to push (a sync with nothing to do). A desk's first sync is a
first sync (the snapshot, page by page, then pulls from its cursor), as on a desk just
registered, and so are 2% of the later ones (``--first-syncs``: a PC replaced or set up
again); registrations come before the clock (one per desk). Measured per sync (push and
pull, as a clerk waits for it): p50 / p90 / p99 / max; ops/s ingested; errors (any
non-200); the server's and PostgreSQL's CPU seconds per op (from /proc). The generator
shares the machine, so it is kept light: aiohttp on uvloop (about 1.4 ms of CPU per sync;
httpx on asyncio, as the desk's transport, cost about 4 ms).

Flat out (the default) each desk syncs again as soon as its sync ended (0.05–0.3 s later):
the machine's capacity, and what queueing does to a sync when demand exceeds it. Paced
(``--every 6``) each desk starts a sync about every 6 s: 200 desks then ask what 20,000
desks syncing every ten minutes ask of a province's server (33 syncs a second).

    .venv/bin/python bench/bench_load.py --desks 200 --seconds 30 [--every 6]
        [--workers 2 [--reuse-port] --pgbouncer]
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import datetime as dt
import gzip
import json
import os
import random
import sys
import time
import uuid
from pathlib import Path

import aiohttp
import psycopg
import uvloop

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine  # noqa: E402

from core import syncproto as sp  # noqa: E402
from county import admin, sealing  # noqa: E402
from county.testing import (  # noqa: E402
    PgBouncer,
    ServerProcess,
    fresh_database,
    start_cluster,
    start_instances,
    tcp_sockets,
)

KEY = "bench-signing-key-0123456789abcdef0123456789"


def start_servers(stack, url: str, env: dict, workers: int, reuse_port: bool) -> list:
    """One `serve --workers N`, or N `serve --reuse-port` on one port, started in turn."""
    if not reuse_port:
        return [stack.enter_context(ServerProcess(url, KEY, workers=workers, env=env))]
    servers = start_instances(url, KEY, workers, env=env)
    for s in servers:
        stack.callback(s.stop)
    return servers


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))] if s else 0.0


class Desk:
    def __init__(self, k: int, code: str, sp_code: str):
        self.k, self.code, self.sp_code = k, code, sp_code
        self.seq = 0
        self.resident = 0
        self.cursor = sp.empty_cursor()
        self.token = ""
        self.household = ""

    def ops(self, residents: int) -> list[dict]:
        out: list[dict] = []

        def op(t: str, eid: str, payload: dict) -> None:
            if t.endswith((".create", ".record")):
                payload = {**payload, "id": eid}
            self.seq += 1
            out.append({"op_id": str(uuid.uuid4()), "device_seq": self.seq, "op_type": t,
                        "entity_id": eid, "base_version": None, "payload": payload,
                        "payload_sha256": sp.payload_sha256(payload)})  # fmt: skip

        if not self.household or random.random() < 0.3:
            self.household = str(uuid.uuid4())
            op("household.create", self.household, {"address": "东村", "hukou_type": "rural"})
        for _ in range(residents):
            self.resident += 1
            n = self.k * 1_000_000 + self.resident
            pid, eid = str(uuid.uuid4()), str(uuid.uuid4())
            op("person.create", pid, {
                "name": "张三", "cert_type": "resident_id", "cert_no": f"14012119{n:010d}",
                "sex": "male", "birth_date": "1980-01-01", "household_id": self.household,
                "relation": "head", "insured_category": "ordinary", "region_code": "140121"})  # fmt: skip
            op("enrollment.create", eid,
               {"person_id": pid, "year": 2025, "insured_category": "ordinary"})  # fmt: skip
            op("payment.record", str(uuid.uuid4()), {
                "enrollment_id": eid, "amount": "400.00", "channel": "cash",
                "receipt_no": f"{self.sp_code}-2025-{self.resident:06d}"})  # fmt: skip
        return out


class Reply:
    """What a desk reads of an answer: its status and, for 200, its document."""

    def __init__(self, status: int, body: bytes):
        self.status_code, self.body = status, body

    def json(self) -> dict:
        return json.loads(self.body)


async def post(
    session: aiohttp.ClientSession, path: str, body: dict, token: str, stats: dict
) -> Reply:
    content = gzip.compress(json.dumps(body).encode())
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Encoding": "gzip",
        "Content-Type": "application/json",
    }

    async def send() -> Reply:
        async with session.post(path, data=content, headers=headers) as r:
            return Reply(r.status, await r.read())

    try:
        return await send()
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
        # the server closes a connection idle past its keep-alive (5 s): sent again on a
        # new one, as the desk's transport does; counted
        stats["reconnects"] += 1
        return await send()


def client(url: str) -> aiohttp.ClientSession:
    """One desk's connection (kept between syncs, as the desk's transport keeps it)."""
    return aiohttp.ClientSession(
        base_url=url,
        connector=aiohttp.TCPConnector(limit=1),
        headers={sp.PROTOCOL_HEADER: str(sp.PROTOCOL_VERSION)},
        timeout=aiohttp.ClientTimeout(total=120),
    )


async def register(desk: Desk, c: aiohttp.ClientSession) -> None:
    async with c.post(sp.EP_REGISTER, json={"code": desk.code}) as r:
        cred = (await r.json())["credential"]
    async with c.post(sp.EP_TOKEN, json={"credential": cred, "operator_id": "bench"}) as r:
        desk.token = (await r.json())["token"]


async def first_sync(desk: Desk, c: aiohttp.ClientSession, stats: dict) -> Reply:
    """The snapshot, page by page as the desk reads it; then pulls go on from its cursor."""
    token = None
    while True:
        r = await post(c, sp.EP_SNAPSHOT, {"page_token": token, "limit": sp.DEFAULT_SNAPSHOT_LIMIT},
                       desk.token, stats)  # fmt: skip
        if r.status_code != 200:
            return r
        doc = r.json()
        if doc["done"]:
            desk.cursor = {**sp.empty_cursor(), **doc["cursor"]}
            return r
        token = doc["next_page_token"]


async def run_desk(
    desk: Desk, c: aiohttp.ClientSession, until: float, stats: dict, every: float, again: float
):
    """Sync again and again until ``until`` (registered before the clock started). The first
    sync is a first sync (the snapshot), as on a desk just registered; after that a share
    ``again`` of syncs are first syncs too (a PC replaced or set up again: nothing to push)."""
    # desks do not all start in one instant: their timers are spread
    await asyncio.sleep(random.uniform(0, every or 2))
    first = True
    while time.monotonic() < until:
        started = time.monotonic()
        fresh, first = first or random.random() < again, False
        residents = 0 if fresh or random.random() < 0.1 else random.randint(1, 3)
        ops = desk.ops(residents) if residents else []
        t = time.perf_counter()
        ok = True
        if fresh:
            r = await first_sync(desk, c, stats)
            ok = r.status_code == 200
        if ops:
            r = await post(c, sp.EP_PUSH, {"batch_id": str(uuid.uuid4()), "ops": ops},
                           desk.token, stats)  # fmt: skip
            ok = r.status_code == 200
            if ok:
                stats["ops"] += len(ops)
        while ok:
            r = await post(c, sp.EP_PULL, {"cursor": desk.cursor, "limit": 500}, desk.token, stats)
            ok = r.status_code == 200
            if not ok:
                break
            doc = r.json()
            desk.cursor = {**desk.cursor, **doc["next_cursor"]}
            if not doc["has_more"]:
                break
        if ok:
            took = time.perf_counter() - t
            stats["syncs"].append(took)
            if fresh:
                stats["first"].append(took)
        else:
            stats["errors"].append(r.status_code)
        if every:  # paced: the next sync starts about `every` seconds after this one did
            pause = random.uniform(0.5, 1.5) * every - (time.monotonic() - started)
            await asyncio.sleep(max(0.0, min(pause, until - time.monotonic())))
        else:  # flat out: the clerk's next payment at once
            await asyncio.sleep(random.uniform(0.05, 0.3))


def cpu_seconds(pids: list[int]) -> float:
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
        except (OSError, IndexError, ValueError):
            pass
    return total / tick


def pids_named(name: str) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if (d / "comm").read_text().strip() == name:
                    out.append(int(d.name))
            except OSError:
                pass
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--desks", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument(
        "--every",
        type=float,
        default=0.0,
        help="paced: each desk syncs about every N seconds (0: again at once, flat out)",
    )
    ap.add_argument(
        "--first-syncs",
        type=float,
        default=0.02,
        help="share of syncs after a desk's first that are first syncs again (snapshot)",
    )
    ap.add_argument("--workers", type=int, default=1, help="server worker processes")
    ap.add_argument(
        "--reuse-port",
        action="store_true",
        help="the workers as that many `serve --reuse-port` servers on one port "
        "(a socket each) instead of one `serve --workers N` (one shared socket)",
    )
    ap.add_argument(
        "--pgbouncer", action="store_true", help="through PgBouncer (transaction pooling)"
    )
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "load.md"))
    args = ap.parse_args()
    cluster = start_cluster(durable=True)
    atexit.register(cluster.stop)
    sealing.configure(KEY)
    db = fresh_database(cluster)
    desks = []
    with psycopg.connect(db) as conn, conn.transaction():
        conn.row_factory = psycopg.rows.dict_row
        for k in range(args.desks):
            code = f"SP{k + 1:04d}"
            admin.create_service_point(conn, code, f"第{k + 1}卫生院", "140121")
            desks.append(Desk(k, admin.issue_device_code(conn, code)["code"], code))
    # every desk registers from 127.0.0.1 here: lift the per-address registration limit
    # (10 per 10 minutes in production) for this run only
    settings = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-load-{os.getpid()}.toml"
    settings.write_text("register_tries = 100000\n", encoding="utf-8")
    os.environ["TOWNSHIP_COUNTY_SETTINGS"] = str(settings)
    env, url = {}, db
    if args.pgbouncer:
        bouncer = PgBouncer(cluster)
        atexit.register(bouncer.close)
        url = bouncer.url(db)
        env = {"TOWNSHIP_COUNTY_DATABASE_POOLED": "true", "TOWNSHIP_COUNTY_DATABASE_DIRECT_URL": db}
    with contextlib.ExitStack() as stack:
        servers = start_servers(stack, url, env, args.workers, args.reuse_port)
        port = servers[0].port
        # the processes that serve (the supervisor of `--workers N` only watches them)
        serving = [p for s in servers for p in (s.worker_pids() or [s.proc.pid])]
        server_pids = sorted({s.proc.pid for s in servers} | set(serving))
        stats: dict = {"ops": 0, "syncs": [], "first": [], "errors": [], "reconnects": 0}
        clock: dict = {}

        async def connections_midway() -> None:
            await asyncio.sleep(args.seconds / 2)
            stats["split"] = sorted(tcp_sockets(p, port) for p in serving)

        async def all_desks() -> None:
            clients = [client(servers[0].url) for _ in desks]
            await asyncio.gather(*(register(d, c) for d, c in zip(desks, clients, strict=True)))
            # the clock starts once every desk is registered
            clock["t0"], until = time.perf_counter(), time.monotonic() + args.seconds
            clock["cpu"] = (
                cpu_seconds(server_pids),
                cpu_seconds(pids_named("postgres")),
                cpu_seconds(pids_named("pgbouncer")),
                time.process_time(),
            )
            await asyncio.gather(
                connections_midway(),
                *(
                    run_desk(d, c, until, stats, args.every, args.first_syncs)
                    for d, c in zip(desks, clients, strict=True)
                ),
            )
            for c in clients:
                await c.close()

        uvloop.run(all_desks())  # the server's event loop too
        t0 = clock["t0"]
        srv_before, pg_before, bouncer_before, gen_before = clock["cpu"]
        wall = time.perf_counter() - t0
        srv_cpu = cpu_seconds(server_pids) - srv_before
        pg_cpu = cpu_seconds(pids_named("postgres")) - pg_before
        gen_cpu = time.process_time() - gen_before
        bouncer_cpu = cpu_seconds(pids_named("pgbouncer")) - bouncer_before
    with psycopg.connect(db) as conn:
        stored = conn.execute("SELECT count(*) FROM applied_op").fetchone()[0]
    syncs, first, ops = stats["syncs"], stats["first"], stats["ops"]
    lines = [
        "# Load: many desks syncing at once (issue 18)",
        "",
        f"Machine: {machine()} — generator, server and PostgreSQL on the same 2 cores  ",
        f"Date: {dt.datetime.now().astimezone().isoformat(timespec='minutes')}  ",
        f"Command: `.venv/bin/python bench/bench_load.py --desks {args.desks} "
        f"--seconds {args.seconds:g} --every {args.every:g} --first-syncs {args.first_syncs:g} "
        f"--workers {args.workers}{' --reuse-port' if args.reuse_port else ''}"
        f"{' --pgbouncer' if args.pgbouncer else ''}`  ",
        "Server: "
        + (
            f"{args.workers} × `township-county serve --reuse-port` on one port (uvicorn, "
            "a listening socket each)"
            if args.reuse_port
            else f"`township-county serve --workers {args.workers}` (uvicorn, one shared "
            "listening socket)"
        )
        + f"{', through PgBouncer (transaction pooling)' if args.pgbouncer else ''}, "
        "PostgreSQL 15 durable as in production (fsync, synchronous commit, full page "
        "writes on), loopback.",
        "",
        "| what | result |",
        "|---|---|",
        f"| desks syncing at once (each its own service point) | {args.desks}, "
        + (f"each about every {args.every:g} s |" if args.every else "each again at once |"),
        f"| syncs completed in {wall:.0f} s | {len(syncs)} ({len(syncs) / wall:.1f}/s) |",
        f"| ops ingested | {ops} ({ops / wall:.0f} ops/s); applied once on the server: {stored} |",
        f"| per sync (push + pull until nothing is left): p50 / p90 / p99 / max | "
        f"{pct(syncs, 50) * 1000:.0f} / {pct(syncs, 90) * 1000:.0f} / "
        f"{pct(syncs, 99) * 1000:.0f} / "
        f"{max(syncs or [0]) * 1000:.0f} ms |",
        f"| of which first syncs (snapshot, then pull: each desk's first, then "
        f"{args.first_syncs:.0%} of syncs): count, p50 / p99 | {len(first)}, "
        f"{pct(first, 50) * 1000:.0f} / {pct(first, 99) * 1000:.0f} ms |",
        f"| errors | {len(stats['errors'])} {sorted(set(stats['errors'])) or ''} |",
        f"| desks' connections per worker, halfway | {' / '.join(map(str, stats['split']))} |",
        f"| requests sent again (the server had closed the idle connection) | "
        f"{stats['reconnects']} |",
        f"| CPU per op: server / PostgreSQL | {srv_cpu / max(ops, 1) * 1000:.2f} / "
        f"{pg_cpu / max(ops, 1) * 1000:.2f} ms |",
        f"| CPU per sync: server / PostgreSQL | {srv_cpu / max(len(syncs), 1) * 1000:.1f} / "
        f"{pg_cpu / max(len(syncs), 1) * 1000:.1f} ms |",
        f"| CPU of the whole run: server / PostgreSQL / PgBouncer / load generator | "
        f"{srv_cpu:.1f} / {pg_cpu:.1f} / {bouncer_cpu:.1f} / {gen_cpu:.1f} s "
        f"of {wall:.0f} s × 2 cores |",
    ]
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
