"""The home page's two charts, drawn with pyqtgraph (a Qt-native plotting library; see
ARCHITECTURE.md): the 参保率 of each village against the target (bars, last year's rate as a
mark), and payments per day of the campaign by method (stacked bars)."""

from __future__ import annotations

import datetime as dt

import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QFont, QPen
from PySide6.QtWidgets import QWidget

pg.setConfigOptions(background="w", foreground="#333333", antialias=True)
METHOD_COLORS = {"现金": "#4e79a7", "扫码支付": "#59a14f", "银行代扣/转账": "#f28e2b"}
BEHIND, AHEAD, LAST = "#e15759", "#4e79a7", "#333333"


class _Plot(pg.PlotWidget):
    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name): two charts fit beside the table
        return QSize(420, 220)


def _plot(title: str, name: str) -> pg.PlotWidget:
    w = _Plot()
    w.setObjectName(name)
    w.setTitle(title, size="11pt", color="#222222")
    w.setMouseEnabled(x=False, y=False)
    w.hideButtons()
    w.setMenuEnabled(False)
    w.showGrid(x=False, y=True, alpha=0.2)
    w.setMinimumSize(240, 160)
    for side in ("left", "bottom"):
        w.getAxis(side).setStyle(tickFont=QFont(w.font().family(), 9))
    return w


class Charts:
    def __init__(self, parent: QWidget):
        self.rates = _plot("各村参保率（%）", "chart_rates")
        self.rates.addLegend(offset=(-8, 4), labelTextSize="9pt", brush=(255, 255, 255, 220))
        self.days = _plot("每日缴费笔数（按缴费方式）", "chart_days")
        self.days.addLegend(offset=(8, 4), labelTextSize="9pt", brush=(255, 255, 255, 220))
        self.drawn: dict = {}

    def widgets(self) -> list[QWidget]:
        return [self.rates, self.days]

    def show(self, summary: dict) -> None:
        self._rates(summary["campaign"])
        self._days(summary["days"])

    def _rates(self, camp: dict) -> None:
        p = self.rates
        p.clear()
        p.plotItem.legend.clear()
        rows = [v for v in camp["villages"] if v["registered"]]
        xs = list(range(len(rows)))
        values = [float(v["rate"]) for v in rows]
        target = float(camp["target"]["percent"]) if camp["target"] else None
        brushes = [
            pg.mkBrush(BEHIND if target is not None and r < target else AHEAD) for r in values
        ]
        p.addItem(pg.BarGraphItem(x=xs, height=values, width=0.6, brushes=brushes))
        last = [(x, float(v["last_rate"])) for x, v in zip(xs, rows, strict=True) if v["last_rate"]]
        if last:
            p.addItem(
                pg.ScatterPlotItem(
                    [x for x, _ in last], [y for _, y in last], symbol="t1", size=10,
                    brush=pg.mkBrush(LAST), pen=None, name="上年参保率",
                )
            )  # fmt: skip
        if target is not None:
            line = pg.InfiniteLine(
                pos=target, angle=0, pen=_dashed(BEHIND), label=f"目标 {target:.0f}%",
                labelOpts={"position": 0.02, "color": BEHIND, "anchors": [(0, 1), (0, 1)]},
            )  # fmt: skip
            p.addItem(line)
        p.getAxis("bottom").setTicks([[(x, v["village"]) for x, v in zip(xs, rows, strict=True)]])
        p.setYRange(0, 112, padding=0)
        p.setXRange(-0.6, max(len(rows), 1) - 0.4, padding=0)
        self.drawn["rates"] = values

    def _days(self, days: list[dict]) -> None:
        p = self.days
        p.clear()
        if p.plotItem.legend is not None:
            p.plotItem.legend.clear()
        dates = sorted({d["day"] for d in days})
        index = {d: i for i, d in enumerate(dates)}
        base = [0.0] * len(dates)
        totals: dict[str, int] = {}
        for method, color in METHOD_COLORS.items():
            heights = [0.0] * len(dates)
            for d in days:
                if d["channel"] == method:
                    heights[index[d["day"]]] = d["n"]
            if not any(heights):
                continue
            p.addItem(
                pg.BarGraphItem(
                    x=list(range(len(dates))), y0=list(base), height=heights, width=0.8,
                    brush=pg.mkBrush(color), pen=pg.mkPen(None), name=method,
                )
            )  # fmt: skip
            totals[method] = int(sum(heights))
            base = [b + h for b, h in zip(base, heights, strict=True)]
        step = max(1, len(dates) // 8)
        ticks = [(i, _md(d)) for i, d in enumerate(dates) if i % step == 0]
        p.getAxis("bottom").setTicks([ticks])
        if dates:
            p.setXRange(-0.6, len(dates) - 0.4, padding=0)
        self.drawn["days"] = totals


def _dashed(color: str) -> QPen:
    pen = QPen(QColor(color), 0)  # cosmetic: one pixel at any size
    pen.setStyle(Qt.PenStyle.DashLine)
    return pen


def _md(day: str) -> str:
    d = dt.date.fromisoformat(day)
    return f"{d.month}/{d.day}"
