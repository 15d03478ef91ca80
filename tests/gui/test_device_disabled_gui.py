"""When a sync finds that the county disabled this PC, the window says so plainly and
closes for good — no "unsaved input" question, nothing left on screen to work with."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

pytest.importorskip("pytestqt")


def test_the_window_says_so_and_closes_without_asking(qtbot, store, clerk, data_dir):
    from desktop.gui.app import create_qapplication, make_context
    from desktop.gui.main_window import MainWindow
    from desktop.sync import errors

    create_qapplication()
    ctx = make_context(store, clerk, data_dir)
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.resize(1366, 740)
    w.show()
    try:
        page = w.show_page("registration")
        page.inputs["name"].setText("韩长根")  # typed, not saved: no question asked now
        sync_page = w.show_page("sync")
        sync_page._failed(errors.DeviceDisabled())
        box = w.findChild(QMessageBox, "device_disabled")
        assert box is not None and box.isVisible()
        assert "已被县医保局停用" in box.text() and "E-SYNC-DISABLED" in box.text()
        assert not w.centralWidget().isEnabled()
        box.button(QMessageBox.StandardButton.Close).click()
        qtbot.waitUntil(lambda: not w.isVisible(), timeout=3000)
        assert w.disabled_for_good
    finally:
        ctx.tasks.shutdown()
