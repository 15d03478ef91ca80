"""Small widgets and texts of the 缴费查询 page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.gui.widgets import (
    ERROR_STYLE,
    FieldForm,
    Note,
)

GREEN, RED, AMBER, GREY = "#1b5e20", "#b00020", "#8a5a00", "#555555"


BANNER_STYLE = "background: #fff3cd; color: #5c4400; padding: 6px; border: 1px solid #e0c36c;"


class _Table(QTableWidget):
    def __init__(self, name: str, headers: list[str]):
        super().__init__(0, len(headers))
        self.setObjectName(name)
        self.setHorizontalHeaderLabels(headers)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setTabKeyNavigation(False)  # Tab moves on to the next field, not cell to cell
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(True)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        """A table asks for no more than its minimum: extra height goes to it only when the
        screen has room, so the page's messages below stay in view at 1366×728."""
        hint = super().sizeHint()
        if self.minimumHeight() > 0:
            hint.setHeight(self.minimumHeight())
        return hint

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentRow() >= 0:
            self.cellDoubleClicked.emit(self.currentRow(), 0)
            event.accept()
            return
        super().keyPressEvent(event)


def _item(text: Any, color: str | None = None, data: Any = None) -> QTableWidgetItem:
    it = QTableWidgetItem("" if text is None else str(text))
    if color:
        it.setForeground(QColor(color))
    if data is not None:
        it.setData(Qt.ItemDataRole.UserRole, data)
    return it


NO_BENEFITS = "本年度不享受待遇"


def no_benefits(r: dict) -> bool:
    """The waiting period ends after the 参保年度: paid (e.g. for continuity), no benefits."""
    return bool(r.get("benefits_from") and r.get("benefits_to")) and str(r["benefits_from"]) > str(
        r["benefits_to"]
    )


def status_words(row: dict, today: dt.date) -> tuple[str, str]:
    """(words, colour) for one year: 已缴 green, 未缴 red, 等待期 amber — words always."""
    st = row["status"]
    if st == "unpaid":
        return "未缴", RED
    if st == "no_policy":
        return "未发布缴费标准", GREY
    if row.get("in_waiting"):
        return f"等待期（至 {row['waiting_until']}）· {row['status_label']}", AMBER
    if (
        row.get("benefits_from")
        and row.get("benefits_to")
        and row["benefits_from"] > row["benefits_to"]
    ):
        return f"{row['status_label']} · 本年度无待遇", AMBER
    if st == "subsidized":
        return "资助参保（已缴）", GREEN
    return row["status_label"], GREEN


class SupervisorDialog(QDialog):
    """Void / refund: the reason, and a supervisor's user name and password. It stays open
    until the work is done: what is missing, a wrong password or a user who is no
    supervisor is said beside its box, and nothing typed is lost. ``submit(values, done)``
    does the work and calls ``done`` (:meth:`work_done`) with None (done: the dialog
    closes) or the messages by box (``reason``, ``username``, ``password``; any other key
    on the line under the boxes)."""

    def __init__(self, parent: QWidget | None, payment: dict, submit):
        super().__init__(parent)
        self.submit = submit
        self.setWindowTitle(self.tr("作废或退费（需主管确认）"))
        self.setMinimumWidth(560)
        lay = QVBoxLayout(self)
        lay.addWidget(
            QLabel(
                self.tr("缴费：")
                + f"{payment['year']}年度 {payment['amount']} 元 收据号 {payment['receipt_no']}"
            )
        )
        self.form = FieldForm()
        self.refund = QCheckBox(self.tr("退费（款项退还本人；已经县级确认的缴费只能退费）"))
        self.refund.setObjectName("refund")
        self.refund.setChecked(payment["status"] == "confirmed")
        self.reason = self.form.add("reason", self.tr("原因"), QLineEdit())
        self.reason.setObjectName("reason")
        self.reason.setPlaceholderText(self.tr("如：收错人了"))
        self.username = self.form.add("username", self.tr("主管用户名"), QLineEdit())
        self.username.setObjectName("supervisor_username")
        self.password = self.form.add("password", self.tr("主管密码"), QLineEdit())
        self.password.setObjectName("supervisor_password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.form.grid.setColumnStretch(1, 1)  # the boxes take the width (a reason is a sentence)
        lay.addWidget(self.refund)
        lay.addLayout(self.form.grid)
        self.message = Note()  # what concerns no box (the payment itself)
        self.message.setObjectName("void_message")
        self.message.setStyleSheet(ERROR_STYLE)
        lay.addWidget(self.message)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        buttons.accepted.connect(self.try_accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.reason.setFocus()

    def check(self) -> dict[str, str]:
        """What can be said before anything is asked of the store."""
        errors = {}
        if len(" ".join(self.reason.text().split())) < 2:
            errors["reason"] = self.tr("请填写原因（至少2个字）")
        if not self.username.text().strip():
            errors["username"] = self.tr("请主管输入用户名")
        if not self.password.text():
            errors["password"] = self.tr("请主管输入密码")
        return errors

    def try_accept(self) -> None:
        self.message.setText("")
        errors = self.check()
        if errors:
            self.form.show_errors(errors)
            return
        self.form.clear_errors()
        self.ok_button.setEnabled(False)  # a second Enter waits for the first
        self.submit(self.values(), self.work_done)

    def work_done(self, errors: dict[str, str] | None) -> None:
        self.ok_button.setEnabled(True)
        if errors is None:
            self.accept()
            return
        if "password" in errors:
            self.password.clear()  # a wrong password is typed again (before its message)
        self.message.setText("；".join(self.form.show_errors(errors)))

    def values(self) -> dict:
        return {
            "reason": self.reason.text(),
            "username": self.username.text(),
            "password": self.password.text(),
            "refund": self.refund.isChecked(),
        }
