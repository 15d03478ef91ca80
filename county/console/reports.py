"""Console reports: coverage by service point and village for a 参保年度 (registered, paid,
subsidized, unpaid; the rate against the target and last year), payments by day and method,
devices not synced for N days, open conflicts — each table exportable to Excel (text cells
stay text: a name like ``=HYPERLINK(…)`` is never a formula)."""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import psycopg
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from county import admin, places
from county.conflicts import KIND_LABELS
from county.console import PREFIX, region_code, summary, templates
from county.console import auth as a
from county.model import china_minute

log = logging.getLogger(__name__)

router = APIRouter(prefix=PREFIX, include_in_schema=False)

# one county's rows (区划, "" for all of them): a province's report is read a county at a time
# (a point's village may hold residents of another county too: the counties' rows add up)
COVERAGE_SQL = (
    "SELECT sp_id, village, sum(registered) AS registered, sum(paid) AS paid,"
    " sum(subsidized) AS subsidized FROM report_coverage"
    " WHERE year = %(y)s AND (%(r)s = '' OR sp_id IN"
    " (SELECT id FROM service_point WHERE region_code = %(r)s))"
    " GROUP BY sp_id, village ORDER BY sp_id, village"
)
PAYMENTS_SQL = (
    "SELECT day, channel, sum(n) AS n, sum(total) AS total FROM report_payments"
    " WHERE year = %(y)s AND (%(r)s = '' OR region = %(r)s)"
    " GROUP BY day, channel ORDER BY day, channel"
)
CHANNELS = {"cash": "现金", "qr": "扫码支付", "bank": "银行代扣/转账", "": "未注明"}


def campaign_target(conn: psycopg.Connection, year: int) -> dict | None:
    """The 参保率 target of the 参保年度 from the county's published policy files (their
    ``[campaign]`` section, as the desks read it): percent and its source; None when no file
    of the year sets one — the page then says so and colours nothing. A regional file's
    target comes before the national default's, as on the desk."""
    from core.policy import NATIONAL_REGION  # deferred: policy parsing loads only here

    rows = conn.execute(
        "SELECT toml, title FROM policy WHERE year = %s ORDER BY region = %s, region, id",
        (year, NATIONAL_REGION),
    ).fetchall()
    for r in rows:
        try:
            pol = admin.check_policy_text(r["toml"], r["title"])
        except admin.AdminError:
            continue  # a published file always parsed; never guess from a broken one
        if "campaign" in pol.sections:
            t = pol.sections["campaign"]
            return {"percent": float(t.percent), "source": t.source}
    return None


def _rate(covered: int, registered: int) -> float:
    return round(100.0 * covered / registered, 1) if registered else 0.0


def coverage(conn: psycopg.Connection, year: int, region: str = "") -> dict:
    """Per village and per service point, with last year's rate beside this year's; of one
    county (``region``) or of all."""
    points = {p["id"]: p for p in places.list_service_points(conn, region=region)}
    counted = summary.ensure(conn, year)
    summary.ensure(conn, year - 1)
    if region:  # a county counted again on its own since
        counted = summary.counted_at(conn, year, region) or counted
    last = {
        (r["sp_id"], r["village"]): r
        for r in conn.execute(COVERAGE_SQL, {"y": year - 1, "r": region})
    }
    villages, by_point, by_county = [], {}, {}
    for sp_id, p in points.items():  # every county and point, one with nobody registered
        c = by_county.setdefault(  # yet too: it shows at 0, a point behind them all
            p["region_code"], {"registered": 0, "paid": 0, "subsidized": 0, "points": 0}
        )
        c["points"] += 1
        by_point[sp_id] = {"point": p["name"], "registered": 0, "paid": 0, "subsidized": 0}
    for r in conn.execute(COVERAGE_SQL, {"y": year, "r": region}).fetchall():
        covered = r["paid"] + r["subsidized"]
        before = last.get((r["sp_id"], r["village"]))
        row = {
            "point": points.get(r["sp_id"], {}).get("name", ""),
            "village": r["village"],
            "registered": r["registered"],
            "paid": r["paid"],
            "subsidized": r["subsidized"],
            "unpaid": r["registered"] - covered,
            "rate": _rate(covered, r["registered"]),
            "last_rate": _rate(before["paid"] + before["subsidized"], before["registered"])
            if before
            else None,
        }
        villages.append(row)
        t = by_point.setdefault(  # by the point, not its name: 城关镇卫生院 is in every county
            r["sp_id"], {"point": row["point"], "registered": 0, "paid": 0, "subsidized": 0}
        )
        c = by_county.setdefault(
            points.get(r["sp_id"], {}).get("region_code", ""),
            {"registered": 0, "paid": 0, "subsidized": 0, "points": 0},
        )
        for k in ("registered", "paid", "subsidized"):
            t[k] += row[k]
            c[k] += row[k]
    for t in [*by_point.values(), *by_county.values()]:
        t["unpaid"] = t["registered"] - t["paid"] - t["subsidized"]
        t["rate"] = _rate(t["paid"] + t["subsidized"], t["registered"])
    return {
        "villages": villages,
        "points": list(by_point.values()),
        # a province at a glance: a county a line (区划 order), each a link to its own report
        "counties": [{"county": k, **v} for k, v in sorted(by_county.items())],
        "counted_at": counted,
    }


def payments(conn: psycopg.Connection, year: int, region: str = "") -> list[dict]:
    summary.ensure(conn, year)
    return [
        {**r, "channel": CHANNELS.get(r["channel"], r["channel"]), "total": f"{r['total']:.2f}"}
        for r in conn.execute(PAYMENTS_SQL, {"y": year, "r": region}).fetchall()
    ]


QUIET_SHOWN = 500  # PCs silent for days on the page; the export has them all


def quiet_devices(
    conn: psycopg.Connection,
    days: int,
    now: dt.datetime,
    region: str = "",
    limit: int | None = None,
) -> list[dict]:
    """PCs in use not synced for ``days`` (of a county, or of all): the first ``limit``."""
    cut = now - dt.timedelta(days=days)
    return places.list_devices(conn, region=region, quiet_since=cut, limit=limit)


def open_conflicts(conn: psycopg.Connection, region: str = "") -> list[dict]:
    return conn.execute(
        "SELECT kind, count(*) AS n FROM conflict WHERE status = 'open' AND (%(r)s = ''"
        " OR sp_ids && ARRAY(SELECT id FROM service_point WHERE region_code = %(r)s))"
        " GROUP BY kind ORDER BY kind",
        {"r": region},
    ).fetchall()


@contextmanager
def reading(request: Request, year: int) -> Iterator[psycopg.Connection]:
    """Where the report pages read: the replica (``database_read_url``) when one is set and
    it already holds the counted figures of ``year`` and the year before; else the primary,
    where a year never counted is counted first (``coverage``: a replica cannot write)."""
    replica, use = request.app.state.read_pool, False
    if replica is not None:
        try:
            with replica.connection() as conn:
                use = all(summary.counted_at(conn, y) for y in (year, year - 1))
        except psycopg.OperationalError:  # the replica is away: the primary answers
            log.warning("report replica unavailable; reading the primary")
    with (replica if use else request.app.state.pool).connection() as conn:
        yield conn


def _year(value: str) -> int:
    try:
        year = int(value)
    except ValueError:
        year = dt.date.today().year
    return min(max(year, 2000), 2100)


def _days(value: str) -> int:
    return max(1, min(int(value) if value.isdigit() else 7, 365))


@router.get("/reports")
def reports(
    request: Request, year: str = "", days: str = "7", region: str = "", recounting: str = ""
) -> HTMLResponse:
    staff = a.require(request, "reports")
    y = _year(year or str(dt.date.today().year))
    n = _days(days)
    r = staff.region(region_code(region))
    with reading(request, y) as conn:
        cov = coverage(conn, y, r)
        pays = payments(conn, y, r)
        quiet = quiet_devices(conn, n, dt.datetime.now(dt.UTC), r, QUIET_SHOWN + 1)
        conflicts = open_conflicts(conn, r)
        target = campaign_target(conn, y)
        counties = [c for c in places.regions(conn) if staff.covers(c["code"])]
    # a province with no county chosen: a county a bar and a line (thousands of service
    # points and tens of thousands of villages are no report); a county: its points
    province = not r and len(counties) > 1
    bars = cov["counties"] if province else cov["points"]
    chart = {
        "points": [b["county"] if province else b["point"] for b in bars],
        "rates": [b["rate"] for b in bars],
        "target": target["percent"] if target else None,
        "days": sorted({p["day"] for p in pays}),
        "series": {
            ch: [
                sum(int(p["n"]) for p in pays if p["day"] == d and p["channel"] == ch)
                for d in sorted({p["day"] for p in pays})
            ]
            for ch in sorted({p["channel"] for p in pays})
        },
    }
    return templates.TemplateResponse(
        request,
        "reports.html",
        {
            "staff": staff,
            "prefix": PREFIX,
            "year": y,
            "days": n,
            "region": r,
            "counties": counties,
            "province": province,
            "cov": cov,
            "pays": pays,
            "quiet": quiet[:QUIET_SHOWN],
            "more_quiet": len(quiet) > QUIET_SHOWN,
            "quiet_shown": QUIET_SHOWN,
            "conflicts": [{**c, "label": KIND_LABELS.get(c["kind"], c["kind"])} for c in conflicts],
            "chart": chart,
            "target": target,
            "may_refresh": staff.may("reports.refresh"),
            "recounting": recounting == "1",
            "every": request.app.state.settings.report_refresh_minutes,
        },
    )


@router.post("/reports/refresh")
def refresh(
    request: Request, year: str = Form(""), region: str = Form(""), csrf: str = Form("")
) -> Response:
    """Count the year again now (a case worker who has just resolved or imported): the
    county on the page — a county's account always its own — or, with none, the province."""
    staff = a.require(request, "reports.refresh", csrf)
    y = _year(year)
    r = staff.region(region_code(region))
    pool = request.app.state.pool
    with pool.connection() as conn:
        # a whole province takes minutes: counted in the background, the page says so
        province = not r and len(places.regions(conn)) > 1
        if province:
            summary.request_refresh(pool, [y, y - 1])
        else:
            summary.refresh(conn, y, region=r)
            summary.refresh(conn, y - 1, region=r)
        with conn.transaction():
            a.audit(conn, staff.id, "reports.refresh", f"{y} {r}" if r else str(y))
    there = f"&region={r}" if r and not staff.county else ""
    later = "&recounting=1" if province else ""
    return RedirectResponse(f"{PREFIX}/reports?year={y}{there}{later}", status_code=303)


EXPORTS = {
    "counties": (
        "各县区参保情况",
        ["区划", "服务点数", "登记人数", "已缴费", "资助参保", "未缴费", "参保率%"],
        ["county", "points", "registered", "paid", "subsidized", "unpaid", "rate"],
    ),
    "villages": (
        "各村参保情况",
        ["服务点", "村", "登记人数", "已缴费", "资助参保", "未缴费", "参保率%", "上年参保率%"],
        ["point", "village", "registered", "paid", "subsidized", "unpaid", "rate", "last_rate"],
    ),
    "points": (
        "各服务点参保情况",
        ["服务点", "登记人数", "已缴费", "资助参保", "未缴费", "参保率%"],
        ["point", "registered", "paid", "subsidized", "unpaid", "rate"],
    ),
    "payments": (
        "缴费日报",
        ["日期", "缴费方式", "笔数", "金额（元）"],
        ["day", "channel", "n", "total"],
    ),
    "quiet": (
        "未联网的设备",
        ["服务点", "电脑名称", "最近联网"],
        ["sp_name", "name", "last_seen"],
    ),
    "conflicts": ("待处理的冲突", ["类别", "件数"], ["label", "n"]),
}


def _rows(conn, table: str, year: int, days: int, region: str = "") -> list[dict]:
    if table == "payments":
        return payments(conn, year, region)
    if table == "quiet":
        return [
            {
                **d,
                "last_seen": china_minute(d["last_seen_at"]) if d["last_seen_at"] else "从未联网",
            }
            for d in quiet_devices(conn, days, dt.datetime.now(dt.UTC), region)
        ]
    if table == "conflicts":
        return [
            {**c, "label": KIND_LABELS.get(c["kind"], c["kind"])}
            for c in open_conflicts(conn, region)
        ]
    return coverage(conn, year, region)[table]


@router.get("/reports/export")
def export(
    request: Request, table: str = "villages", year: str = "", days: str = "7", region: str = ""
) -> Response:
    staff = a.require(request, "reports")
    if table not in EXPORTS:
        return HTMLResponse("没有这张表", status_code=404)
    y = _year(year or str(dt.date.today().year))
    r = staff.region(region_code(region))
    with reading(request, y) as conn:
        rows = _rows(conn, table, y, _days(days), r)
    title, header, keys = EXPORTS[table]
    name = f"{y}-{table}.xlsx" if table not in ("quiet", "conflicts") else f"{table}.xlsx"
    name = f"{r}-{name}" if r else name
    return xlsx_response(
        title, header, [[r[k] if r[k] is not None else "" for k in keys] for r in rows], name
    )


def xlsx_response(
    title: str, header: list[str], rows: list[list], name: str, shown_name: str = ""
) -> Response:
    """One sheet as an Excel download: every text cell stays text ("=HYPERLINK(…)" in a
    village name is never a formula). ``shown_name``: the Chinese file name browsers offer
    (RFC 5987), ``name`` the plain one for those that cannot."""
    from openpyxl import Workbook  # deferred: openpyxl loads slowly; only exports need it

    wb = Workbook()
    ws = wb.active
    ws.title = title
    ws.append(header)
    for r in rows:
        ws.append(r)
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    buf = io.BytesIO()
    wb.save(buf)
    disposition = f"attachment; filename={name}"
    if shown_name:
        disposition += f"; filename*=UTF-8''{quote(shown_name)}"
    return Response(
        buf.getvalue(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": disposition},
    )
