"""Contribution benchmarks (issue 4). Run: .venv/bin/python bench/bench_contribution.py

1. A village's unpaid list (``contribution.campaign``) with 5,000 residents in the village
   (plus 20,000 in other villages), half of them paid for 2025 — and its CSV / .xlsx export.
2. Status lookup (``contribution.status_years``: every 参保年度 of one person with status,
   amount, benefit period, waiting, continuous years) p50/p99 with 1,000,000 residents and
   5 years (2021-2025) of enrollments and payments — beside the bare SQL of the two index
   lookups it makes.

The stores are bulk-built with plain sqlite3 into the real schema (migrations applied by
``open_store``), cached under /tmp/township-bench. Options: --quick (100k residents),
--rebuild, --residents N, --samples N.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine  # noqa: E402

from desktop.services import contribution as svc  # noqa: E402
from desktop.services.setup import ServicePointInput, run_setup  # noqa: E402
from desktop.store import cipher, open_store  # noqa: E402

CACHE = Path(tempfile.gettempdir()) / "township-bench"
TODAY = dt.date(2025, 3, 20)
YEARS = (2021, 2022, 2023, 2024, 2025)
NOW = "2025-03-20T10:00:00+08:00"


def new_store(folder: Path, villages: list[str]):
    if folder.exists():
        shutil.rmtree(folder)
    store = open_store(folder)
    run_setup(
        store,
        ServicePointInput(
            name="基准乡卫生院", region_code="140121", code="SP01", villages=villages
        ),
        admin_username="admin",
        admin_name="王主管",
        admin_password="admin123",
    )
    return store


def fill(
    store,
    residents: int,
    village_ids: list[str],
    weights: list[int],
    paid_share: float,
    years: tuple[int, ...],
    seed: int = 7,
) -> list[str]:
    """Bulk rows: households of 1-4, persons, and for each year an enrollment + payment for
    ``paid_share`` of the persons. Returns the person ids."""
    rnd = random.Random(seed)
    conn = cipher.connect(store.path, store.key)  # the store's own key
    conn.execute("PRAGMA synchronous=OFF")
    op = conn.execute("SELECT id FROM operator LIMIT 1").fetchone()[0]
    conn.execute("BEGIN")
    pids: list[str] = []
    hh_rows, p_rows, e_rows, pay_rows = [], [], [], []
    n = 0
    seq = 0

    def flush() -> None:
        conn.executemany(
            "INSERT INTO household(id, village_id, address, head_person_id, created_at,"
            " updated_at) VALUES (?,?,?,?,?,?)",
            hh_rows,
        )
        conn.executemany(
            "INSERT INTO person(id, household_id, relation, name, name_pinyin, name_initials,"
            " cert_no, sex, birth_date, insured_category, region_code, created_at, updated_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            p_rows,
        )
        conn.executemany(
            "INSERT INTO enrollment(id, person_id, year, insured_category, created_at, updated_at,"
            " policy_id, amount_due, benefits_from, benefits_to, waiting_unit, waiting,"
            " continuous_years, incentive_raise) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            e_rows,
        )
        conn.executemany(
            "INSERT INTO payment(id, person_id, enrollment_id, year, policy_id, amount, amount_due,"
            " channel, paid_on, operator_id, receipt_no, status, created_at, updated_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            pay_rows,
        )
        for rows in (hh_rows, p_rows, e_rows, pay_rows):
            rows.clear()

    while n < residents:
        hid = str(uuid.UUID(int=rnd.getrandbits(128)))
        vid = rnd.choices(village_ids, weights)[0]
        size = min(rnd.randint(1, 4), residents - n)
        members = []
        for k in range(size):
            pid = str(uuid.UUID(int=rnd.getrandbits(128)))
            members.append(pid)
            birth = f"{rnd.randint(1940, 2020)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
            p_rows.append(
                (
                    pid,
                    hid,
                    "head" if k == 0 else "son",
                    f"居民{n}",
                    f"jumin{n}",
                    "jm",
                    f"140121{birth.replace('-', '')}{n % 1000:03d}X",
                    rnd.choice(["male", "female"]),
                    birth,
                    "ordinary",
                    "140121",
                    NOW,
                    NOW,
                )
            )
            pids.append(pid)
            paid = rnd.random() < paid_share
            streak = 0
            for y in years:
                if not paid and y == years[-1]:
                    continue
                streak += 1
                eid = str(uuid.UUID(int=rnd.getrandbits(128)))
                e_rows.append(
                    (
                        eid,
                        pid,
                        y,
                        "ordinary",
                        NOW,
                        NOW,
                        f"bench-{y}",
                        "400.00",
                        f"{y}-01-01",
                        f"{y}-12-31",
                        "months",
                        0,
                        streak,
                        "0.00",
                    )
                )
                seq += 1
                pay_rows.append(
                    (
                        str(uuid.UUID(int=rnd.getrandbits(128))),
                        pid,
                        eid,
                        y,
                        f"bench-{y}",
                        "400.00",
                        "400.00",
                        "cash",
                        f"{y - 1}-10-10",
                        op,
                        f"SP{seed:02d}-01-{seq:08d}",
                        "confirmed" if y < years[-1] else "local",
                        NOW,
                        NOW,
                    )
                )
            n += 1
        hh_rows.append((hid, vid, f"地址{n}", members[0], NOW, NOW))
        if len(p_rows) >= 20_000:
            flush()
            conn.execute("COMMIT")
            conn.execute("BEGIN")
    flush()
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return pids


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def ms(v: float) -> str:
    return f"{v * 1000:.2f} ms"


def bench_campaign(samples: int) -> dict:
    folder = CACHE / "contribution-village"
    store = new_store(folder, ["东村", "西村", "南村", "北村", "中村", "新村"])
    vids = [r["id"] for r in store.query("SELECT id FROM village ORDER BY name")]
    target = store.query_one("SELECT id FROM village WHERE name = '东村'")["id"]
    others = [v for v in vids if v != target]
    # 5,000 in 东村 and 20,000 elsewhere: fill the target village alone, then the others
    fill(store, 5_000, [target], [1], 0.5, (2025,), seed=1)
    fill(store, 20_000, others, [1] * len(others), 0.5, (2025,), seed=2)
    n_village = store.query_one(
        "SELECT COUNT(*) AS n FROM person p JOIN household h ON h.id = p.household_id"
        " WHERE h.village_id = ?",
        (target,),
    )["n"]
    times = []
    res = None
    for _ in range(samples):
        t = time.perf_counter()
        res = svc.campaign(store, year=2025, village_id=target, today=TODAY)
        times.append(time.perf_counter() - t)
    out = {}
    for kind, fn in (("csv", svc.export_csv), ("xlsx", svc.export_xlsx)):
        t = time.perf_counter()
        fn(res, folder / f"list.{kind}")
        out[kind] = time.perf_counter() - t
    store.close()
    return {
        "village_residents": n_village,
        "unpaid": res["unpaid_count"],
        "total_due": res["total_due"],
        "p50": statistics.median(times),
        "p99": pct(times, 0.99),
        "max": max(times),
        "samples": samples,
        "csv": out["csv"],
        "xlsx": out["xlsx"],
    }


def bench_status(residents: int, samples: int, rebuild: bool) -> dict:
    folder = CACHE / f"contribution-{residents}"
    marker = folder / "built.ok"
    built = 0.0
    if rebuild or not marker.exists():
        store = new_store(folder, ["东村", "西村", "南村"])
        vids = [r["id"] for r in store.query("SELECT id FROM village")]
        t = time.perf_counter()
        fill(store, residents, vids, [1, 1, 1], 0.9, YEARS, seed=3)
        built = time.perf_counter() - t
        store.close()
        marker.write_text("ok")
    store = open_store(folder)
    counts = {
        t: store.query_one(f"SELECT COUNT(*) AS n FROM {t}")["n"]
        for t in ("person", "enrollment", "payment")
    }
    rnd = random.Random(11)
    rowids = rnd.sample(range(1, counts["person"] + 1), min(samples + 50, counts["person"]))
    pids = [store.query_one("SELECT id FROM person WHERE rowid = ?", (r,))["id"] for r in rowids]
    for pid in pids[:50]:  # warm up
        svc.status_years(store, pid, today=TODAY)
    times, bare = [], []
    for pid in pids[50:]:
        t = time.perf_counter()
        st = svc.status_years(store, pid, today=TODAY)
        times.append(time.perf_counter() - t)
        assert st["years"], pid
        t = time.perf_counter()
        store.conn.execute(
            "SELECT * FROM payment WHERE person_id = ? AND status IN ('local','confirmed')", (pid,)
        ).fetchall()
        store.conn.execute("SELECT * FROM enrollment WHERE person_id = ?", (pid,)).fetchall()
        bare.append(time.perf_counter() - t)
    size = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
    store.close()
    return {
        **counts,
        "samples": len(times),
        "p50": statistics.median(times),
        "p99": pct(times, 0.99),
        "max": max(times),
        "bare_p50": statistics.median(bare),
        "bare_p99": pct(bare, 0.99),
        "build_s": built,
        "size_mb": size / 1e6,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--residents", type=int, default=None)
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--out", type=Path, default=ROOT / "bench/results/contribution.md")
    args = ap.parse_args()
    residents = args.residents or (100_000 if args.quick else 1_000_000)
    CACHE.mkdir(parents=True, exist_ok=True)

    c = bench_campaign(20 if not args.quick else 5)
    print(f"campaign: {c}")
    s = bench_status(residents, args.samples, args.rebuild)
    print(f"status: {s}")

    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M+00:00")
    cmd = "`.venv/bin/python bench/bench_contribution.py" + (" --quick" if args.quick else "") + "`"
    text = f"""# Contribution benchmarks (issue 4)

- Machine: {machine()}
- Date: {when}
- Command: {cmd}
- Load: other engineers' test suites were running on the same 2-core machine; figures are
upper bounds.

## A village's unpaid list (campaign)

`contribution.campaign(store, year=2025, village_id=…)`: {c["village_residents"]:,} residents
in the village (20,000 more in five other villages), about half paid for 2025. Each unpaid
person's amount due is computed by the core rules from the national-2025 policy file.
{c["samples"]} runs.

| | p50 | p99 | max |
|---|---|---|---|
| unpaid list ({c["unpaid"]:,} persons, total {c["total_due"]} yuan) | {ms(c["p50"])} | {ms(c["p99"])} | {ms(c["max"])} |

Export of that list: CSV {ms(c["csv"])}, Excel (.xlsx, openpyxl) {ms(c["xlsx"])}.

## Status lookup with {s["person"]:,} residents

{s["enrollment"]:,} enrollments and {s["payment"]:,} payments over 参保年度 2021-2025 (store
{s["size_mb"]:,.0f} MB). `contribution.status_years(store, person_id)` for {s["samples"]:,}
random residents (warm page cache after 50 lookups): every year's status, amount, channel,
benefit period, waiting, continuous years, incentive, and the quote for unpaid years. The
baseline runs only the two index lookups (payments and enrollments of the person).

| | p50 | p99 | max |
|---|---|---|---|
| `status_years` | {ms(s["p50"])} | {ms(s["p99"])} | {ms(s["max"])} |
| bare SQL (2 index lookups) | {ms(s["bare_p50"])} | {ms(s["bare_p99"])} | |
"""
    if s["build_s"]:
        text += f"\nBulk build of the store: {s['build_s']:.0f} s (not part of the measurement).\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
