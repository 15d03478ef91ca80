"""The 月报 and the 征缴进度 report: PDF (read back with pypdf) and Excel (openpyxl) carry the
figures of the home page as they stood at the period's end, and the generator's truth for
the month's payments; a report can be cancelled; a month not begun is refused in words."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from core.errors import ValidationError
from desktop.services import home, reports
from desktop.services.demo import write_demo_policies
from desktop.store.township import generate

TODAY = dt.date(2026, 12, 3)


@pytest.fixture
def township(store, admin, data_dir):
    write_demo_policies(data_dir, TODAY)
    return generate(store, residents=1_500, year=2027)


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    return text + "\n" + "".join(text.split())  # and once with the line breaks taken out


def test_monthly_report_pdf_and_excel(store, admin, township, tmp_path):
    from openpyxl import load_workbook

    steps = []
    facts = reports.monthly(
        store, admin, 2026, 11, today=TODAY, progress=lambda d, t, x: steps.append((d, t, x))
    )
    assert [s[0] for s in steps] == [0, 1, 2, 3]
    month_truth = {k: n for k, n in township["days"].items() if k[0].startswith("2026-11")}
    assert sum(sum(d.counts.values()) for d in facts.days) == sum(month_truth.values())
    assert {d.day for d in facts.days} == {k[0] for k in month_truth}
    camp = home.campaign(store, 2027, as_of=dt.date(2026, 11, 30))
    assert [v.registered for v in facts.villages] == [v["registered"] for v in camp["villages"]]
    assert facts.total.paid == camp["total"]["paid"]

    data = reports.pdf(facts)
    assert data.startswith(b"%PDF")
    (tmp_path / "月报.pdf").write_bytes(data)
    text = _pdf_text(data)
    assert "城乡居民医保服务点月报" in text and "2026年11月" in text
    for v in [*facts.villages, facts.total]:  # each row of the village table, cell by cell
        assert "".join(v.cells()) in text, v
    assert f"{facts.total.paid}" in text and "国办发〔2021〕36号" in text

    path = reports.xlsx(facts, tmp_path / "月报.xlsx")
    wb = load_workbook(path)
    ws = wb["各村征缴情况"]
    rows = [
        r
        for r in ws.iter_rows(values_only=True)
        if r and r[0] in {v.village for v in facts.villages}
    ]
    assert [(r[0], r[1], r[2], r[3], r[4]) for r in rows] == [
        (v.village, v.registered, v.paid, v.subsidized, v.unpaid) for v in facts.villages
    ]
    assert len(ws._charts) == 1 and len(wb["缴费日报"]._charts) == 1
    day_rows = list(wb["缴费日报"].iter_rows(min_row=2, values_only=True))
    assert sum(r[4] for r in day_rows) == sum(month_truth.values())


def test_campaign_report_and_refusals(store, admin, township):
    facts = reports.campaign_report(store, admin, 2027, today=TODAY)
    camp = home.campaign(store, 2027)
    assert facts.total.unpaid == camp["total"]["unpaid"]
    assert facts.start == dt.date(2026, 9, 1) and facts.end == TODAY
    assert sum(sum(d.counts.values()) for d in facts.days) == sum(township["days"].values())
    assert "征缴进度报表" in _pdf_text(reports.pdf(facts))
    with pytest.raises(ValidationError) as e:
        reports.monthly(store, admin, 2027, 1, today=TODAY)
    assert e.value.errors == {"month": "这个月还没有开始"}
    with pytest.raises(reports.ReportCancelled):
        reports.monthly(store, admin, 2026, 11, today=TODAY, cancelled=lambda: True)


def test_the_charts_legend_shows_last_years_mark_as_the_triangle_on_the_bars():
    """On paper last year's rate is a black triangle over each village's bar; the legend
    shows that triangle beside its name (not a square, which reads as another series)."""
    from reportlab.graphics.shapes import Group, Polygon, Rect, UserNode
    from reportlab.lib import colors

    from core.receipt import Chart
    from desktop.documents.charts import chart_drawing

    chart = Chart(
        "2027参保年度各村参保率（%）", ["东村", "南村", "西村"], [("参保率", [18.2, 9.1, 12.5])],
        target=95, target_label="目标 95%", marks=[45.5, None, 25.0], marks_label="上年参保率",
    )  # fmt: skip
    shapes = []

    def walk(node) -> None:  # what the renderer draws: widgets expanded, groups opened
        if isinstance(node, UserNode):
            walk(node.provideNode())
        elif isinstance(node, Group):
            for child in node.getContents():
                walk(child)
        else:
            shapes.append(node)

    walk(chart_drawing(chart, 480, "Helvetica"))
    black = [s for s in shapes if getattr(s, "fillColor", None) == colors.black]
    assert sum(isinstance(s, Polygon) for s in black) == 3  # two villages' marks + the legend
    assert not any(isinstance(s, Rect) for s in black)
