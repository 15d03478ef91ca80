"""Nothing typed is thrown away without asking (issue 11 item 4), and quitting during a save
shuts the workers down in order (item 12)."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication

pytest.importorskip("pytestqt")


@pytest.fixture
def ctx(qtbot, store, clerk, data_dir):
    from desktop.gui.app import create_qapplication, make_context

    create_qapplication()
    c = make_context(store, clerk, data_dir)
    yield c
    c.tasks.shutdown()


def type_chinese(widget, text):
    widget.setFocus()
    ev = QInputMethodEvent("", [])
    ev.setCommitString(text)
    QApplication.sendEvent(widget, ev)


@pytest.fixture
def page(qtbot, ctx):
    from desktop.gui.pages.registration import Page

    p = Page(ctx)
    qtbot.addWidget(p)
    p.resize(1200, 700)
    p.show()
    qtbot.waitUntil(lambda: p.village.count() >= 3)
    return p


def test_esc_asks_before_discarding_and_keeps_the_chosen_village(qtbot, page):
    asked = []
    page.ask_discard = lambda: asked.append(1) or False
    west = page.village.findText("西村")
    page.village.setCurrentIndex(west)
    page.village.activated.emit(west)  # the clerk picks 西村
    type_chinese(page.inputs["name"], "韩长根")
    assert page.has_unsaved_changes()
    qtbot.keyClick(page.inputs["name"], Qt.Key.Key_Escape)
    assert asked == [1] and page.inputs["name"].text() == "韩长根"  # kept: the clerk said no
    page.ask_discard = lambda: asked.append(2) or True
    qtbot.keyClick(page.inputs["name"], Qt.Key.Key_Escape)
    assert asked == [1, 2] and page.inputs["name"].text() == ""
    assert page.village.currentText() == "西村"  # not reset to the last saved village
    assert not page.has_unsaved_changes()
    # nothing typed: Esc does not ask
    qtbot.keyClick(page.inputs["name"], Qt.Key.Key_Escape)
    assert asked == [1, 2]


def test_a_stashed_member_counts_as_unsaved(qtbot, page):
    type_chinese(page.inputs["name"], "韩长根")
    qtbot.keyClick(page.inputs["name"], Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert page.inputs["name"].text() == ""  # the next member's blank form
    assert page.has_unsaved_changes()


def test_quitting_with_unsaved_typing_asks(qtbot, ctx):
    from desktop.gui.main_window import MainWindow

    win = MainWindow(ctx)
    qtbot.addWidget(win)
    win.show()
    reg = win.show_page("registration")
    qtbot.waitUntil(lambda: reg.village.count() >= 3)
    type_chinese(reg.inputs["name"], "韩长根")
    asked = []
    win.ask_quit_with_unsaved = lambda pages: asked.append(pages) or False
    win.close()  # Alt+F4, Ctrl+Q and the close button all come here
    assert asked == [["参保登记"]] and win.isVisible()
    win.ask_quit_with_unsaved = lambda pages: asked.append(pages) or True
    win.close()
    assert not win.isVisible()


def test_shutdown_finishes_the_running_save_and_starts_nothing_new(qtbot, ctx):
    """Alt+F4 during a save: the save completes, its callback runs on the GUI thread and
    the refresh it asks for is not started (no 'cannot schedule new futures after shutdown')."""
    started = threading.Event()
    release = threading.Event()
    seen = []

    def save():
        started.set()
        release.wait(5)
        return "saved"

    def saved(result):
        seen.append(result)
        ctx.tasks.run(lambda: seen.append("refresh ran"))  # a page refreshing after a save

    ctx.tasks.run(save, saved)
    assert started.wait(5)
    threading.Timer(0.2, release.set).start()
    ctx.tasks.shutdown()
    assert seen == ["saved"]
    ctx.tasks.run(lambda: seen.append("late"))  # refused quietly after shutdown
    qtbot.wait(50)
    assert seen == ["saved"]
