"""The GUI shell: the main window in Chinese, every page reachable from the keyboard."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")


@pytest.fixture
def window(qtbot, store, admin, data_dir):
    from desktop.gui.app import create_qapplication, make_context
    from desktop.gui.main_window import MainWindow

    create_qapplication()
    ctx = make_context(store, admin, data_dir)
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.show()
    yield w
    ctx.tasks.shutdown()


def test_header_names_service_point_and_operator(window):
    text = window.header.text()
    assert "示范乡卫生院" in text and "王主管" in text and "主管" in text


def test_every_page_opens_by_function_key(window, qtbot):
    from PySide6.QtCore import Qt

    from desktop.gui.pages import PAGES

    for spec in PAGES:
        *mods, key = spec.shortcut.split("+")
        modifier = Qt.KeyboardModifier.NoModifier
        for m in mods:
            modifier |= {"Alt": Qt.KeyboardModifier.AltModifier}[m]
        qtbot.keyClick(window, getattr(Qt.Key, f"Key_{key}"), modifier)
        assert window.stack.currentIndex() == PAGES.index(spec)
        assert window.page(spec.key).isVisible()


def test_status_bar_shows_sync_state_and_pending(window, qtbot):
    qtbot.waitUntil(lambda: "待上传" in window.pending_label.text())
    assert "尚未同步" in window.sync_label.text()
    window.set_sync_status({"state": "failed", "pending": 3, "last_sync_at": "2026-11-23T10:00:00"})
    assert "同步失败" in window.sync_label.text()
    assert "3" in window.pending_label.text()
    assert "2026-11-23 10:00" in window.last_sync_label.text()


def test_qt_standard_dialogs_are_translated(window):
    from PySide6.QtWidgets import QApplication

    assert QApplication.translate("QPlatformTheme", "Cancel") == "取消"


def test_a_page_shown_by_its_key_takes_the_keys_next_typed(window, qtbot):
    """Right after log-in (首页 in front, nothing with the keyboard) F4 showed 报销测算, made
    on first use, with the keyboard nowhere on it: the ID number typed next went nowhere
    (seen on the real screen). Each page shown by its key has the keyboard: its search box
    where it has one, else its first field."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from desktop.gui.pages import PAGES

    window.activateWindow()
    assert QTest.qWaitForWindowActive(window)
    window.setFocus()  # as after log-in: the window active, no field holding the keyboard
    qtbot.keyClick(window, Qt.Key.Key_F4)
    est = window.page("estimate")
    qtbot.waitUntil(lambda: QApplication.focusWidget() is est.search)
    qtbot.keyClicks(QApplication.focusWidget(), "hcg")
    assert est.search.text() == "hcg"
    for spec in PAGES:
        *mods, key = spec.shortcut.split("+")
        modifier = Qt.KeyboardModifier.NoModifier
        for m in mods:
            modifier |= {"Alt": Qt.KeyboardModifier.AltModifier}[m]
        qtbot.keyClick(window, getattr(Qt.Key, f"Key_{key}"), modifier)
        page = window.page(spec.key)
        qtbot.waitUntil(
            lambda page=page: page.isAncestorOf(QApplication.focusWidget()), timeout=2000
        )
    qtbot.keyClick(window, Qt.Key.Key_F5)  # 打印: the receipts' search box, not 纸张
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.page("printing").receipt_search)
    # back on 报销测算 from another page: the search box again, its text ready to replace
    qtbot.keyClick(window, Qt.Key.Key_F4)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is est.search)
    assert est.search.selectedText() == "hcg"


def test_every_page_has_its_own_icon_and_print_is_not_a_floppy_disk(window):
    """Each navigation entry's picture differs from the others; 打印 is not the style's
    save icon (a floppy disk reads as 保存 to a clerk)."""
    from PySide6.QtWidgets import QStyle

    def image(icon):
        return icon.pixmap(24, 24).toImage()

    pictures = [image(window.nav.item(i).icon()) for i in range(window.nav.count())]
    assert all(not p.isNull() for p in pictures)
    assert len({p.bits().tobytes() for p in pictures}) == len(pictures)
    printing = next(
        i for i in range(window.nav.count()) if window.nav.item(i).text().startswith("打印")
    )
    save = image(window.style().standardIcon(QStyle.StandardPixmap.SP_DialogSaveButton))
    assert pictures[printing] != save
