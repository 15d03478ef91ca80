"""The home page's two charts, painted with Qt's own QPainter (no plotting library: issue 17
cut the bundle; pyqtgraph brought numpy and three more Qt modules, ~60 MB): the 参保率 of
each village against the target (bars, last year's rate as a mark, the target as a dashed
line), and payments per day of the campaign by method (stacked bars). Both are pictures
only; the figures themselves are in the table beside them."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QWidget

METHOD_COLORS = {"现金": "#4e79a7", "扫码支付": "#59a14f", "银行代扣/转账": "#f28e2b"}
BEHIND, AHEAD, LAST = "#e15759", "#4e79a7", "#333333"
TEXT, GRID = QColor("#333333"), QColor(0, 0, 0, 40)


@dataclass
class Bar:
    """One column: stacked parts from the bottom (value, colour); an optional mark above."""

    label: str
    parts: list[tuple[float, str]]
    mark: float | None = None


class BarChart(QWidget):
    def __init__(self, title: str, name: str):
        super().__init__()
        self.setObjectName(name)
        self.title = title
        self.bars: list[Bar] = []
        self.y_max = 1.0
        self.target: float | None = None
        self.legend: list[tuple[str, str, str]] = []  # (label, colour, "box" | "mark")
        self.label_step = 1
        self.setMinimumSize(240, 160)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name): two charts fit beside the table
        return QSize(420, 220)

    def set_data(self, bars: list[Bar], y_max: float, *, target=None, legend=(), step=1):
        self.bars, self.y_max, self.target = bars, max(y_max, 1.0), target
        self.legend, self.label_step = list(legend), max(1, step)
        self.setAccessibleDescription(
            "；".join(f"{b.label} {sum(v for v, _ in b.parts):g}" for b in bars)
        )
        self.update()

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), Qt.GlobalColor.white)
        small = QFont(self.font())
        small.setPointSizeF(9)
        big = QFont(self.font())
        big.setPointSizeF(11)
        fm = QFontMetrics(small)
        p.setFont(big)
        p.setPen(QColor("#222222"))
        title_h = QFontMetrics(big).height() + 6
        p.drawText(QRectF(0, 2, self.width(), title_h), Qt.AlignmentFlag.AlignCenter, self.title)
        ticks = _ticks(self.y_max)
        left = fm.horizontalAdvance(f"{ticks[-1]:g}") + 10
        legend_h = fm.height() + 2 if self.legend else 0
        plot = QRectF(left, title_h + legend_h + 8, self.width() - left - 8, 0)
        plot.setBottom(self.height() - fm.height() - 8)
        if plot.width() < 20 or plot.height() < 20:
            p.end()
            return
        p.setFont(small)
        self._axes(p, plot, ticks, fm)
        self._bars(p, plot, fm)
        if self.target is not None:
            self._target(p, plot, fm)
        self._legend(p, title_h + 2, fm)
        p.end()

    def _y(self, plot: QRectF, value: float) -> float:
        return plot.bottom() - plot.height() * min(value, self.y_max) / self.y_max

    def _axes(self, p: QPainter, plot: QRectF, ticks: list[float], fm: QFontMetrics) -> None:
        for t in ticks:
            y = self._y(plot, t)
            p.setPen(QPen(GRID, 1))
            p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            p.setPen(TEXT)
            r = QRectF(0, y - fm.height() / 2, plot.left() - 5, fm.height())
            p.drawText(r, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, f"{t:g}")
        p.setPen(QPen(TEXT, 1))
        p.drawLine(plot.bottomLeft(), plot.bottomRight())

    def _bars(self, p: QPainter, plot: QRectF, fm: QFontMetrics) -> None:
        n = max(len(self.bars), 1)
        slot = plot.width() / n
        width = slot * (0.6 if any(b.mark is not None for b in self.bars) else 0.8)
        for i, bar in enumerate(self.bars):
            x = plot.left() + slot * i + (slot - width) / 2
            base = 0.0
            for value, colour in bar.parts:
                top, bottom = self._y(plot, base + value), self._y(plot, base)
                p.fillRect(QRectF(x, top, width, bottom - top), QColor(colour))
                base += value
            if bar.mark is not None:
                _triangle(p, QPointF(x + width / 2, self._y(plot, bar.mark)), LAST)
            if i % self.label_step == 0:
                text = fm.elidedText(
                    bar.label, Qt.TextElideMode.ElideRight, int(slot * self.label_step)
                )
                p.setPen(TEXT)
                r = QRectF(x + width / 2 - slot * self.label_step / 2, plot.bottom() + 3,
                           slot * self.label_step, fm.height())  # fmt: skip
                p.drawText(r, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, text)

    def _target(self, p: QPainter, plot: QRectF, fm: QFontMetrics) -> None:
        y = self._y(plot, self.target)
        pen = QPen(QColor(BEHIND), 1.2)
        pen.setStyle(Qt.PenStyle.DashLine)
        p.setPen(pen)
        p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
        p.drawText(QPointF(plot.left() + 4, y - 3), f"目标 {self.target:.0f}%")

    def _legend(self, p: QPainter, top: float, fm: QFontMetrics) -> None:
        """One line under the title, right-aligned: a box (or a mark) and its label."""
        x = self.width() - 8.0
        for label, colour, kind in reversed(self.legend):
            x -= fm.horizontalAdvance(label)
            p.setPen(TEXT)
            p.drawText(QPointF(x, top + fm.ascent()), label)
            x -= 16
            if kind == "mark":
                _triangle(p, QPointF(x + 6, top + fm.height() / 2 - 4), colour)
            else:
                p.fillRect(QRectF(x + 1, top + 3, 10, fm.height() - 6), QColor(colour))
            x -= 14


def _triangle(p: QPainter, tip: QPointF, colour: str) -> None:
    """An upward mark whose tip sits on the value (last year's rate)."""
    path = QPainterPath(tip)
    path.lineTo(tip + QPointF(-5, 8))
    path.lineTo(tip + QPointF(5, 8))
    path.closeSubpath()
    p.fillPath(path, QColor(colour))


def _ticks(top: float) -> list[float]:
    """0 and round steps up to ``top`` (about four of them)."""
    raw = top / 4
    mag = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    return [k * step for k in range(int(top // step) + 1)]


class Charts:
    def __init__(self):
        self.rates = BarChart("各村参保率（%）", "chart_rates")
        self.days = BarChart("每日缴费笔数（按缴费方式）", "chart_days")
        self.drawn: dict = {}

    def widgets(self) -> list[QWidget]:
        return [self.rates, self.days]

    def show(self, summary: dict) -> None:
        self._rates(summary["campaign"])
        self._days(summary["days"])

    def _rates(self, camp: dict) -> None:
        rows = [v for v in camp["villages"] if v["registered"]]
        values = [float(v["rate"]) for v in rows]
        target = float(camp["target"]["percent"]) if camp["target"] else None
        bars = [
            Bar(
                v["village"],
                [(r, BEHIND if target is not None and r < target else AHEAD)],
                float(v["last_rate"]) if v["last_rate"] else None,
            )
            for v, r in zip(rows, values, strict=True)
        ]
        legend = [("上年参保率", LAST, "mark")] if any(b.mark is not None for b in bars) else []
        self.rates.set_data(bars, 100.0, target=target, legend=legend, step=_step(len(bars), 6))
        self.drawn["rates"] = values

    def _days(self, days: list[dict]) -> None:
        dates = sorted({d["day"] for d in days})
        counts = {(d["day"], d["channel"]): d["n"] for d in days}
        totals = {m: sum(counts.get((day, m), 0) for day in dates) for m in METHOD_COLORS}
        bars = [
            Bar(_md(day), [(float(counts.get((day, m), 0)), c) for m, c in METHOD_COLORS.items()])
            for day in dates
        ]
        top = max((sum(v for v, _ in b.parts) for b in bars), default=1.0)
        legend = [(m, c, "box") for m, c in METHOD_COLORS.items() if totals[m]]
        self.days.set_data(bars, top * 1.1, legend=legend, step=max(1, len(dates) // 8))
        self.drawn["days"] = {m: int(n) for m, n in totals.items() if n}


def _step(n: int, fit: int) -> int:
    return max(1, math.ceil(n / fit)) if n > fit else 1


def _md(day: str) -> str:
    d = dt.date.fromisoformat(day)
    return f"{d.month}/{d.day}"
