"""At 1366×768 every hint a box shows while empty (its placeholder) fits the box whole: the
报销测算 page's 政策范围内金额 said "可直接填…" and its search box lost "回车查找". A hint too
long for its box is shortened, the whole of it going to the box's tooltip."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QLineEdit, QStyle, QStyleOptionFrame

from desktop.gui.pages import PAGES


@pytest.fixture
def window(qtbot, store, admin, data_dir):
    from desktop.gui.app import make_context
    from desktop.gui.main_window import MainWindow

    ctx = make_context(store, admin, data_dir)
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.resize(1366, 768)
    w.show()
    yield w
    w.close()
    ctx.tasks.shutdown()


def text_room(edit: QLineEdit) -> int:
    """The width a line edit gives its text (its frame, margins and buttons off)."""
    opt = QStyleOptionFrame()
    edit.initStyleOption(opt)
    rect = edit.style().subElementRect(QStyle.SubElement.SE_LineEditContents, opt, edit)
    margins = edit.textMargins()
    room = rect.width() - margins.left() - margins.right() - 4  # QLineEdit's own 2 px a side
    if edit.isClearButtonEnabled():
        room -= edit.height()  # the clear button's place, kept even while the box is empty
    return room


def too_long(page) -> list[str]:
    out = []
    for edit in page.findChildren(QLineEdit):
        hint = edit.placeholderText()
        if not hint or not edit.isVisibleTo(page) or edit.width() <= 0:
            continue
        need = edit.fontMetrics().horizontalAdvance(hint)
        if need > text_room(edit):
            out.append(f"{hint!r}: {need} px in {text_room(edit)} px")
    return out


@pytest.mark.parametrize("key", [p.key for p in PAGES])
def test_every_hint_fits_its_box(qtbot, window, key):
    page = window.show_page(key)
    qtbot.wait(50)
    assert window.height() == 768
    assert not too_long(page), f"on {key}"


def test_a_hint_cut_short_is_seen(qtbot, window):
    """The measure above fails on a hint longer than its box (so it can fail)."""
    page = window.show_page("estimate")
    qtbot.wait(50)
    box = page.amounts["in_policy"]
    box.setPlaceholderText("可直接填写，或按明细计算")
    assert too_long(page) and "可直接填写" in too_long(page)[0]
