"""County console pages against a generated county (issue 15; goal p95 ≤ 300 ms).
Run: .venv/bin/python bench/bench_console.py [--residents N] [--points N]

A county of 500,000 residents in 200 service points (two years of enrollments and
payments) is generated into a fresh database of the private PostgreSQL test cluster; each
console page is requested 20 times through the real app (FastAPI, Jinja2, psycopg pool),
beside the bare baseline of the same app answering /health. Writes
bench/results/console.md."""

from __future__ import annotations

import argparse
import atexit
import datetime as dt
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "console.md"
COUNTIES = [f"1401{n:02d}" for n in range(21, 100)]  # 140121, 140122, … (Shanxi's codes' form)
PAGES = {
    "报表（参保率、缴费日报、未联网、冲突）": "/console/reports?year=2026",
    "服务点与设备": "/console/devices",
    "冲突与更正": "/console/conflicts",
    "政策文件": "/console/policies",
    "导出各村参保情况（Excel）": "/console/reports/export?table=villages&year=2026",
}


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))]


def main() -> None:
    import re

    import psycopg
    from fastapi.testclient import TestClient
    from psycopg.rows import dict_row

    from county.app import create_app
    from county.console import summary
    from county.console.auth import create_staff
    from county.console.generate import generate
    from county.settings import Settings
    from county.testing import fresh_database, start_cluster

    ap = argparse.ArgumentParser()
    ap.add_argument("--residents", type=int, default=500_000)
    ap.add_argument("--points", type=int, default=200)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument(
        "--counties",
        type=int,
        default=1,
        help="a province: the residents and points shared among this many counties, and a "
        "county's own recount (现在重新统计 of a county's account) timed beside the province's",
    )
    ap.add_argument("--out", default=str(RESULTS))
    ap.add_argument(
        "--no-durable",
        dest="durable",
        action="store_false",
        help="PostgreSQL without fsync (as the tests run); default: durable, as in production",
    )
    args = ap.parse_args()
    cluster = start_cluster(durable=args.durable)
    atexit.register(cluster.stop)
    dsn = fresh_database(cluster)
    settings = Settings(database_url=dsn, signing_key="b" * 40, pool_min=1, pool_max=4)
    app = create_app(settings)
    with TestClient(app) as client:  # migrations run at start
        t0 = time.perf_counter()
        with psycopg.connect(dsn, row_factory=dict_row) as c:
            with c.transaction():
                for region in COUNTIES[: args.counties]:
                    generate(
                        c,
                        points=args.points // args.counties,
                        residents=args.residents // args.counties,
                        year=2026,
                        region=region,
                    )
                create_staff(c, "bench", "测试", "admin", "bench-pass-1")
        built = time.perf_counter() - t0
        page = client.get("/console/login")
        token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
        client.post(
            "/console/login",
            data={"username": "bench", "password": "bench-pass-1", "login_token": token},
        )
        results = {}
        for label, path in {"bare: /health": "/health", **PAGES}.items():
            client.get(path)  # warm
            times = []
            for _ in range(args.runs):
                t = time.perf_counter()
                r = client.get(path)
                times.append(time.perf_counter() - t)
                assert r.status_code == 200, (path, r.status_code)
            results[label] = (pct(times, 50), pct(times, 95))
        counts, one_county = [], []
        with psycopg.connect(dsn, row_factory=dict_row) as c:
            for _ in range(3):
                t = time.perf_counter()
                summary.refresh(c, 2026)
                counts.append(time.perf_counter() - t)
                if args.counties > 1:
                    t = time.perf_counter()
                    summary.refresh(c, 2026, region=COUNTIES[0])
                    one_county.append(time.perf_counter() - t)
    base = results["bare: /health"][1]
    lines = [
        "# County console pages (issue 15)",
        "",
        f"Machine: {machine()}  ",
        f"Date: {dt.datetime.now().astimezone().isoformat(timespec='minutes')}  ",
        "Command: `.venv/bin/python bench/bench_console.py`  ",
        "PostgreSQL: "
        + (
            "durable as in production (fsync, synchronous commit, full page writes on)  "
            if args.durable
            else "fsync off (`--no-durable`)  "
        ),
        (f"Province: {args.counties} counties, together " if args.counties > 1 else "County: ")
        + f"{args.residents:,} residents in {args.points} service points, two years of "
        f"enrollments and payments (generated in {built:.0f} s). {args.runs} requests per page "
        "through the real app (TestClient: no network), warm.",
        "",
        "| page | p50 | p95 | p95 ÷ bare | goal p95 ≤ 300 ms |",
        "|---|---|---|---|---|",
    ]
    for label, (p50, p95) in results.items():
        goal = "" if label.startswith("bare") else ("met" if p95 <= 0.3 else "**not met**")
        lines.append(
            f"| {label} | {p50 * 1000:.0f} ms | {p95 * 1000:.0f} ms | {p95 / base:.0f}× | {goal} |"
        )
    lines += [
        "",
        f"Counting one 参保年度 afresh (what the server does in the background every "
        f"{settings.report_refresh_minutes} minutes, after an import, and on 现在重新统计): "
        f"{pct(counts, 50):.1f} s (median of 3). The report pages read the counted figures "
        "and say when they were counted.",
    ]
    if one_county:
        lines += [
            "",
            f"One county counted again on its own (现在重新统计 from a county's account, "
            f"{args.residents // args.counties:,} residents: its partitions only): "
            f"{pct(one_county, 50):.2f} s (median of 3), "
            f"{pct(one_county, 50) / pct(counts, 50):.2f}× the province's count.",
        ]
    out = Path(args.out)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(out.read_text(encoding="utf-8"))


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    main()
