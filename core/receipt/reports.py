"""The content of the desk's reports (issue 16): the 月报 of a month and the 征缴进度 report of
a 参保年度, each with its tables and charts, as a :class:`Document` the renderer draws (PDF)
and the services write to Excel from the same rows. Pure: the services gather the figures."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from core.receipt.model import Chart, Document, Field, Section, Table

REPORT_KINDS = {"monthly": "城乡居民医保服务点月报", "campaign": "城乡居民医保征缴进度报表"}
METHODS = ("现金", "扫码支付", "银行代扣/转账")
VILLAGE_HEADER = ["村", "登记人数", "已缴费", "资助参保", "未缴费", "参保率", "上年参保率"]
DAY_HEADER = ["日期", *METHODS, "合计笔数", "合计金额（元）"]


@dataclass(frozen=True)
class VillageLine:
    village: str
    registered: int
    paid: int
    subsidized: int
    unpaid: int
    rate: Decimal | None
    last_rate: Decimal | None

    def cells(self) -> list[str]:
        return [
            self.village,
            str(self.registered),
            str(self.paid),
            str(self.subsidized),
            str(self.unpaid),
            pct(self.rate),
            pct(self.last_rate),
        ]


@dataclass(frozen=True)
class DayLine:
    day: str
    counts: dict[str, int]  # method -> payments
    total: Decimal

    def cells(self) -> list[str]:
        n = [self.counts.get(m, 0) for m in METHODS]
        return [self.day, *map(str, n), str(sum(n)), f"{self.total:.2f}"]


@dataclass(frozen=True)
class ReportFacts:
    kind: str  # monthly | campaign
    issuer: str
    region: str
    period: str  # 2026年11月 / 2027参保年度
    start: dt.date
    end: dt.date
    year: int  # the 参保年度 of the village table
    villages: list[VillageLine]
    total: VillageLine
    days: list[DayLine]
    target: Decimal | None = None
    target_cite: str = ""
    counts: dict[str, str] = field(default_factory=dict)  # 月报: registrations, estimates …
    operator: str = ""
    printed_at: str = ""


def pct(v: Decimal | None) -> str:
    return "—" if v is None else f"{v}%"


def day_table(days: list[DayLine], title: str) -> Table:
    totals = {m: sum(d.counts.get(m, 0) for d in days) for m in METHODS}
    money = sum((d.total for d in days), Decimal("0.00"))
    return Table(
        title,
        DAY_HEADER,
        [d.cells() for d in days],
        ["C", "R", "R", "R", "R", "R"],
        total=[
            "合计",
            *(str(totals[m]) for m in METHODS),
            str(sum(totals.values())),
            f"{money:.2f}",
        ],
    )


def village_table(f: ReportFacts) -> Table:
    return Table(
        f"{f.year}参保年度各村征缴情况（截至{f.end:%Y年%m月%d日}）",
        VILLAGE_HEADER,
        [v.cells() for v in f.villages],
        ["L", "R", "R", "R", "R", "R", "R"],
        total=f.total.cells(),
    )


def charts(f: ReportFacts) -> list[Chart]:
    rated = [v for v in f.villages if v.registered]
    out = [
        Chart(
            title=f"{f.year}参保年度各村参保率（%）",
            categories=[v.village for v in rated],
            series=[("参保率", [float(v.rate or 0) for v in rated])],
            target=float(f.target) if f.target is not None else None,
            target_label=f"目标 {f.target:.0f}%" if f.target is not None else "",
            marks=[float(v.last_rate) if v.last_rate is not None else None for v in rated],
            marks_label="上年参保率",
            unit="%",
        )
    ]
    if f.days:
        out.append(
            Chart(
                title="每日缴费笔数（按缴费方式）",
                categories=[d.day[5:] for d in f.days],
                series=[(m, [float(d.counts.get(m, 0)) for d in f.days]) for m in METHODS],
                unit="笔",
            )
        )
    return out


def report_document(f: ReportFacts) -> Document:
    fields = [
        Field("服务点", f.issuer, "issuer"),
        Field("统筹区", f.region, "region"),
        Field("报表期间", f"{f.start:%Y年%m月%d日} 至 {f.end:%Y年%m月%d日}", "period", wide=True),
    ]
    fields += [
        Field(label, value, f"count_{i}") for i, (label, value) in enumerate(f.counts.items())
    ]
    t = f.total
    fields += [
        Field("参保率", f"{pct(t.rate)}（上年 {pct(t.last_rate)}）", "rate", strong=True),
        Field(
            "参保率目标",
            f"{f.target:.0f}%（{f.target_cite}）" if f.target is not None else "本年度目标尚未发布",
            "target",
            wide=True,
        ),
    ]
    notes = [
        "已缴费：有有效缴费记录或县级已确认参保；资助参保：未缴费但属于本年度政策全额资助的人员；"
        "未缴费：其余登记人员（与征缴名单一致）。终止参保人员不计入。"
    ]
    return Document(
        kind=f.kind,
        key=f"{f.kind}:{f.start.isoformat()}:{f.end.isoformat()}",
        title=REPORT_KINDS[f.kind],
        issuer=f.issuer,
        number=f.period,
        sections=[Section("概况", fields)],
        tables=[village_table(f), day_table(f.days, "缴费日报（按缴费方式）")],
        notes=notes,
        footer=[
            Field("制表人", f.operator, "operator"),
            Field("制表时间", f.printed_at, "printed_at"),
            Field("负责人签字", "", "signature"),
        ],
        charts=charts(f),
    )
