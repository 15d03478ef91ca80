"""Bar charts on paper (reports), drawn with reportlab's own graphics (vector: sharp on any
printer, nothing rasterised): bars per category, stacked series, a dashed target line, a
mark per category (last year's rate) and a legend — every label in the embedded font."""

from __future__ import annotations

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, Line, Polygon, String
from reportlab.graphics.widgetbase import Widget
from reportlab.lib import colors
from reportlab.lib.attrmap import AttrMap, AttrMapValue
from reportlab.lib.units import mm
from reportlab.lib.validators import isNumber

from core.receipt import Chart

PALETTE = [colors.HexColor(c) for c in ("#4e79a7", "#59a14f", "#f28e2b", "#e15759")]
TARGET = colors.HexColor("#e15759")


def _triangle(x: float, y: float) -> Polygon:
    """The mark of a category's other figure (last year's rate): a black triangle, centred
    on (x, y), on the bars and in the legend alike."""
    return Polygon([x - 3, y - 2.5, x + 3, y - 2.5, x, y + 2.5], fillColor=colors.black,
                   strokeColor=None)  # fmt: skip


class TriangleSwatch(Widget):
    """The legend's swatch for the marks (reportlab's Legend places a swatch widget by its
    x, y, width and height): the same triangle as on the bars, not a square."""

    _attrMap = AttrMap(
        x=AttrMapValue(isNumber), y=AttrMapValue(isNumber),
        width=AttrMapValue(isNumber), height=AttrMapValue(isNumber),
    )  # fmt: skip

    def __init__(self):
        self.x = self.y = 0
        self.width = self.height = 7

    def draw(self) -> Polygon:
        return _triangle(self.x + self.width / 2, self.y + self.height / 2)


def chart_drawing(chart: Chart, width: float, font: str, height: float = 62 * mm) -> Drawing:
    d = Drawing(width, height)
    d.add(String(width / 2, height - 10, chart.title, fontName=font, fontSize=9.5,
                 textAnchor="middle"))  # fmt: skip
    bc = VerticalBarChart()
    bc.x, bc.y = 34, 26
    bc.width, bc.height = width - 44, height - 50
    bc.data = [values for _name, values in chart.series] or [[0]]
    bc.categoryAxis.categoryNames = chart.categories or [""]
    bc.categoryAxis.labels.fontName = font
    bc.categoryAxis.labels.fontSize = 7 if len(chart.categories) <= 12 else 5.5
    if len(chart.categories) > 12:
        bc.categoryAxis.labels.angle = 60
        bc.categoryAxis.labels.boxAnchor = "ne"
    bc.valueAxis.labels.fontName = font
    bc.valueAxis.labels.fontSize = 7
    bc.valueAxis.valueMin = 0
    peak = max([sum(col) for col in zip(*bc.data, strict=True)] + [chart.target or 0, 1])
    if chart.unit == "%":
        peak = max(peak, 100)
    bc.valueAxis.valueMax = peak * 1.1
    bc.categoryAxis.style = "stacked" if len(chart.series) > 1 else "parallel"
    bc.barSpacing = 0.5
    for i in range(len(bc.data)):
        bc.bars[i].fillColor = PALETTE[i % len(PALETTE)]
        bc.bars[i].strokeColor = None
    d.add(bc)
    n = max(len(chart.categories), 1)

    def y_of(v: float) -> float:
        return bc.y + bc.height * v / bc.valueAxis.valueMax

    if chart.target is not None:
        y = y_of(chart.target)
        d.add(Line(bc.x, y, bc.x + bc.width, y, strokeColor=TARGET, strokeWidth=0.8,
                   strokeDashArray=[3, 2]))  # fmt: skip
        d.add(String(bc.x + bc.width, y + 2, chart.target_label, fontName=font, fontSize=7,
                     fillColor=TARGET, textAnchor="end"))  # fmt: skip
    for i, v in enumerate(chart.marks):
        if v is None:
            continue
        d.add(_triangle(bc.x + (i + 0.5) * bc.width / n, y_of(v) + 0.5))
    names = [name for name, _v in chart.series] if len(chart.series) > 1 else []
    if names or chart.marks_label and any(m is not None for m in chart.marks):
        lg = Legend()
        lg.fontName, lg.fontSize = font, 7
        lg.x, lg.y = 40, height - 16
        lg.alignment, lg.columnMaximum, lg.dx, lg.dy = "right", 1, 7, 7
        pairs = [(PALETTE[i % len(PALETTE)], n_) for i, n_ in enumerate(names)]
        if chart.marks_label and any(m is not None for m in chart.marks):
            pairs.append((TriangleSwatch(), chart.marks_label))
        lg.colorNamePairs = pairs
        d.add(lg)
    return d
