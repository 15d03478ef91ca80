"""The encrypted store beside a plain one, in the same run (issue 14; goal ≤ 1.3×).
Run: .venv/bin/python bench/bench_encryption.py [--quick] [--residents N]

1. Registration commit: the service's ``create_household`` on an encrypted store and on a
   plain store (same schema, pragmas, code), interleaved one registration at a time.
2. Search at 1,000,000 residents: ``search_persons`` on the cached big store (encrypted)
   and on a plain copy of it, the same queries interleaved.
3. First sync: a county (real PostgreSQL + uvicorn) holding a roster; a new desk with an
   encrypted store and one with a plain store each do their first sync, alternately, three
   times; medians.

Writes bench/results/encryption.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_registration as br  # noqa: E402
from _common import machine, plain_store  # noqa: E402

from desktop.services import registration as reg  # noqa: E402
from desktop.services.demo import make_id, seed_demo  # noqa: E402
from desktop.store import cipher, open_store  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "encryption.md"


def bench_commit(n: int) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="bench-enc-"))
    try:
        stores = {"encrypted": open_store(tmp / "enc"), "plain": plain_store(tmp / "plain")}
        actors = {k: seed_demo(s) for k, s in stores.items()}
        villages = {
            k: s.query_one("SELECT id FROM village LIMIT 1")["id"] for k, s in stores.items()
        }
        times: dict[str, list[float]] = {k: [] for k in stores}
        rnd = random.Random(3)
        for i in range(n):
            birth = f"{rnd.randint(1940, 2020)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
            sex = rnd.choice(["male", "female"])
            name = rnd.choice(br.SURNAMES) + rnd.choice(br.GIVEN) + rnd.choice(br.GIVEN)
            order = list(stores) if i % 2 else list(reversed(stores))
            for k in order:
                t = time.perf_counter()
                reg.create_household(
                    stores[k],
                    actors[k],
                    {"village_id": villages[k], "address": f"东村{i}号"},
                    [{"name": name, "cert_no": make_id("140121", birth, i % 100, sex)}],
                    allow_duplicate=True,
                )
                times[k].append(time.perf_counter() - t)
        for s in stores.values():
            s.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {k: (br.pct(v, 50), br.pct(v, 99)) for k, v in times.items()} | {"n": n}


def _plain_twin(folder: Path) -> Path:
    """A plain copy of the cached encrypted big store (made once)."""
    twin = folder.with_name(folder.name + "-plain")
    marker = twin / "complete"
    if marker.exists():
        return twin
    shutil.rmtree(twin, ignore_errors=True)
    twin.mkdir(parents=True)
    conn = cipher.open_file(folder / "desk.sqlite3", read_only=False)
    conn.execute("ATTACH DATABASE ? AS plain KEY ''", (str(twin / "desk.sqlite3"),))
    conn.execute("SELECT sqlcipher_export('plain')")
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    conn.execute(f"PRAGMA plain.user_version = {version}")
    conn.execute("DETACH DATABASE plain")
    conn.close()
    marker.write_text("plain twin\n")
    return twin


def bench_search(residents: int, samples: int) -> dict:
    folder = br.build_big_store(residents, rebuild=False)
    twin = _plain_twin(folder)
    stores = {"encrypted": open_store(folder), "plain": plain_store(twin)}
    enc = stores["encrypted"]
    rows = enc.query(
        "SELECT name, cert_no, name_initials FROM person ORDER BY random() LIMIT ?", (samples,)
    )
    kinds = {
        "ID number (18, exact)": [r["cert_no"] for r in rows],
        "name, 2 characters": [r["name"][:2] for r in rows],
        "pinyin initials": [r["name_initials"][:2] for r in rows],
    }
    out: dict = {"residents": enc.query_one("SELECT COUNT(*) AS n FROM person")["n"]}
    for kind, queries in kinds.items():
        times: dict[str, list[float]] = {k: [] for k in stores}
        for q in queries[:20]:
            for s in stores.values():
                reg.search_persons(s, q)
        for i, q in enumerate(queries):
            for k in list(stores) if i % 2 else list(reversed(stores)):
                t = time.perf_counter()
                reg.search_persons(stores[k], q)
                times[k].append(time.perf_counter() - t)
        out[kind] = {k: (br.pct(v, 50), br.pct(v, 99)) for k, v in times.items()}
    for s in stores.values():
        s.close()
    return out


def bench_first_sync(residents: int, rounds: int) -> dict:
    import keyring
    import psycopg
    from bench_sync import SIGNING_KEY, MemoryKeyring, roster_rows
    from psycopg.rows import dict_row

    from county import admin, sealing
    from county.testing import ServerProcess, fresh_database, shared_cluster
    from desktop.services import sync as svc
    from desktop.services.setup import ServicePointInput, run_setup
    from desktop.sync.engine import SyncEngine

    sealing.configure(SIGNING_KEY)  # the admin calls below seal keys as the server does
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    dsn = fresh_database(shared_cluster())
    with psycopg.connect(dsn, row_factory=dict_row) as c:
        with c.transaction():
            admin.create_service_point(c, "SP01", "示范乡卫生院", "140121")
        rows = roster_rows(residents)
        for i in range(0, len(rows), 1000):
            with c.transaction():
                admin.import_roster(c, rows[i : i + 1000])
    server = ServerProcess(dsn, SIGNING_KEY).start()
    tmp = Path(tempfile.mkdtemp(prefix="bench-enc-sync-"))
    times: dict[str, list[float]] = {"encrypted": [], "plain": []}
    try:
        for r in range(rounds):
            for kind in ("encrypted", "plain") if r % 2 == 0 else ("plain", "encrypted"):
                d = tmp / f"{kind}-{r}"
                store = open_store(d) if kind == "encrypted" else plain_store(d)
                actor = run_setup(
                    store,
                    ServicePointInput(
                        name="示范乡卫生院", region_code="140121", code="SP01", villages=["东村"]
                    ),
                    admin_username="admin",
                    admin_name="王主管",
                    admin_password="admin123",
                )
                with psycopg.connect(dsn, row_factory=dict_row) as c, c.transaction():
                    code = admin.issue_device_code(c, "SP01", 72)["code"]
                svc.register_device(store, d, server.url, code, actor=actor)
                e = SyncEngine(store, d, operator_id=actor.operator_id, hooks=svc.HOOKS)
                t = time.perf_counter()
                e.sync(trigger="bench")
                times[kind].append(time.perf_counter() - t)
                e.close()
                store.close()
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        keyring.set_keyring(previous)
    return {k: statistics.median(v) for k, v in times.items()} | {"residents": residents}


def report(commit: dict, search: dict, sync: dict) -> str:
    def ratio(a: float, b: float) -> str:
        return f"{a / b:.2f}×"

    lines = [
        "# The encrypted store beside a plain one (issue 14)",
        "",
        f"Machine: {machine()}  ",
        f"Date: {dt.datetime.now().astimezone().isoformat(timespec='minutes')}  ",
        "Command: `.venv/bin/python bench/bench_encryption.py`  ",
        "Goal: encrypted ≤ 1.3× plain. SQLCipher 4 (sqlcipher3), a raw 256-bit key (no key",
        "derivation at open), default page settings (4 KiB pages, HMAC-SHA512 per page). The",
        "plain store is the same schema and code on a connection without a key. Both run in",
        "this one process, interleaved, so machine noise hits them alike.",
        "",
        f"## Registration commit ({commit['n']} registrations, one durable transaction each)",
        "",
        "| | p50 | p99 |",
        "|---|---|---|",
    ]
    for k in ("encrypted", "plain"):
        lines.append(f"| {k} | {br.ms(commit[k][0])} | {br.ms(commit[k][1])} |")
    lines.append(
        f"| **ratio** | **{ratio(commit['encrypted'][0], commit['plain'][0])}** |"
        f" **{ratio(commit['encrypted'][1], commit['plain'][1])}** |"
    )
    lines += [
        "",
        f"## Search with {search['residents']:,} residents (warm cache, interleaved queries)",
        "",
        "| query | encrypted p50 / p99 | plain p50 / p99 | ratio p50 / p99 |",
        "|---|---|---|---|",
    ]
    for kind, v in search.items():
        if kind == "residents":
            continue
        (e50, e99), (p50, p99) = v["encrypted"], v["plain"]
        lines.append(
            f"| {kind} | {br.ms(e50)} / {br.ms(e99)} | {br.ms(p50)} / {br.ms(p99)} |"
            f" {ratio(e50, p50)} / {ratio(e99, p99)} |"
        )
    lines += [
        "",
        f"## First sync of a new desk ({sync['residents']:,} residents from the county;"
        " real PostgreSQL and uvicorn on this machine; median of 3 each)",
        "",
        "| | time |",
        "|---|---|",
        f"| encrypted | {sync['encrypted']:.2f} s |",
        f"| plain | {sync['plain']:.2f} s |",
        f"| **ratio** | **{ratio(sync['encrypted'], sync['plain'])}** |",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--residents", type=int, default=None)
    args = ap.parse_args()
    residents = args.residents or (100_000 if args.quick else 1_000_000)
    commit = bench_commit(100 if args.quick else 500)
    print("commit", commit, flush=True)
    search = bench_search(residents, 100 if args.quick else 500)
    print("search", search, flush=True)
    sync = bench_first_sync(5_000 if args.quick else 20_000, 3)
    print("sync", sync, flush=True)
    RESULTS.write_text(report(commit, search, sync), encoding="utf-8")
    print(RESULTS.read_text(encoding="utf-8"))


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    main()
