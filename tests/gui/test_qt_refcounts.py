"""The Qt binding must not drop references to None, True and False.

PySide6 6.12.0 takes one reference from ``None`` at each call of a Qt method that returns
nothing (``update``, ``repaint``, ``fillRect`` … — a chart's paint makes dozens per draw):
on Python 3.11, where None is an ordinary counted object, the desk dies with "Fatal Python
error: none_dealloc" once the count reaches zero (found by bench/bench_home.py opening the
home page twenty times). 6.11.3 and earlier hold the count, and
pyproject.toml excludes 6.12.0. This test measures the installed binding, so a later release
with the same fault fails here before it reaches a service point."""

from __future__ import annotations

import sys

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QWidget

CALLS = 300


def _counts() -> tuple[int, int, int]:
    return sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)


class _Painted(QWidget):
    def __init__(self):
        super().__init__()
        self.painted = 0

    def paintEvent(self, event):  # noqa: N802 (Qt name): returns None, as every override
        self.painted += 1


class _Filter(QObject):
    def eventFilter(self, watched, event):  # noqa: N802 (Qt name): returns a bool
        return event.type() == QEvent.Type.User and False


def test_calls_returning_nothing_keep_the_count_of_none(qtbot):
    w = _Painted()
    qtbot.addWidget(w)
    w.resize(80, 60)
    w.show()
    qtbot.waitExposed(w)
    before = _counts()[0]
    for i in range(CALLS):
        w.move(i % 7, 0)
        w.update()
        w.grab()  # paints the widget into a picture: the paintEvent override each time
    assert w.painted >= CALLS
    # a few references come and go with the objects Qt hands over; a lost one per call is
    # the fault
    assert before - _counts()[0] < CALLS // 3


def test_overrides_returning_a_bool_keep_the_count_of_false(qtbot):
    w = QWidget()
    qtbot.addWidget(w)
    f = _Filter()
    w.installEventFilter(f)
    before = _counts()
    for _ in range(CALLS):
        w.event(QEvent(QEvent.Type.User))
        QWidget.event(w, QEvent(QEvent.Type.User))
    after = _counts()
    assert before[1] - after[1] < CALLS // 3 and before[2] - after[2] < CALLS // 3


def test_the_home_page_charts_repaint_without_losing_none(qtbot):
    from desktop.gui.pages.home.charts import Bar, BarChart

    w = BarChart("图", "chart_test")
    qtbot.addWidget(w)
    w.resize(300, 200)
    w.set_data([Bar("甲", [(3.0, "#4e79a7")], 2.0), Bar("乙", [(1.0, "#e15759")])], 4.0, target=2.5)
    w.show()
    qtbot.waitExposed(w)
    before = _counts()[0]
    for _ in range(CALLS):
        w.grab()
    assert before - _counts()[0] < CALLS // 3
