"""The idle lock (issue 14 item 2): after the idle time the pages hide and a password is
asked; the operator's password (or another operator's log-in) opens the same page with
what was typed still there. The time is a setting (1–120 minutes, default 10)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from core.errors import ValidationError
from desktop.services import settings

pytest.importorskip("pytestqt")


@pytest.fixture
def window(qtbot, store, clerk, data_dir):
    from desktop.gui.app import create_qapplication, make_context
    from desktop.gui.idle_lock import IdleLock
    from desktop.gui.main_window import MainWindow

    create_qapplication()
    ctx = make_context(store, clerk, data_dir)
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.resize(1366, 740)
    w.show()
    w.idle_lock = IdleLock(w, ctx, idle_ms=300)
    yield w
    w.idle_lock.stop()
    if w.idle_lock.dialog is not None:
        w.idle_lock.dialog.done(0)
    ctx.tasks.shutdown()


def test_locks_when_idle_and_resumes_the_same_page(qtbot, window, store, admin):
    page = window.show_page("registration")
    page.inputs["name"].setText("韩长根")  # typed, not saved
    lock = window.idle_lock
    qtbot.waitUntil(lambda: lock.locked, timeout=3000)
    assert not window.centralWidget().isVisible()  # no resident's data on screen
    d = lock.dialog
    assert "锁定" in d.windowTitle() and d.username.text() == "clerk1"
    d.password.setText("wrong")
    d.try_login()
    assert lock.locked and "不正确" in d.form.error_text("password")
    d.reject()  # Esc does not get round it
    qtbot.waitUntil(lambda: lock.dialog is not None and lock.dialog is not d, timeout=2000)
    d = lock.dialog
    d.password.setText("clerk123")
    d.try_login()
    assert not lock.locked and window.centralWidget().isVisible()
    assert window.stack.currentWidget().widget() is page or window.nav.currentRow() == 0
    assert page.inputs["name"].text() == "韩长根"
    # activity keeps it open; idling again locks again, and another operator may take over
    qtbot.keyClick(page.inputs["name"], Qt.Key.Key_End)
    assert not lock.locked
    qtbot.waitUntil(lambda: lock.locked, timeout=3000)
    d = lock.dialog
    d.username.setText("admin")
    d.password.setText("admin123")
    d.try_login()
    assert window.ctx.actor.username == "admin" and "王主管" in window.header.text()


def test_the_idle_time_is_a_checked_setting(store, admin):
    assert settings.get_settings(store).idle_minutes == "10"
    with pytest.raises(ValidationError) as e:
        settings.update_settings(store, admin, {"idle_minutes": "0"})
    assert "1至120分钟" in e.value.errors["idle_minutes"]
    assert settings.update_settings(store, admin, {"idle_minutes": "5"}).idle_minutes == "5"
