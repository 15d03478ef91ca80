"""The desk's reports (issue 16): the 月报 of a month and the 征缴进度 report of a 参保年度, as
PDF (with charts, the embedded font) and Excel (the same tables, native Excel charts).
The figures are the home page's (``desktop.services.home``), counted as they stood at the
end of the period; the 日结单 stays as it is.

Both take a ``progress(done, total, text)`` and a ``cancelled()`` callback: the GUI runs
them as a long job with 取消."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from core.errors import ValidationError
from core.money import ZERO
from core.receipt.model import region_label
from core.receipt.reports import METHODS, DayLine, ReportFacts, VillageLine, report_document
from desktop.services import home
from desktop.services.context import Actor
from desktop.store import Store, dashboard, places
from desktop.store.journal import now_iso

Progress = Callable[[int, int, str], None]


class ReportCancelled(Exception):
    """The clerk pressed 取消."""


def _step(progress: Progress | None, cancelled, done: int, text: str) -> None:
    if cancelled is not None and cancelled():
        raise ReportCancelled()
    if progress is not None:
        progress(done, 4, text)


def month_range(year: int, month: int) -> tuple[dt.date, dt.date]:
    if not (2000 <= int(year) <= 2100 and 1 <= int(month) <= 12):
        raise ValidationError({"month": "请选择报表月份"})
    start = dt.date(int(year), int(month), 1)
    end = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    return start, end


def _villages(camp: dict) -> tuple[list[VillageLine], VillageLine]:
    def line(v: dict, name: str | None = None) -> VillageLine:
        return VillageLine(
            name or v["village"],
            v["registered"],
            v["paid"],
            v["subsidized"],
            v["unpaid"],
            v["rate"],
            v["last_rate"],
        )

    return [line(v) for v in camp["villages"]], line(camp["total"], "合计")


def _days(store: Store, start: dt.date, end: dt.date, year: int | None = None) -> list[DayLine]:
    by: dict[str, dict] = {}
    for r in home.payments_by_day(store, start, end, year):
        d = by.setdefault(r["day"], {"counts": {}, "total": ZERO})
        d["counts"][r["channel"]] = r["n"]
        d["total"] += r["total"]
    return [DayLine(day, v["counts"], v["total"]) for day, v in sorted(by.items())]


def _issuer(store: Store) -> tuple[str, str]:
    sp = places.service_point(store) or {}
    return sp.get("name", ""), region_label(sp.get("region_code", ""))


def monthly(
    store: Store,
    actor: Actor,
    year: int,
    month: int,
    *,
    today: dt.date | None = None,
    progress: Progress | None = None,
    cancelled=None,
) -> ReportFacts:
    """The 月报 of ``year``-``month``: registrations, payments by day and method, voids,
    estimates, and the campaign of the open 参保年度 by village at the month's end."""
    today = today or dt.date.today()
    start, end = month_range(year, month)
    if start > today:
        raise ValidationError({"month": "这个月还没有开始"})
    end = min(end, today)
    _step(progress, cancelled, 0, "统计登记和测算……")
    s, e = start.isoformat(), end.isoformat()
    reg = dashboard.registrations_on(store, s, e)
    est = dashboard.estimates_on(store, s, e)
    voids = dashboard.voids_on(store, s, e)
    _step(progress, cancelled, 1, "统计缴费……")
    days = _days(store, start, end)
    _step(progress, cancelled, 2, "统计各村参保情况……")
    y = home.open_year(store, end)
    camp = home.campaign(store, y, as_of=end)
    villages, total = _villages(camp)
    _step(progress, cancelled, 3, "排版……")
    n_pay = sum(sum(d.counts.values()) for d in days)
    money = sum((d.total for d in days), ZERO)
    issuer, region = _issuer(store)
    target = camp["target"]
    return ReportFacts(
        kind="monthly",
        issuer=issuer,
        region=region,
        period=f"{start.year}年{start.month}月",
        start=start,
        end=end,
        year=y,
        villages=villages,
        total=total,
        days=days,
        target=target["percent"] if target else None,
        target_cite=target["cite"] if target else "",
        counts={
            "新登记人数": f"{reg['persons']} 人（{reg['households']} 户）",
            "收费": f"{n_pay} 笔，{money:.2f} 元",
            "作废或退费": f"{voids['n']} 笔",
            "报销测算": f"{est['n']} 次（已结算 {est['settled']} 次）",
        },
        operator=actor.display_name,
        printed_at=now_iso().replace("T", " ")[:16],
    )


def campaign_report(
    store: Store,
    actor: Actor,
    year: int,
    *,
    today: dt.date | None = None,
    progress: Progress | None = None,
    cancelled=None,
) -> ReportFacts:
    """The 征缴进度 report of 参保年度 ``year`` by village, as it stands today (or at the end
    of the collection period when that is past), with payments by day of the campaign."""
    today = today or dt.date.today()
    if not 2000 <= int(year) <= 2100:
        raise ValidationError({"year": "请选择参保年度"})
    start, end = home.campaign_period(store, int(year), today)
    _step(progress, cancelled, 0, "统计各村参保情况……")
    camp = home.campaign(store, int(year), as_of=end)
    villages, total = _villages(camp)
    _step(progress, cancelled, 1, "统计缴费……")
    days = _days(store, start, end, int(year))
    _step(progress, cancelled, 3, "排版……")
    issuer, region = _issuer(store)
    target = camp["target"]
    money = sum((d.total for d in days), ZERO)
    return ReportFacts(
        kind="campaign",
        issuer=issuer,
        region=region,
        period=f"{year}参保年度",
        start=start,
        end=end,
        year=int(year),
        villages=villages,
        total=total,
        days=days,
        target=target["percent"] if target else None,
        target_cite=target["cite"] if target else "",
        counts={
            "征缴期内收费": f"{sum(sum(d.counts.values()) for d in days)} 笔，{money:.2f} 元",
            "未缴费人数": f"{total.unpaid} 人",
        },
        operator=actor.display_name,
        printed_at=now_iso().replace("T", " ")[:16],
    )


def pdf(facts: ReportFacts) -> bytes:
    from desktop.documents.render import render_document  # deferred: reportlab loads here

    return render_document(report_document(facts), page="A4")


def xlsx(facts: ReportFacts, path: str | Path) -> Path:
    """The report's tables on two sheets, each with a native Excel chart; numbers are
    numbers (rates in percent with one decimal)."""
    from openpyxl import Workbook  # deferred: openpyxl loads slowly; only exports need it
    from openpyxl.chart import BarChart, Reference  # deferred: as above

    doc = report_document(facts)
    wb = Workbook()
    ws = wb.active
    ws.title = "各村征缴情况"
    ws.append([doc.title, facts.issuer, facts.period])
    ws.append([f"{facts.start:%Y-%m-%d} 至 {facts.end:%Y-%m-%d}"])
    for label, value in facts.counts.items():
        ws.append([label, value])
    ws.append([])
    head = ws.max_row + 1
    ws.append(doc.tables[0].header)
    for v in [*facts.villages, facts.total]:
        ws.append([v.village, v.registered, v.paid, v.subsidized, v.unpaid, _num(v.rate),
                   _num(v.last_rate)])  # fmt: skip
    for w, col in zip((14, 10, 10, 10, 10, 10, 12), "ABCDEFG", strict=True):
        ws.column_dimensions[col].width = w
    chart = BarChart()
    chart.title, chart.y_axis.title = doc.charts[0].title, "%"
    rows = len(facts.villages)
    chart.add_data(
        Reference(ws, min_col=6, min_row=head, max_row=head + rows), titles_from_data=True
    )
    chart.set_categories(Reference(ws, min_col=1, min_row=head + 1, max_row=head + rows))
    ws.add_chart(chart, f"I{head}")
    days = wb.create_sheet("缴费日报")
    days.append(["日期", *METHODS, "合计笔数", "合计金额（元）"])
    for d in facts.days:
        n = [d.counts.get(m, 0) for m in METHODS]
        days.append([d.day, *n, sum(n), float(d.total)])
    if facts.days:
        stacked = BarChart()
        stacked.type, stacked.grouping, stacked.overlap = "col", "stacked", 100
        stacked.title = "每日缴费笔数（按缴费方式）"
        last = len(facts.days) + 1
        stacked.add_data(Reference(days, min_col=2, max_col=4, min_row=1, max_row=last),
                         titles_from_data=True)  # fmt: skip
        stacked.set_categories(Reference(days, min_col=1, min_row=2, max_row=last))
        days.add_chart(stacked, "H2")
    path = Path(path)
    wb.save(path)
    return path


def _num(v: Decimal | None) -> float | None:
    return float(v) if v is not None else None
