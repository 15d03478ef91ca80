"""The data folder's single-window lock (desktop.gui.one_window), in one process: a second
claim on the same folder is refused and can wake the first; another folder is another
desk; a released lock can be taken again; the window comes back from the taskbar."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")


@pytest.fixture
def app(qtbot):
    from desktop.gui.app import create_qapplication

    return create_qapplication()


def test_one_window_per_folder_and_the_second_wakes_the_first(app, qtbot, tmp_path):
    from desktop.gui.one_window import OneWindow

    first, second = OneWindow(tmp_path / "a"), OneWindow(tmp_path / "a")
    assert first.claim()
    qtbot.waitUntil(lambda: first.server is not None and first.server.isListening())
    try:
        assert not second.claim()
        with qtbot.waitSignal(first.asked, timeout=3000):
            assert second.wake_other()
        other = OneWindow(tmp_path / "b")  # another data folder is another desk
        assert other.claim()
        other.release()
    finally:
        first.release()
    third = OneWindow(tmp_path / "a")
    assert third.claim()  # once let go, the folder's next start takes it
    third.release()


def test_nobody_answers_when_no_window_is_open(app, tmp_path):
    from desktop.gui.one_window import OneWindow

    assert not OneWindow(tmp_path / "c").wake_other(timeout_ms=300)


def test_the_window_comes_back_from_the_taskbar(app, qtbot):
    from PySide6.QtWidgets import QMainWindow

    from desktop.gui.one_window import bring_to_front

    w = QMainWindow()
    qtbot.addWidget(w)
    w.showMinimized()
    qtbot.waitUntil(w.isMinimized)
    bring_to_front()
    qtbot.waitUntil(lambda: not w.isMinimized())
    assert w.isVisible()
