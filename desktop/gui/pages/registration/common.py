"""Small widgets and texts of the 参保登记 page."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.categories import (
    CERT_TYPES,
    ETHNICITIES,
    INSURED_CATEGORIES,
    PERSON_STATUS,
    RELATIONS,
    SEXES,
    SUBSIDY_CATEGORIES,
)

SEARCH_LIMIT = 50


MEMBER_FIELDS = (
    "name",
    "cert_type",
    "cert_no",
    "sex",
    "birth_date",
    "relation",
    "ethnicity",
    "phone",
    "insured_category",
    "subsidy_category",
    "status",
    "ecert_activated",
    "local_group",
)


def _combo(items: dict, name: str, blank: str | None = None) -> QComboBox:
    box = QComboBox()
    box.setObjectName(name)
    if blank is not None:
        box.addItem(blank, "")
    for code, label in items.items():
        box.addItem(label, code)
    return box


def _set_combo(box: QComboBox, value: Any) -> None:
    i = box.findData(value if value is not None else "")
    box.setCurrentIndex(max(i, 0))


class FormArea(QWidget):
    """The household + member form: Enter asks to save, Esc to cancel (the key events
    that line edits and combo boxes do not use bubble up to here)."""

    save_requested = Signal()
    cancel_requested = Signal()

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.save_requested.emit()
            event.accept()
        elif event.key() == Qt.Key.Key_Escape:
            self.cancel_requested.emit()
            event.accept()
        else:
            super().keyPressEvent(event)


class SearchBox(QLineEdit):
    escape_pressed = Signal()

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if event.key() == Qt.Key.Key_Escape:
            self.escape_pressed.emit()
            event.accept()
            return
        super().keyPressEvent(event)


class HistoryDialog(QDialog):
    ACTIONS = {"person.create": "登记", "person.update": "修改"}

    def __init__(self, name: str, history: list[dict], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("修改记录 — ") + name)
        self.resize(820, 420)
        lay = QVBoxLayout(self)
        self.table = QTableWidget(0, 4)
        self.table.setObjectName("history")
        self.table.setHorizontalHeaderLabels(
            [self.tr("时间"), self.tr("操作员"), self.tr("操作"), self.tr("内容")]
        )
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)  # no row numbers: the time orders them
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        for h in history:
            row = self.table.rowCount()
            self.table.insertRow(row)
            if h["changes"]:
                text = "；".join(
                    f"{c['label']}：{_show(c['field'], c['before'])} → {_show(c['field'], c['after'])}"
                    for c in h["changes"]
                )
            else:
                text = self.tr("首次登记") if h["action"] == "person.create" else ""
            for col, value in enumerate(
                (
                    h["at"].replace("T", " ")[:19],
                    h["operator"],
                    self.ACTIONS.get(h["action"], h["action"]),
                    text,
                )
            ):
                self.table.setItem(row, col, QTableWidgetItem(value))
        self.table.resizeColumnsToContents()
        self.table.setWordWrap(True)
        self.table.resizeRowsToContents()
        lay.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)


_LABELS = {
    "sex": SEXES,
    "relation": RELATIONS,
    "cert_type": CERT_TYPES,
    "ethnicity": ETHNICITIES,
    "insured_category": INSURED_CATEGORIES,
    "subsidy_category": SUBSIDY_CATEGORIES,
    "status": PERSON_STATUS,
    "ecert_activated": {0: "未激活", 1: "已激活"},
}


def _show(field: str, value: Any) -> str:
    if value in (None, ""):
        return "（空）"
    return str(_LABELS.get(field, {}).get(value, value))


def not_found_message(query: str) -> str:
    """A name or pinyin search that finds nobody proves little (a name typed another way, a
    reading of 长 or 乐 not tried): ask for the ID number before inviting a new registration,
    which would risk a duplicate. Only an ID-number search that finds nobody invites it."""
    q = (query or "").strip()
    by_number = bool(q) and sum(ch.isdigit() for ch in q) >= 6
    if by_number:
        return "没有找到这个证件号码，可在右侧登记新的家庭户"
    return "按姓名没有找到。请再用身份证号码查一次（可扫描），确认没有登记过再新建家庭户"


WARM_UP_MS = 800  # after the main window is on screen
