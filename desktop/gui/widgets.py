"""Small presentation helpers shared by the pages: labelled inputs with an error line
beside them, Chinese error boxes, amount labels."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QMessageBox,
    QWidget,
)

from desktop.core.errors import ValidationError

log = logging.getLogger(__name__)

ERROR_STYLE = "color: #b00020;"
OK_STYLE = "color: #1b5e20;"
WARN_STYLE = "color: #8a5a00;"


class FieldForm:
    """A grid of ``label | input | error`` rows. ``show_errors`` puts each Chinese message
    beside its field (in words, not colour alone) and focuses the first wrong field."""

    def __init__(self, grid: QGridLayout | None = None):
        self.grid = grid or QGridLayout()
        self.inputs: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        self._row = 0

    def add(self, field: str, label: str, widget: QWidget) -> QWidget:
        lab = QLabel(label)
        lab.setBuddy(widget)
        err = QLabel("")
        err.setStyleSheet(ERROR_STYLE)
        err.setWordWrap(True)
        err.setObjectName(f"error_{field}")
        self.grid.addWidget(lab, self._row, 0, Qt.AlignmentFlag.AlignRight)
        self.grid.addWidget(widget, self._row, 1)
        self.grid.addWidget(err, self._row, 2)
        self.inputs[field] = widget
        self.errors[field] = err
        self._row += 1
        return widget

    def clear_errors(self) -> None:
        for lab in self.errors.values():
            lab.setText("")

    def show_errors(self, errors: dict[str, str]) -> list[str]:
        """Show messages beside their fields; returns the messages with no field here."""
        self.clear_errors()
        unplaced: list[str] = []
        first: QWidget | None = None
        for field, msg in errors.items():
            if field in self.errors:
                self.errors[field].setText("✗ " + msg)
                if first is None:
                    first = self.inputs[field]
            else:
                unplaced.append(msg)
        if first is not None:
            first.setFocus()
        return unplaced

    def error_text(self, field: str) -> str:
        return self.errors[field].text()


def describe_error(exc: BaseException) -> tuple[str, str]:
    """(short code, Chinese message) for an exception shown to the clerk."""
    import sqlite3

    from desktop.services.context import PermissionDenied
    from desktop.store.db import StoreError

    if isinstance(exc, ValidationError):
        return "E-INPUT", "；".join(exc.errors.values())
    if isinstance(exc, PermissionDenied | PermissionError):
        return "E-PERM", str(exc)
    if isinstance(exc, StoreError):
        return f"E-{exc.code}", str(exc)
    if isinstance(exc, sqlite3.OperationalError | OSError) and "full" in str(exc).lower():
        return "E-DISK-FULL", "磁盘空间已满，本次保存未完成，数据未丢失。请清理磁盘后重试。"
    if isinstance(exc, sqlite3.DatabaseError):
        return "E-STORE", "本地数据库出错，本次操作未保存。请重试；如仍失败请联系县医保局技术人员。"
    return "E-APP", "操作未完成，请重试；如仍失败请联系县医保局技术人员（详情已记入日志）。"


def show_error(parent: QWidget | None, exc: BaseException, title: str = "") -> None:
    code, msg = describe_error(exc)
    if code not in ("E-INPUT", "E-PERM"):
        log.error("error %s shown to the clerk", code, exc_info=exc)
    QMessageBox.warning(parent, title or "提示", f"{msg}\n\n（代码 {code}）")


def amount_label(text: str = "", *, big: bool = True) -> QLabel:
    lab = QLabel(text)
    f = QFont(lab.font())
    if big:
        f.setPointSizeF(f.pointSizeF() * 1.4)
        f.setBold(True)
    lab.setFont(f)
    lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return lab


def heading(text: str) -> QLabel:
    lab = QLabel(text)
    f = QFont(lab.font())
    f.setPointSizeF(f.pointSizeF() * 1.3)
    f.setBold(True)
    lab.setFont(f)
    return lab
