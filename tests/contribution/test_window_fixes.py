"""What a clerk hit at the window in December (issue 11 items 1, 9, 12): a year whose standard
has not reached the desk says what to do, with 立即同步 right there; the demo desk can collect
on the day it is tried; a wrong amount is refused before the confirmation, which a quick
second Enter cannot answer; selecting a paid year enables 打印收据."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog

pytest.importorskip("pytestqt")

DECEMBER = dt.date(2026, 12, 2)  # the campaign for 参保年度 2027 is open


def settle(qtbot, ctx):
    qtbot.waitUntil(lambda: ctx.tasks.idle, timeout=5000)
    qtbot.wait(10)
    qtbot.waitUntil(lambda: ctx.tasks.idle, timeout=5000)


def make_page(qtbot, ctx):
    from desktop.gui.pages.contribution import Page

    p = Page(ctx)
    qtbot.addWidget(p)
    p.resize(1300, 700)
    p.show()
    p.on_shown()
    settle(qtbot, ctx)
    return p


def find(qtbot, page, ctx, name):
    """Search by ID number, as the clerk types or scans it."""
    text = page.ctx.store.query_one("SELECT cert_no FROM person WHERE name = ?", (name,))["cert_no"]
    page.search.setFocus()
    page.search.clear()
    qtbot.keyClicks(page.search, text)
    qtbot.keyClick(page.search, Qt.Key.Key_Return)
    settle(qtbot, ctx)


def enter_amount(qtbot, page, ctx, text):
    page.amount.setFocus()
    page.amount.clear()
    qtbot.keyClicks(page.amount, text)
    qtbot.keyClick(page.amount, Qt.Key.Key_Return)
    settle(qtbot, ctx)


@pytest.fixture
def ctx(qtbot, store, clerk, data_dir):
    from desktop.gui.app import create_qapplication, make_context

    create_qapplication()
    c = make_context(store, clerk, data_dir)
    c.extras["today"] = DECEMBER
    yield c
    c.tasks.shutdown()


def test_a_missing_standard_says_what_to_do_with_a_sync_button(qtbot, ctx, store, household):
    from desktop.services import settings

    settings.update_settings(
        store,
        ctx.actor if ctx.actor.is_supervisor else _admin(store),
        {"county_phone": "0351-5710000"},
    )
    page = make_page(qtbot, ctx)
    find(qtbot, page, ctx, "李四")
    note = page.missing_note.text()
    assert "2026、2027参保年度的缴费标准还没有到达本机" in note
    assert "立即同步" in note and "0351-5710000" in note
    assert page.sync_now_btn.isVisible() and not page.pay_btn.isEnabled()
    assert "无政策文件" not in page.due_label.text()
    with qtbot.waitSignal(ctx.events.sync_requested, timeout=1000):
        qtbot.mouseClick(page.sync_now_btn, Qt.MouseButton.LeftButton)


def _admin(store):
    from desktop.services.context import Actor

    row = store.query_one(
        "SELECT id, username, display_name FROM operator WHERE role = 'supervisor'"
    )
    sp = store.query_one("SELECT id FROM service_point")["id"]
    return Actor(row["id"], row["username"], row["display_name"], "supervisor", sp)


def test_the_demo_desk_collects_this_campaign_on_the_day_it_is_tried(qtbot, store, data_dir):
    """The demo ships clearly marked 演示 standards for this and next 参保年度 (written into
    the demo data folder only) and data dated relative to today."""
    from desktop.gui.app import create_qapplication, make_context
    from desktop.services import policies
    from desktop.services.demo import seed_demo

    today = dt.date.today()
    clerk = seed_demo(store)
    demo_files = sorted(p.name for p in (data_dir / "policies").glob("*.toml"))
    assert demo_files == [
        f"demo-contribution-{today.year}.toml",
        f"demo-contribution-{today.year + 1}.toml",
    ]
    ps = policies.load(data_dir)
    for y in (today.year, today.year + 1):
        (pol,) = [p for p in ps.for_region_year("140121", y) if p.has("contribution")]
        assert pol.title.startswith("【演示】")
    # a real desk's folder gets no 演示 standard
    assert not any("demo" in p.id for p in policies.load(None).policies.values())
    create_qapplication()
    ctx = make_context(store, clerk, data_dir)
    try:
        page = make_page(qtbot, ctx)
        page.confirm = lambda text: True
        find(qtbot, page, ctx, "张三")
        next_year = today.year + (1 if today.month >= 9 else 0)
        assert page.pay_year.findData(next_year) >= 0 and page.pay_btn.isEnabled()
        enter_amount(qtbot, page, ctx, "400")
        paid = store.query_one(
            "SELECT year, paid_on FROM payment p JOIN person x ON x.id = p.person_id"
            " WHERE x.name = '张三' AND p.year = ?",
            (next_year,),
        )
        assert paid is not None and paid["paid_on"] == today.isoformat()
        assert "已收费" in page.pay_msg.text()
    finally:
        ctx.tasks.shutdown()


def test_a_wrong_amount_is_refused_before_the_confirmation(
    qtbot, store, clerk, data_dir, household
):
    from desktop.gui.app import create_qapplication, make_context

    create_qapplication()
    ctx = make_context(store, clerk, data_dir)
    ctx.extras["today"] = dt.date(2025, 3, 20)
    try:
        page = make_page(qtbot, ctx)
        asked = []
        page.confirm = lambda text: asked.append(text) or True
        find(qtbot, page, ctx, "李四")
        enter_amount(qtbot, page, ctx, "380")
        assert asked == []  # refused first, never confirmed
        assert "应缴 400.00 元" in page.form.error_text("amount")
        assert store.query_one("SELECT COUNT(*) AS n FROM payment")["n"] == 0
        enter_amount(qtbot, page, ctx, "400")
        assert len(asked) == 1 and "400" in asked[0]
        assert store.query_one("SELECT COUNT(*) AS n FROM payment")["n"] == 1
        # item 12: a paid year selected enables 打印收据, and it opens that receipt
        page.print_btn.setEnabled(False)
        page.last_result = None
        row = next(
            r for r in range(page.years.rowCount()) if page.years.item(r, 0).text() == "2025"
        )
        page.years.setCurrentCell(row, 0)
        page.years.selectRow(row)
        assert page.print_btn.isEnabled()
        receipt = store.query_one("SELECT receipt_no FROM payment")["receipt_no"]
        with qtbot.waitSignal(ctx.events.open_page, timeout=1000) as sig:
            qtbot.mouseClick(page.print_btn, Qt.MouseButton.LeftButton)
        assert sig.args == ["printing", receipt]
    finally:
        ctx.tasks.shutdown()


def test_the_confirmation_ignores_a_quick_second_enter(qtbot):
    from desktop.gui.widgets import ConfirmDialog

    d = ConfirmDialog(None, "确认收费", "确认收取 张三 2027年度 400 元（现金）？", "确认收费")
    qtbot.addWidget(d)
    d.show()
    qtbot.waitExposed(d)
    # the second Enter of a double press, to whatever has the keyboard
    qtbot.keyClick(QApplication.focusWidget() or d, Qt.Key.Key_Return)
    assert d.result() != QDialog.DialogCode.Accepted.value and d.isVisible()
    qtbot.waitUntil(d.yes.isEnabled, timeout=2000)
    qtbot.keyClick(d.focusWidget() or d, Qt.Key.Key_Return)
    assert d.result() == QDialog.DialogCode.Accepted.value
