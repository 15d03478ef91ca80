"""pytest-qt: 家庭变更 from the 参保登记 page as a clerk does it — Ctrl+E, choose the event,
预览 shows the effect, 确认办理 saves it; a field error stays beside the field and saves
nothing; the other pages see the change (缴费查询 refuses a payment after a death)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from core.errors import ValidationError
from desktop.services import contribution
from tests.contribution.conftest import TODAY

pytest.importorskip("pytestqt")
HEAD, SPOUSE, PARENT, SON = range(4)


@pytest.fixture
def ctx(qtbot, store, clerk, data_dir):
    from desktop.gui.app import create_qapplication, make_context

    create_qapplication()
    c = make_context(store, clerk, data_dir)
    yield c
    c.tasks.shutdown()


def settle(qtbot, ctx):
    qtbot.waitUntil(lambda: ctx.tasks.idle, timeout=5000)


@pytest.fixture
def page(qtbot, ctx, household):
    from desktop.gui.pages.registration import Page

    p = Page(ctx)
    qtbot.addWidget(p)
    p.resize(1300, 720)
    p.show()
    settle(qtbot, ctx)
    p.load_household(household["household_id"])
    qtbot.waitUntil(lambda: p.household is not None, timeout=5000)
    return p


def open_dialog(qtbot, page, ctx):
    qtbot.keyClick(page, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "last_household_events" in ctx.extras, timeout=3000)
    dlg = ctx.extras["last_household_events"]
    qtbot.waitUntil(dlg.isVisible, timeout=3000)
    return dlg


def choose(box, data):
    box.setCurrentIndex(box.findData(data))


def test_a_death_recorded_from_the_page(qtbot, page, ctx, store, household):
    ids = household["ids"]
    dlg = open_dialog(qtbot, page, ctx)
    choose(dlg.kind, "terminate")
    assert dlg.exit_reason.isVisible() and not dlg.target.isVisible()
    choose(dlg.person, ids[PARENT])
    choose(dlg.exit_reason, "death")
    dlg.exit_date.setText("2025-03-01")
    assert not dlg.apply_button.isEnabled()  # nothing saved before a preview
    qtbot.mouseClick(dlg.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dlg.apply_button.isEnabled, timeout=3000)
    assert "孙五" in dlg.effect.text() and "死亡" in dlg.effect.text()
    dlg.exit_date.setText("2025-03-02")  # a change after the preview asks for a new one
    assert not dlg.apply_button.isEnabled()
    qtbot.mouseClick(dlg.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dlg.apply_button.isEnabled, timeout=3000)
    qtbot.keyClick(dlg.apply_button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not dlg.isVisible(), timeout=3000)
    settle(qtbot, ctx)
    row = store.query_one("SELECT status, exit_date FROM person WHERE id = ?", (ids[PARENT],))
    assert row == {"status": 3, "exit_date": "2025-03-02"}
    assert "已办理家庭变更" in page.message.text()
    with pytest.raises(ValidationError) as e:
        contribution.check_payment(
            store,
            ctx.actor,
            {
                "person_id": ids[PARENT],
                "year": 2025,
                "amount": "400",
                "channel": "cash",
                "paid_on": "2025-03-10",
            },
            today=TODAY,
        )
    assert "2025-03-02" in e.value.errors.get("person_id", ""), e.value.errors


def test_a_refused_event_shows_beside_the_field_and_saves_nothing(
    qtbot, page, ctx, store, household
):
    dlg = open_dialog(qtbot, page, ctx)
    choose(dlg.kind, "change_head")
    choose(dlg.new_head, household["ids"][SPOUSE])  # no relation chosen for the old head
    before = store.query_one("SELECT COUNT(*) AS n FROM audit_log")["n"]
    qtbot.mouseClick(dlg.preview_button, Qt.MouseButton.LeftButton)
    settle(qtbot, ctx)
    qtbot.waitUntil(lambda: bool(dlg.form.error_text("old_head_relation")), timeout=3000)
    assert "关系" in dlg.form.error_text("old_head_relation")
    assert not dlg.apply_button.isEnabled()
    assert store.query_one("SELECT COUNT(*) AS n FROM audit_log")["n"] == before
    choose(dlg.old_head_relation, "spouse")
    qtbot.mouseClick(dlg.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dlg.apply_button.isEnabled, timeout=3000)
    qtbot.mouseClick(dlg.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dlg.isVisible(), timeout=3000)
    settle(qtbot, ctx)
    qtbot.waitUntil(lambda: "户主 李四" in page.mode_label.text(), timeout=3000)


def test_ctrl_e_without_a_household_says_what_to_do(qtbot, ctx):
    from desktop.gui.pages.registration import Page

    p = Page(ctx)
    qtbot.addWidget(p)
    p.show()
    settle(qtbot, ctx)
    qtbot.keyClick(p, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert "请先查找并打开一个家庭户" in p.message.text()
    assert "last_household_events" not in ctx.extras
