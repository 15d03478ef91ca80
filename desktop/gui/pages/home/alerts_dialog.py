"""The 预警 list (因病返贫): residents in a watched category whose personal burden this year
reached the county's line, whether the county has the warning yet; a double-click opens the
person's estimates."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from desktop.gui.pages.base import StoreWork
from desktop.gui.widgets import fit_columns
from desktop.services import alerts

COLUMNS = [
    ("name", "姓名"),
    ("cert_masked", "证件号码"),
    ("village", "村"),
    ("category", "人员类别"),
    ("year", "年度"),
    ("burden", "本年个人负担（元）"),
    ("threshold", "预警线（元）"),
    ("basis", "依据"),
    ("created_at", "列入时间"),
    ("sent", "县医保局"),
]


class AlertsDialog(QDialog, StoreWork):
    error_title = "因病返贫预警"

    def __init__(self, parent, ctx, status: dict):
        super().__init__(parent)
        self.ctx = ctx
        self.rows: list[dict] = []
        self.setWindowTitle(self.tr("因病返贫预警名单"))
        self.resize(1100, 480)
        lay = QVBoxLayout(self)
        note = (
            f"本年个人负担达到 {status['threshold']} 元的特殊人群（依据：{status['cite']}）。"
            "名单随同步报县医保局，由县医保局推送民政部门。"
            if status["configured"]
            else "县医保局尚未在政策文件中设定本年度的预警线，暂不预警。"
        )
        head = QLabel(self.tr(note))
        head.setWordWrap(True)
        lay.addWidget(head)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("alerts_table")
        self.table.setHorizontalHeaderLabels([label for _k, label in COLUMNS])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.cellDoubleClicked.connect(self._open)
        lay.addWidget(self.table, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        store = ctx.store
        self.query(lambda: alerts.listing(store), self._fill)

    def _fill(self, rows: list[dict]) -> None:
        self.rows = rows
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            for c, (key, _label) in enumerate(COLUMNS):
                self.table.setItem(i, c, QTableWidgetItem(str(r[key])))
        fit_columns(self.table)

    def _open(self, row: int, _col: int) -> None:
        if 0 <= row < len(self.rows):
            self.ctx.events.open_page.emit("estimate", self.rows[row]["person_id"])
            self.accept()
