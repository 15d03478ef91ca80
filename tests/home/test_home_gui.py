"""The home page (pytest-qt): the desk opens on it; its figures are the service's (which the
figure tests check against the truth and SQL); a village's 未缴 opens its campaign list with
that many names; 今日收费 opens the day sheets; the charts draw each village's rate and each
day's payments. A grab of the page is saved for the README."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from desktop.services import home
from desktop.services.demo import write_demo_policies
from desktop.store.township import generate

pytest.importorskip("pytestqt")
TODAY = dt.date(2026, 12, 3)


@pytest.fixture
def window(qtbot, store, admin, data_dir):
    from desktop.gui.app import create_qapplication, make_context
    from desktop.gui.main_window import MainWindow
    from desktop.services import setup

    write_demo_policies(data_dir, TODAY)
    for name in ("南村", "北村"):
        setup.add_village(store, name, by=admin)
    generate(store, residents=2_000, year=2027)
    create_qapplication()
    ctx = make_context(store, admin, data_dir)
    ctx.extras["today"] = TODAY
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.resize(1366, 740)
    w.show()
    yield w
    ctx.tasks.shutdown()


def _cells(table) -> list[list[str]]:
    return [
        [table.item(r, c).text() for c in range(table.columnCount())]
        for r in range(table.rowCount())
    ]


def test_home_shows_the_figures_and_opens_the_lists(qtbot, window, store):
    page = window.page("home")
    assert window.stack.currentIndex() == 0 and page.isVisible()  # the desk opens here
    qtbot.waitUntil(lambda: page.summary is not None, timeout=5000)
    want = home.summary(store, today=TODAY)
    rows = _cells(page.table)
    camp = want["campaign"]
    assert len(rows) == len(camp["villages"]) + 1 and rows[-1][0] == "合计"
    for row, v in zip(rows, camp["villages"], strict=False):
        assert row[:5] == [
            v["village"],
            str(v["registered"]),
            str(v["paid"]),
            str(v["subsidized"]),
            str(v["unpaid"]),
        ]
        assert row[5] == f"{v['rate']}%"
    assert rows[-1][1] == str(camp["total"]["registered"])
    w = want["work"]
    assert f"今日收费 {w['payments']} 笔，{w['payments_total']} 元" == page.pay_fig.text()
    assert "2027参保年度" in page.title.text() and "国办发〔2021〕36号" in page.target_note.text()
    qtbot.waitUntil(lambda: page.charts is not None and "days" in page.charts.drawn, timeout=5000)
    assert page.charts.drawn["rates"] == [float(v["rate"]) for v in camp["villages"]]
    assert sum(page.charts.drawn["days"].values()) == sum(d["n"] for d in want["days"])
    qtbot.wait(300)  # the charts laid out
    holder = window.stack.currentWidget()
    assert page.height() <= holder.viewport().height()  # no scrolling at 1366×740
    shots = os.environ.get("TOWNSHIP_SCREENSHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        window.grab().save(str(Path(shots) / "home.png"))

    # 未缴 of the first village: its campaign list, as many names
    first = camp["villages"][0]
    page.table.setCurrentCell(0, 4)
    page._cell_opened(0, 4)
    contrib = window.page("contribution")
    qtbot.waitUntil(lambda: contrib.campaign_result is not None, timeout=5000)
    assert window.stack.currentWidget().widget() is contrib
    assert contrib.campaign_result["unpaid_count"] == first["unpaid"]
    assert contrib.camp_table.rowCount() == first["unpaid"]
    assert contrib.camp_year.value() == 2027

    window.show_page("home")
    page.pay_fig.click()
    printing = window.page("printing")
    assert window.stack.currentWidget().widget() is printing
    assert printing.tabs.tabText(printing.tabs.currentIndex()) == "日结单"


def test_report_bar_builds_the_month_report_off_the_gui_thread(qtbot, window, tmp_path):
    from openpyxl import load_workbook

    page = window.page("home")
    bar = page.report_bar
    assert [bar.kind.itemText(i) for i in range(bar.kind.count())] == ["月报", "征缴进度报表"]
    bar.period.setCurrentIndex(1)
    assert bar.period.currentText() == "2026年11月"
    got: list[bytes] = []
    bar.make_pdf(got.append)
    qtbot.waitUntil(lambda: bool(got), timeout=20000)
    assert got[0].startswith(b"%PDF")
    path = tmp_path / "月报.xlsx"
    bar.export_xlsx(str(path))
    qtbot.waitUntil(lambda: "已导出" in bar.message.text(), timeout=20000)
    assert load_workbook(path)["各村征缴情况"]["A1"].value == "城乡居民医保服务点月报"
    bar.kind.setCurrentIndex(1)
    assert bar.period.currentText() == "2027参保年度"


WARNING_2026 = """[policy]
id = "county-warning-2026"
region = "140121"
year = 2026
title = "测试县因病返贫预警线（测试用）"
source = "测试数据：仅供测试"

[poverty_warning]
source = "测试数据：仅供测试"
income_per_capita = "10000.00"
income_source = "测试数据（测试用）"
share = "0.5"
share_source = "测试数据（测试用）"
categories = ["monitored"]
"""


def test_the_warning_list_from_the_home_page(qtbot, window, store, admin, data_dir):
    from desktop.services import estimate as est
    from desktop.services import policies

    page = window.page("home")
    qtbot.waitUntil(lambda: page.summary is not None, timeout=5000)
    assert page.alert_fig.text() == "因病返贫预警未启用"
    (data_dir / "policies" / "county-warning-2026.toml").write_text(WARNING_2026, "utf-8")
    policies.clear_cache()
    pid = store.query_one(
        "SELECT id FROM person WHERE insured_category = 'monitored' AND status != 3 LIMIT 1"
    )["id"]
    bill = {"setting": "inpatient", "price_class": "class2_county", "in_policy": "20000.00"}
    saved = est.save(store, admin, policy_id="shanxi-2025", given=bill, person_id=pid, year=2026,
                     data_dir=data_dir)  # fmt: skip
    page.summary = None
    window.ctx.tasks.run(lambda: est.mark_settled(store, admin, saved["id"]),
                         lambda _r: page.refresh())  # fmt: skip
    qtbot.waitUntil(lambda: page.summary is not None, timeout=5000)
    assert page.alert_fig.text() == "因病返贫预警 1 人"
    page.alert_fig.click()
    dlg = page.alerts_dialog
    qtbot.waitUntil(lambda: dlg.table.rowCount() == 1, timeout=5000)
    assert dlg.table.item(0, 6).text() == "5000.00" and dlg.table.item(0, 9).text() == "待上传"
    dlg.table.cellDoubleClicked.emit(0, 0)
    assert window.stack.currentWidget().widget() is window.page("estimate")


def test_the_charts_paint_what_they_are_given(qtbot):
    """The QPainter charts (issue 17): a village behind the target in red, one ahead in
    blue, the dashed target line, last year's mark; stacked days in the methods' colours."""
    from PySide6.QtGui import QColor

    from desktop.gui.pages.home import charts

    c = charts.Charts()
    for w in c.widgets():
        qtbot.addWidget(w)
        w.resize(420, 220)
    camp = {
        "villages": [
            {"village": "东村", "registered": 10, "rate": "40.0", "last_rate": "55.0"},
            {"village": "西村", "registered": 10, "rate": "96.0", "last_rate": None},
            {"village": "空村", "registered": 0, "rate": "0", "last_rate": None},
        ],
        "target": {"percent": "95"},
    }
    days = [
        {"day": "2026-10-01", "channel": "现金", "n": 3},
        {"day": "2026-10-01", "channel": "扫码支付", "n": 5},
        {"day": "2026-10-02", "channel": "现金", "n": 2},
    ]
    c.show({"campaign": camp, "days": days})
    assert c.drawn == {"rates": [40.0, 96.0], "days": {"现金": 5, "扫码支付": 5}}

    def colours(widget) -> set[str]:
        img = widget.grab().toImage()
        return {
            QColor(img.pixel(x, y)).name()
            for x in range(0, img.width(), 2)
            for y in range(0, img.height(), 2)
        }

    rates = colours(c.rates)
    assert {charts.BEHIND, charts.AHEAD, charts.LAST} <= rates
    day_colours = colours(c.days)
    assert {charts.METHOD_COLORS["现金"], charts.METHOD_COLORS["扫码支付"]} <= day_colours
    assert charts.METHOD_COLORS["银行代扣/转账"] not in day_colours  # no such payments
    assert "东村 40" in c.rates.accessibleDescription()
