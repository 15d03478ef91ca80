"""pytest-qt: the 报销测算 page with the second-round rules (issue 13) — a disease's own
counters shown and filled from settled estimates, bed-days for 按床日, age and continuous
enrollment from the person's records, and 全年结算 for the person's settled estimates."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.estimate.test_estimate_page import choose, idle, table, type_amount
from tests.estimate.test_estimate_year import POLICY

pytest.importorskip("pytestqt")

EXTRA = """
[inpatient.continuous]
every_years = 1
ratio_add = "0.01"
max_add = "0.05"
from_years = 4
source = "连续参保满4年后每满1年提高1个百分点，累计不超过5个百分点"

[[assistance.additions]]
age_below = 18
ratio_add = "0.05"
source = "未成年人救助比例提高5个百分点"
"""


@pytest.fixture
def ctx(qtbot, store, data_dir):
    from desktop.gui.app import create_qapplication, make_context
    from desktop.services.demo import seed_demo

    (data_dir / "policies").mkdir(exist_ok=True)
    text = POLICY.replace('id = "year-test"', 'id = "page-test"') + EXTRA
    (data_dir / "policies" / "page-test.toml").write_text(text, encoding="utf-8")
    create_qapplication()
    clerk = seed_demo(store)
    c = make_context(store, clerk, data_dir)
    yield c
    c.tasks.shutdown()


@pytest.fixture
def page(qtbot, ctx):
    from desktop.gui.pages.estimate import Page

    p = Page(ctx)
    qtbot.addWidget(p)
    p.resize(1366, 740)
    p.show()
    qtbot.waitUntil(lambda: p.policy.count() > 0, timeout=5000)
    return p


def pick_person(qtbot, ctx, page, name):
    page.search.setText(name)
    qtbot.keyClick(page.search, Qt.Key.Key_Return)
    idle(qtbot, ctx)
    page.year.setValue(2025)
    idle(qtbot, ctx)


def run(qtbot, ctx, page):
    qtbot.mouseClick(page.run_button, Qt.MouseButton.LeftButton)
    idle(qtbot, ctx)


def save_and_settle(qtbot, ctx, page):
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    idle(qtbot, ctx)
    qtbot.mouseClick(page.settle_button, Qt.MouseButton.LeftButton)
    idle(qtbot, ctx)


def test_disease_counters_days_age_and_the_year(qtbot, ctx, page):
    person = ctx.store.query_one("SELECT id, name FROM person ORDER BY name LIMIT 1")
    pick_person(qtbot, ctx, page, person["name"])
    choose(page.policy, "page-test")
    choose(page.setting, "chronic")
    choose(page.level, "hypertension")
    # a disease with its own counter: its two figures are asked for, the section's too
    assert page.ytd["level_paid_ytd"].isVisible() and page.ytd["chronic_paid_ytd"].isVisible()
    assert page.age.isVisible()  # 救助 adds something for children
    assert page.age.value() >= 0  # … and the person's age is filled from the birth date
    assert not page.days.isVisible() and not page.continuous_years.isVisible()
    type_amount(qtbot, page, "in_policy", "600")
    run(qtbot, ctx, page)
    assert table(page.result_table)["hifp_pay"] == "240.00"
    save_and_settle(qtbot, ctx, page)
    choose(page.level, "diabetes")
    choose(page.level, "hypertension")
    idle(qtbot, ctx)
    qtbot.waitUntil(lambda: page.ytd["level_paid_ytd"].text() == "240.00", timeout=5000)
    choose(page.level, "diabetes")
    assert page.ytd["level_paid_ytd"].text() == "0.00"
    assert page.ytd["chronic_paid_ytd"].text() == "240.00"
    type_amount(qtbot, page, "in_policy", "800")
    run(qtbot, ctx, page)
    assert table(page.result_table)["hifp_pay"] == "240.00"  # 480 together, 240 used
    save_and_settle(qtbot, ctx, page)
    # 按床日 asks for the days; continuous enrollment shows for inpatient stays
    choose(page.setting, "inpatient")
    choose(page.level, "psychiatric")
    assert page.days.isVisible() and page.continuous_years.isVisible()
    page.days.setValue(10)
    type_amount(qtbot, page, "total", "5000")
    page.amounts["in_policy"].clear()
    run(qtbot, ctx, page)
    assert table(page.result_table)["hifp_pay"] == "1,200.00"
    save_and_settle(qtbot, ctx, page)
    # 全年结算: three bills in the order settled, the totals, none differing
    page.show_year()
    qtbot.waitUntil(lambda: getattr(page, "year_dialog", None) is not None, timeout=5000)
    dlg = page.year_dialog
    t = dlg.table
    assert t.rowCount() == 4 and dlg.differs == []
    assert [t.item(r, 4).text() for r in range(3)] == ["240.00", "240.00", "1,200.00"]
    assert t.item(3, 1).text() == "全年合计" and t.item(3, 4).text() == "1,680.00"
    dlg.close()
