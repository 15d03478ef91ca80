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


def test_ctrl_l_locks_at_once_from_the_system_menu(qtbot, window):
    """A clerk stepping away locks the window herself (系统 → 锁定窗口, Ctrl+L), typing in
    a field or not; her password opens the same page with what she typed."""
    lock = window.idle_lock
    lock.timer.setInterval(600_000)  # the idle time is far off: only the key locks
    lock.timer.start()
    menu = [a.text() for a in window.system_menu.actions() if not a.isSeparator()]
    assert menu[-2:] == ["锁定窗口(&K)", "退出(&X)"]
    assert lock.action.shortcut().toString() == "Ctrl+L"
    page = window.show_page("registration")
    field = page.inputs["name"]
    field.setText("韩长根")
    window.activateWindow()
    field.setFocus()
    qtbot.waitUntil(field.hasFocus, timeout=2000)
    qtbot.keyClick(field, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert lock.locked and not window.centralWidget().isVisible()
    assert field.text() == "韩长根"  # the key locked; it typed nothing
    lock.action.trigger()  # again while locked: still the one dialog
    d = lock.dialog
    assert lock.locked and lock.dialog is d
    d.password.setText("clerk123")
    d.try_login()
    assert not lock.locked and window.centralWidget().isVisible()
    assert field.text() == "韩长根"
