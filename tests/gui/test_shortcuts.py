"""Every key a clerk can press on a page does one thing (issue 11 item 8: Alt+P opened the
页面 menu instead of 打印测算单, Alt+S the 系统 menu instead of 立即同步). For each page the
test collects the window's keys (menu mnemonics, menu shortcuts) and the page's own (button
and label mnemonics, tab mnemonics, QShortcut and QAction keys) and fails on any clash."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QAbstractButton, QLabel, QTabWidget, QWidget

from desktop.gui.pages import PAGES

MNEMONIC = re.compile(r"&([^&])")


def _alt(text: str) -> str | None:
    m = MNEMONIC.search(text.replace("&&", ""))
    return f"Alt+{m.group(1).upper()}" if m else None


def _seq(key) -> str:
    return QKeySequence(key).toString(QKeySequence.SequenceFormat.PortableText)


def window_keys(window) -> list[tuple[str, str]]:
    keys = []
    for act in window.menuBar().actions():
        if (k := _alt(act.text())) is not None:
            keys.append((k, f"menu {act.text()}"))
        menu = act.menu()
        for sub in menu.actions() if menu else []:
            for seq in sub.shortcuts():
                keys.append((_seq(seq), f"menu item {sub.text()}"))
    return keys


def page_keys(page: QWidget) -> list[tuple[str, str]]:
    keys = []
    for b in page.findChildren(QAbstractButton):
        if b.isVisibleTo(page) and (k := _alt(b.text())):
            keys.append((k, f"button {b.text()}"))
    for lab in page.findChildren(QLabel):
        if lab.buddy() is not None and lab.isVisibleTo(page) and (k := _alt(lab.text())):
            keys.append((k, f"label {lab.text()}"))
    for tabs in page.findChildren(QTabWidget):
        for i in range(tabs.count()):
            if k := _alt(tabs.tabText(i)):
                keys.append((k, f"tab {tabs.tabText(i)}"))
    for sc in page.findChildren(QShortcut):
        if sc.isEnabled() and not sc.key().isEmpty():
            keys.append((_seq(sc.key()), f"shortcut {sc.objectName() or sc.key().toString()}"))
    for act in page.findChildren(QAction):
        for seq in act.shortcuts():
            keys.append((_seq(seq), f"action {act.text()}"))
    return keys


@pytest.fixture
def window(qtbot, store, admin, data_dir):
    from desktop.gui.app import make_context
    from desktop.gui.main_window import MainWindow

    ctx = make_context(store, admin, data_dir)
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.show()
    yield w
    w.close()
    ctx.tasks.shutdown()


@pytest.mark.parametrize("key", [p.key for p in PAGES])
def test_no_key_does_two_things_on_a_page(window, key):
    page = window.show_page(key)
    keys = window_keys(window) + page_keys(page)
    counts = Counter(k for k, _ in keys)
    clashes = {k: [w for kk, w in keys if kk == k] for k, n in counts.items() if n > 1}
    assert not clashes, f"on {key}: {clashes}"


def test_the_pages_own_alt_keys_are_seen(window):
    """The collector sees the keys the issue named (so the test above can fail)."""
    est = dict(page_keys(window.show_page("estimate")))
    assert est.get("Alt+P", "").startswith("button 打印测算单")
    sync = dict(page_keys(window.show_page("sync")))
    assert sync.get("Alt+S", "").startswith("button 立即同步")
    win = dict(window_keys(window))
    assert "Alt+P" not in win and "Alt+S" not in win
    assert win["F2"].startswith("menu item")


def test_an_alt_key_with_nothing_on_it_types_nothing(qtbot, window):
    """Alt+S on 同步 while 立即同步 is greyed out (not registered yet) typed "s" into the
    server address: an Alt+letter is a key, never text (AltGr still types)."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from desktop.gui.app import create_qapplication

    create_qapplication()  # the desk's application set-up (pytest-qt made the QApplication)
    page = window.show_page("sync")
    qtbot.waitUntil(lambda: not page.sync_button.isEnabled())  # not registered yet
    window.activateWindow()
    assert QTest.qWaitForWindowActive(window)
    page.server_edit.setFocus()
    qtbot.waitUntil(lambda: page.server_edit.hasFocus())
    qtbot.keyClick(page.server_edit, Qt.Key.Key_S, Qt.KeyboardModifier.AltModifier)
    qtbot.keyClick(page.server_edit, Qt.Key.Key_X, Qt.KeyboardModifier.AltModifier)
    assert page.server_edit.text() == ""
    qtbot.keyClicks(page.server_edit, "ybj.example.gov.cn")  # plain typing still types
    qtbot.keyClick(page.server_edit, Qt.Key.Key_At, Qt.KeyboardModifier.ShiftModifier)
    assert page.server_edit.text().startswith("ybj.example.gov.cn")
