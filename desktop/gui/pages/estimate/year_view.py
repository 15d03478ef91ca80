"""全年结算: the chosen person's settled estimates of the year settled again in order, each
bill's counters carried from the one before, with the year's totals; a bill whose saved
result differs (settled with stale figures) is marked."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.money import yuan
from core.policy.benefits import estimate_kind
from desktop.services import estimate_year

COLUMNS = [
    ("n", "序号"),
    ("date", "结算日期"),
    ("setting", "就医类别"),
    ("medfee_sumamt", "医疗费总额"),
    ("hifp_pay", "统筹基金"),
    ("hifmi_pay", "大病保险"),
    ("maf_pay", "医疗救助"),
    ("fund_pay_sumamt", "基金合计"),
    ("psn_part_amt", "个人负担"),
    ("saved_fund", "当时测算基金合计"),
]
DIFFERS = QColor("#fde2e1")


class YearDialog(QDialog):
    def __init__(self, name: str, year: int, data: dict, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("全年结算 — {n} {y}年").format(n=name, y=year))
        lay = QVBoxLayout(self)
        bills = data["bills"]
        note = self.tr(
            "按结算先后依次重算本年已结算的 {k} 笔测算，每笔的本年累计数由前一笔结转。"
        ).format(k=len(bills))
        if data.get("skipped"):
            note += self.tr("另有 {s} 笔单独一层的测算未计入。").format(s=data["skipped"])
        self.differs = [
            b["n"] for b in bills if b.get("saved_fund") != b["result"]["fund_pay_sumamt"]
        ]
        if self.differs:
            note += self.tr("标红的 {k} 笔与当时测算不同（当时的本年累计数不是最新的）。").format(
                k=len(self.differs)
            )
        label = QLabel(note)
        label.setWordWrap(True)
        lay.addWidget(label)
        self.table = QTableWidget(len(bills) + 1, len(COLUMNS))
        self.table.setObjectName("estimate_year_table")
        self.table.setHorizontalHeaderLabels([self.tr(t) for _, t in COLUMNS])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        for r, b in enumerate(bills):
            values = {**b["result"], "n": str(b["n"]), "date": b["date"]}
            values["setting"] = estimate_kind(b["setting"])
            values["saved_fund"] = b.get("saved_fund") or ""
            self._row(r, values, b["n"] in self.differs)
        totals = {**data["totals"], "n": "", "date": self.tr("全年合计"), "setting": ""}
        self._row(len(bills), {**totals, "saved_fund": ""}, False, bold=True)
        lay.addWidget(self.table, 1)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        box.rejected.connect(self.reject)
        lay.addWidget(box)
        self.resize(1100, 420)

    def _row(self, r: int, values: dict, differs: bool, bold: bool = False) -> None:
        for c, (key, _t) in enumerate(COLUMNS):
            text = values.get(key) or ""
            money = key not in ("n", "date", "setting")
            item = QTableWidgetItem(yuan(Decimal(text)) if money and text else text)
            if money:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if differs:
                item.setBackground(QBrush(DIFFERS))
            if bold:
                f = item.font()
                f.setBold(True)
                item.setFont(f)
            self.table.setItem(r, c, item)


class _YearView:
    """全年结算 (part of the page)."""

    def show_year(self) -> None:
        if self._person is None:
            self.message.setText(self.tr("请先选择参保人，再做全年结算"))
            return
        store, pid, year = self.ctx.store, self._person["id"], self.year.value()
        name = self._person["name"]

        def shown(data: dict) -> None:
            self.year_dialog = YearDialog(name, year, data, self)
            self.year_dialog.open()

        self.query(lambda: estimate_year.person_year(store, pid, year), shown, self._failed)
