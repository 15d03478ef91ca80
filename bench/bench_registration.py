"""Registration benchmarks (issue 2). Run: .venv/bin/python bench/bench_registration.py

1. Commit latency per registration (a household with its head, through the service:
   validation, pinyin, rows, audit chain, outbox — one durable transaction) beside a bare
   sqlite3 insert of the same household and person rows with the same durability
   (WAL, synchronous=FULL, same schema and indexes).
2. Search p50/p99 with 1,000,000 residents (bulk-built once, cached under /tmp).
3. Cold start to the first window shown (the main window; and the log-in dialog)
   beside a bare PySide6 window, each in a fresh subprocess.

Options: --quick (fewer samples; 100k residents), --rebuild (rebuild the cached store).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_startup  # noqa: E402
from _common import machine, plain_store  # noqa: E402
from stdnum.cn import ric  # noqa: E402

from core.names import pinyin_full, pinyin_initials  # noqa: E402
from desktop.services import registration as reg  # noqa: E402
from desktop.services.demo import make_id, seed_demo  # noqa: E402
from desktop.store import cipher, open_store  # noqa: E402
from desktop.store.journal import new_id, now_iso  # noqa: E402

CACHE = Path(tempfile.gettempdir()) / "township-bench"
SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = list(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国文斌宇浩凯健俊帆帅旭宁"
    "龙林欣晨阳佳琳雪梅海波峰亮东鑫丹志新立成飞云春燕晶玲婷慧颖倩琴颖"
)
REGIONS = ["140121", "140122", "140123", "140181", "140105", "140106", "140107", "140108"]


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    k = min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))
    return s[k]


def ms(x: float) -> str:
    return f"{x * 1000:.2f} ms"


# ------------------------------------------------------------------ 1. commit latency


def _bare_conn(folder: Path, fixed: dict[str, list[dict]]) -> sqlite3.Connection:
    """A plain sqlite3 connection on a store with the same schema and pragmas (unencrypted:
    the baseline is bare SQLite; bench_encryption.py measures the encryption itself)."""
    plain_store(folder).close()  # schema only
    conn = sqlite3.connect(str(folder / "desk.sqlite3"), isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    for table, trows in fixed.items():  # the villages the households point to
        for r in trows:
            _insert(conn, table, r)
    return conn


def _insert(conn: sqlite3.Connection, table: str, row: dict) -> None:
    cols = list(row)
    conn.execute(
        f"INSERT INTO {table}({','.join(cols)}) VALUES ({','.join('?' * len(cols))})",
        [row[c] for c in cols],
    )


def bench_commit(n: int) -> dict:
    """Service vs two bare baselines, interleaved registration by registration so that
    disk and CPU noise hit all three alike."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-commit-"))
    try:
        store = open_store(tmp / "svc")
        clerk = seed_demo(store)
        village = store.query_one("SELECT id FROM village LIMIT 1")["id"]
        fixed = {t: store.query(f"SELECT * FROM {t}") for t in ("service_point", "village")}
        fixed["operator"] = store.query("SELECT * FROM operator")
        rows_only = _bare_conn(tmp / "bare1", fixed)
        with_journal = _bare_conn(tmp / "bare2", fixed)
        rnd = random.Random(1)
        svc: list[float] = []
        bare: list[float] = []
        bare_all: list[float] = []
        for i in range(n):
            birth = f"{rnd.randint(1940, 2020)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
            sex = rnd.choice(["male", "female"])
            name = rnd.choice(SURNAMES) + rnd.choice(GIVEN) + rnd.choice(GIVEN)
            t = time.perf_counter()
            done = reg.create_household(
                store,
                clerk,
                {"village_id": village, "address": f"东村{i}号"},
                [{"name": name, "cert_no": make_id("140121", birth, i % 100, sex)}],
                allow_duplicate=True,
            )
            svc.append(time.perf_counter() - t)
            hid, pid = done.household_id, done.person_ids[0]
            h = store.query_one("SELECT * FROM household WHERE id = ?", (hid,))
            p = store.query_one("SELECT * FROM person WHERE id = ?", (pid,))
            audit = store.query(
                "SELECT * FROM audit_log WHERE entity_id IN (?, ?) ORDER BY seq", (hid, pid)
            )
            ops = store.query(
                "SELECT * FROM outbox WHERE entity_id IN (?, ?) ORDER BY device_seq", (hid, pid)
            )
            for conn, extra, out in (
                (rows_only, [], bare),
                (
                    with_journal,
                    [("audit_log", a) for a in audit] + [("outbox", o) for o in ops],
                    bare_all,
                ),
            ):
                t = time.perf_counter()
                conn.execute("BEGIN IMMEDIATE")
                _insert(conn, "household", h)
                _insert(conn, "person", p)
                for table, row in extra:
                    _insert(conn, table, row)
                conn.execute("COMMIT")
                out.append(time.perf_counter() - t)
        store.close()
        rows_only.close()
        with_journal.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out = {"n": n}
    for key, values in (("svc", svc), ("bare", bare), ("bare_all", bare_all)):
        out[f"{key}_p50"], out[f"{key}_p99"] = pct(values, 50), pct(values, 99)
    for q in ("p50", "p99"):
        out[f"ratio_{q}"] = out[f"svc_{q}"] / out[f"bare_{q}"]
        out[f"ratio_all_{q}"] = out[f"svc_{q}"] / out[f"bare_all_{q}"]
    return out


# ------------------------------------------------------------------ 2. search at 1M


def build_big_store(residents: int, rebuild: bool) -> Path:
    folder = CACHE / f"registration-{residents}"
    marker = folder / "complete"
    if marker.exists() and not rebuild:
        open_store(folder).close()  # apply any newer migrations
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    store = open_store(folder)
    seed_demo(store)
    villages = [v["id"] for v in store.query("SELECT id FROM village")]
    clerk = store.query_one("SELECT id FROM operator WHERE username = 'clerk1'")["id"]
    store.close()
    conn = cipher.open_file(folder / "desk.sqlite3", read_only=False)  # the store's key
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA foreign_keys=OFF")
    rnd = random.Random(42)
    pinyin_cache: dict[str, tuple[str, str]] = {}
    start = dt.date(1935, 1, 1)
    days = (dt.date(2024, 12, 31) - start).days
    now = now_iso()
    t0 = time.perf_counter()
    conn.execute("BEGIN")
    hh_rows, p_rows = [], []
    i = 0
    while i < residents:
        hid = new_id()
        size = min(rnd.choice([1, 2, 3, 3, 4, 5]), residents - i)
        surname = rnd.choice(SURNAMES)
        head_id = None
        for m in range(size):
            # unique numbers: (region, birth day, sequence) from the counter
            region = REGIONS[i % len(REGIONS)]
            k = i // len(REGIONS)
            birth = start + dt.timedelta(days=k % days)
            seq = (k // days) * 2 + rnd.randint(0, 1)
            body = f"{region}{birth:%Y%m%d}{seq:03d}"
            cert = body + ric.calc_check_digit(body + "0")
            name = (surname if m < 2 or rnd.random() < 0.8 else rnd.choice(SURNAMES)) + "".join(
                rnd.choice(GIVEN) for _ in range(rnd.choice([1, 2, 2, 2]))
            )
            if name not in pinyin_cache:
                pinyin_cache[name] = (pinyin_full(name), pinyin_initials(name))
            full, ini = pinyin_cache[name]
            pid = new_id()
            head_id = head_id or pid
            p_rows.append(
                (
                    pid,
                    hid,
                    "head" if m == 0 else "other",
                    name,
                    full,
                    ini,
                    cert,
                    "male" if int(cert[16]) % 2 else "female",
                    birth.isoformat(),
                    region,
                    now,
                    now,
                    clerk,
                )
            )
            i += 1
        hh_rows.append((hid, rnd.choice(villages), f"{rnd.randint(1, 99)}组", head_id, now, now))
        if len(p_rows) >= 50_000:
            _flush(conn, hh_rows, p_rows)
            print(f"  built {i:,} residents ({time.perf_counter() - t0:.0f} s)", flush=True)
    _flush(conn, hh_rows, p_rows)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()
    marker.write_text(f"{residents} residents built {dt.datetime.now().isoformat()}\n")
    return folder


def _flush(conn: sqlite3.Connection, hh_rows: list, p_rows: list) -> None:
    conn.executemany(
        "INSERT INTO household(id, village_id, address, head_person_id, created_at, updated_at)"
        " VALUES (?,?,?,?,?,?)",
        hh_rows,
    )
    conn.executemany(
        "INSERT INTO person(id, household_id, relation, name, name_pinyin, name_initials,"
        " cert_no, sex, birth_date, region_code, created_at, updated_at, created_by)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        p_rows,
    )
    hh_rows.clear()
    p_rows.clear()


def bench_search(residents: int, samples: int, rebuild: bool) -> dict:
    folder = build_big_store(residents, rebuild)
    store = open_store(folder)
    total = store.query_one("SELECT COUNT(*) AS n FROM person")["n"]
    rnd = random.Random(7)
    ids = [
        r["rowid"]
        for r in store.query("SELECT rowid FROM person ORDER BY random() LIMIT ?", (samples,))
    ]
    sample = [
        store.query_one(
            "SELECT name, cert_no, name_pinyin, name_initials FROM person WHERE rowid=?", (r,)
        )
        for r in ids
    ]
    kinds = {
        "ID number (18, exact)": [s["cert_no"] for s in sample],
        "ID number prefix (10)": [s["cert_no"][:10] for s in sample],
        "name, 1 character (surname)": [s["name"][0] for s in sample],
        "name, 2 characters": [s["name"][:2] for s in sample],
        "name, 3 characters": [
            s["name"] if len(s["name"]) >= 3 else s["name"] + "伟" for s in sample
        ],
        "pinyin initials (zs)": [s["name_initials"][:2] for s in sample],
        "full pinyin": [s["name_pinyin"] for s in sample],
        "no match (name)": ["鑫" + rnd.choice(GIVEN) + "𠮷" for _ in sample],
    }
    results = {}
    for kind, queries in kinds.items():
        for q in queries[:20]:  # warm the page cache like a window that has been open a while
            reg.search_persons(store, q)
        times, found = [], 0
        for q in queries:
            t = time.perf_counter()
            rows = reg.search_persons(store, q)
            times.append(time.perf_counter() - t)
            found += bool(rows)
        results[kind] = {
            "p50": pct(times, 50),
            "p99": pct(times, 99),
            "max": max(times),
            "hit": found / len(queries),
        }
    dup_times = []
    for _ in range(3):
        t = time.perf_counter()
        reg.list_duplicates(store)
        dup_times.append(time.perf_counter() - t)
    store.close()
    return {
        "residents": total,
        "samples": samples,
        "kinds": results,
        "duplicates": statistics.median(dup_times),
    }


# ------------------------------------------------------------------ 3. cold start


def bench_cold_start(runs: int) -> dict:
    """The cold start measured by ``bench/bench_startup.py`` (one implementation), for this
    tree only."""
    med = bench_startup.measure({"now": ROOT}, runs)
    out = {"runs": runs, "bare": med["bare"], "main": med["now:main"], "login": med["now:login"]}
    out["ratio_main"] = out["main"] / out["bare"]
    out["ratio_login"] = out["login"] / out["bare"]
    return out


# ------------------------------------------------------------------ report


def _load() -> str:
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def report(commit: dict, search: dict, start: dict) -> str:
    lines = [
        "# Registration benchmarks (issue 2)",
        "",
        f"Machine: {machine()}  ",
        f"Load average when finished: {_load()} (the machine is shared with other jobs; "
        "tail latencies move with it)  ",
        f"Date: {dt.datetime.now().astimezone().isoformat(timespec='minutes')}  ",
        "Command: `.venv/bin/python bench/bench_registration.py`",
        "",
        "## Commit latency per registration",
        "",
        f"{commit['n']} registrations, each a new household with its head, one durable "
        "transaction (WAL, synchronous=FULL). The service validates the ID number, derives "
        "pinyin, checks for duplicates and writes household + person + 2 hash-chained audit "
        "entries + 2 outbox operations. The bare baselines insert the same rows with plain "
        "sqlite3 into the same schema with the same pragmas: first only the household and "
        "person rows, then also the audit and outbox rows the service wrote. The three run "
        "interleaved, one registration at a time, so machine noise hits them alike.",
        "",
        "| | p50 | p99 |",
        "|---|---|---|",
        f"| service `create_household` | {ms(commit['svc_p50'])} | {ms(commit['svc_p99'])} |",
        f"| bare sqlite3: household + person rows | {ms(commit['bare_p50'])} "
        f"| {ms(commit['bare_p99'])} |",
        f"| **ratio** service / bare rows | {commit['ratio_p50']:.2f}× "
        f"| {commit['ratio_p99']:.2f}× |",
        f"| bare sqlite3: the same 6 rows incl. audit + outbox | {ms(commit['bare_all_p50'])} "
        f"| {ms(commit['bare_all_p99'])} |",
        f"| ratio service / bare 6 rows (cost of the service's own work) "
        f"| {commit['ratio_all_p50']:.2f}× | {commit['ratio_all_p99']:.2f}× |",
        "",
        f"## Search with {search['residents']:,} residents",
        "",
        f"`search_persons(store, q)` (limit 50), {search['samples']} random queries per kind "
        "drawn from the residents in the store; warm page cache (20 queries first). "
        "Goal: p99 under 50 ms.",
        "",
        "| query | p50 | p99 | max | found |",
        "|---|---|---|---|---|",
    ]
    for kind, r in search["kinds"].items():
        lines.append(
            f"| {kind} | {ms(r['p50'])} | {ms(r['p99'])} | {ms(r['max'])} | {r['hit']:.0%} |"
        )
    lines += [
        "",
        f"The 查重 list (every certificate number registered twice, a full scan of the "
        f"number index; runs on the store worker): {search['duplicates'] * 1000:.0f} ms "
        "(median of 3).",
        "",
        "## Cold start to the first window shown",
        "",
        f"Median of {start['runs']} runs, each a fresh `python` subprocess (offscreen "
        "platform), measured from spawning the process to the window being exposed. The "
        "first window a clerk sees is the log-in dialog (the set-up wizard on a new PC); the "
        "main window row builds it directly for the demo clerk, skipping the password. Most "
        "of the main window's extra time is imports of other areas it wires in at start "
        "(sync engine, keyring, policies); run `python -X importtime` to see them.",
        "",
        "| | time | ratio to bare |",
        "|---|---|---|",
        f"| bare PySide6 window | {start['bare']:.2f} s | 1.00× |",
        f"| **first window: log-in dialog** (store opened, migrations checked) "
        f"| {start['login']:.2f} s "
        f"| {start['ratio_login']:.2f}× |",
        f"| main window with the registration page | {start['main']:.2f} s "
        f"| {start['ratio_main']:.2f}× |",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--residents", type=int, default=None)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "registration.md")
    args = ap.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    residents = args.residents or (100_000 if args.quick else 1_000_000)
    print("commit latency …", flush=True)
    commit = bench_commit(100 if args.quick else 500)
    print(commit, flush=True)
    print(f"search with {residents:,} residents …", flush=True)
    search = bench_search(residents, 100 if args.quick else 500, args.rebuild)
    for k, v in search["kinds"].items():
        print(f"  {k}: p50 {ms(v['p50'])} p99 {ms(v['p99'])} found {v['hit']:.0%}", flush=True)
    print("cold start …", flush=True)
    start = bench_cold_start(3 if args.quick else 7)
    print(start, flush=True)
    text = report(commit, search, start)
    if not args.quick:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        print(f"written {args.out}")
    print(text)


if __name__ == "__main__":
    main()
