"""打印 page: the documents this desk can print — recent receipts, enrollment certificates
by village (one or a whole village as a batch), estimate sheets and operators' day sheets —
with preview, printer choice (QPrintDialog), save as PDF, how often each was handed out,
and a box to check a receipt's verification code.

Presentation only: lists and documents come from :mod:`desktop.services.receipts` through
``ctx.tasks``; previews and printing go through :mod:`desktop.gui.print_support`, which
records every print, reprint, failure and saved PDF via the service.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.gui import print_support
from desktop.gui.pages.base import Page as BasePage
from desktop.gui.widgets import ERROR_STYLE, OK_STYLE, heading, show_error

PAPERS = [("", "按设置"), ("A4", "A4"), ("A5", "A5（半页）")]


def _table(headers: list[str]) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setHorizontalHeaderLabels(headers)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.verticalHeader().setVisible(False)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    t.horizontalHeader().setStretchLastSection(True)
    t.setAlternatingRowColors(True)
    t.setTabKeyNavigation(False)  # Tab moves on to the next field, not cell to cell
    return t


# money and counts line up on the right, as on the paper forms
NUMBER_HEADERS = {"金额（元）", "笔数", "实收（元）", "总费用", "个人负担"}
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


def _fill(table: QTableWidget, rows: list[list[str]], keys: list[object]) -> None:
    table.setRowCount(0)
    numbers = {
        c
        for c in range(table.columnCount())
        if table.horizontalHeaderItem(c).text() in NUMBER_HEADERS
    }
    for r, (cells, key) in enumerate(zip(rows, keys, strict=True)):
        table.insertRow(r)
        for c, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if c in numbers:
                item.setTextAlignment(RIGHT)
            if c == 0:
                item.setData(Qt.ItemDataRole.UserRole, key)
            table.setItem(r, c, item)
    if rows:
        table.selectRow(0)


def _copies(n: int) -> str:
    return "未打印" if not n else f"已出 {n} 份"


class Page(BasePage):
    error_title = "打印"
    RECEIPT_HEADERS = [
        "收据号",
        "缴费日期",
        "姓名",
        "证件号码",
        "年度",
        "金额（元）",
        "方式",
        "状态",
        "打印",
    ]
    CERT_HEADERS = ["村", "姓名", "证件号码", "年度", "缴费状态", "打印"]
    ESTIMATE_HEADERS = ["测算时间", "姓名/备注", "年度", "就医类型", "总费用", "个人负担", "经办人"]
    DAY_HEADERS = ["日期", "笔数", "实收（元）", "经办人"]  # the last column stretches

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(ctx, parent)
        self.ctx = ctx
        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(heading(self.tr("打印单据")))
        top.addStretch(1)
        top.addWidget(QLabel(self.tr("纸张：")))
        self.paper = QComboBox()
        for code, label in PAPERS:
            self.paper.addItem(self.tr(label), code)
        top.addWidget(self.paper)
        lay.addLayout(top)

        self.tabs = QTabWidget()
        self.tabs.addTab(self._receipts_tab(), self.tr("缴费凭证"))
        self.tabs.addTab(self._certificates_tab(), self.tr("参保凭证"))
        self.tabs.addTab(self._estimates_tab(), self.tr("报销测算单"))
        self.tabs.addTab(self._days_tab(), self.tr("日结单"))
        lay.addWidget(self.tabs, 1)

        verify = QHBoxLayout()
        verify.addWidget(QLabel(self.tr("核验收据校验码：")))
        self.verify_input = QLineEdit()
        self.verify_input.setPlaceholderText(self.tr("扫描二维码或输入 TDR1|… 校验码，回车核验"))
        self.verify_input.returnPressed.connect(self.verify)
        verify.addWidget(self.verify_input, 1)
        self.verify_button = QPushButton(self.tr("核验"))
        self.verify_button.clicked.connect(self.verify)
        verify.addWidget(self.verify_button)
        lay.addLayout(verify)
        self.verify_result = QLabel("")
        self.verify_result.setWordWrap(True)
        lay.addWidget(self.verify_result)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        lay.addWidget(self.message)

        QShortcut(QKeySequence.StandardKey.Print, self, activated=self.print_current)
        ctx.events.data_changed.connect(self._data_changed)
        self.refresh()

    # ---------------------------------------------------------------- other pages

    def on_shown(self) -> None:
        """The main window shows the page: lists may be stale (payments made elsewhere)."""
        self.refresh()

    def focus_search(self) -> None:
        """缴费凭证: the cursor in its search box (a receipt number, a name or an ID number
        typed next); another tab: its list, where the arrow keys choose."""
        if self.tabs.currentIndex() == 0:
            self.receipt_search.setFocus()
            self.receipt_search.selectAll()
            return
        lists = self.tabs.currentWidget().findChildren(QAbstractItemView)
        if lists:
            lists[0].setFocus()

    def open_item(self, arg) -> None:
        """Another page asks to print a receipt (``arg`` = receipt no, e.g. right after a
        payment): list it, select it and open its preview."""
        from desktop.services import receipts  # as the page's other tabs: loaded when used

        if arg == "day_sheets":  # 首页's 今日收费: the day sheets, today's first
            self.tabs.setCurrentIndex(3)
            return
        no = str(arg or "").strip().upper()
        if receipts.parse_receipt_no(no) is None:
            return
        self.tabs.setCurrentIndex(0)
        self.receipt_search.setText(no)
        self.load_receipts(then=lambda: self._print("receipt", no))

    # ---------------------------------------------------------------- tabs

    def _receipts_tab(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        row = QHBoxLayout()
        self.receipt_search = QLineEdit()
        self.receipt_search.setPlaceholderText(self.tr("收据号、姓名或身份证号，回车查找"))
        self.receipt_search.returnPressed.connect(lambda: self.load_receipts())
        row.addWidget(self.receipt_search, 1)
        self.receipt_print = QPushButton(self.tr("预览并打印(&R)"))
        self.receipt_print.clicked.connect(self.print_receipt)
        row.addWidget(self.receipt_print)
        lay.addLayout(row)
        self.receipts = _table([self.tr(h) for h in self.RECEIPT_HEADERS])
        self.receipts.activated.connect(lambda _i: self.print_receipt())
        lay.addWidget(self.receipts, 1)
        return w

    def _certificates_tab(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        row = QHBoxLayout()
        row.addWidget(QLabel(self.tr("参保年度：")))
        self.cert_year = QSpinBox()
        self.cert_year.setRange(2000, 2100)
        self.cert_year.setValue(self._today().year)
        self.cert_year.valueChanged.connect(lambda _v: self.load_certificates())
        row.addWidget(self.cert_year)
        row.addWidget(QLabel(self.tr("村（居委会）：")))
        self.cert_village = QComboBox()
        self.cert_village.addItem(self.tr("全部"), None)
        self.cert_village.currentIndexChanged.connect(lambda _i: self.load_certificates())
        row.addWidget(self.cert_village, 1)
        self.cert_print = QPushButton(self.tr("打印所选(&C)"))
        self.cert_print.clicked.connect(self.print_certificate)
        self.cert_batch = QPushButton(self.tr("批量打印列表中全部(&B)"))
        self.cert_batch.clicked.connect(self.print_village)
        row.addWidget(self.cert_print)
        row.addWidget(self.cert_batch)
        lay.addLayout(row)
        self.certificates = _table([self.tr(h) for h in self.CERT_HEADERS])
        self.certificates.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.certificates.activated.connect(lambda _i: self.print_certificate())
        lay.addWidget(self.certificates, 1)
        self.cert_summary = QLabel("")
        lay.addWidget(self.cert_summary)
        return w

    def _estimates_tab(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        row = QHBoxLayout()
        row.addStretch(1)
        self.estimate_print = QPushButton(self.tr("预览并打印(&E)"))
        self.estimate_print.clicked.connect(self.print_estimate)
        row.addWidget(self.estimate_print)
        lay.addLayout(row)
        self.estimates = _table([self.tr(h) for h in self.ESTIMATE_HEADERS])
        self.estimates.activated.connect(lambda _i: self.print_estimate())
        lay.addWidget(self.estimates, 1)
        return w

    def _days_tab(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        row = QHBoxLayout()
        row.addWidget(
            QLabel(self.tr("每位经办人每天一张日结单：按缴费方式汇总、列出收据和作废收据。"))
        )
        row.addStretch(1)
        self.day_print = QPushButton(self.tr("预览并打印(&D)"))
        self.day_print.clicked.connect(self.print_day)
        row.addWidget(self.day_print)
        lay.addLayout(row)
        self.days = _table([self.tr(h) for h in self.DAY_HEADERS])
        self.days.activated.connect(lambda _i: self.print_day())
        lay.addWidget(self.days, 1)
        return w

    # ---------------------------------------------------------------- loading

    def _today(self) -> dt.date:
        return self.ctx.extras.get("today") or dt.date.today()

    def _failed(self, exc: BaseException) -> None:
        show_error(self, exc, self.tr("打印"))

    def _data_changed(self, kind: str) -> None:
        if kind in ("payment", "print", "estimate", "person", "household", "enrollment"):
            self.refresh()

    def refresh(self) -> None:
        self.load_receipts()
        self.load_villages()
        self.load_certificates()
        self.load_estimates()
        self.load_days()

    def load_receipts(self, then=None) -> None:
        from desktop.services import (
            receipts,
        )  # deferred: not needed for the first paint (cold start)

        store, query = self.ctx.store, self.receipt_search.text()

        def done(rows: list[dict]) -> None:
            fill(rows)
            if then is not None:
                then()

        def fill(rows: list[dict]) -> None:
            _fill(
                self.receipts,
                [
                    [
                        r["receipt_no"],
                        r["paid_on"],
                        r["name"],
                        r["cert_masked"],
                        str(r["year"]),
                        r["amount"],
                        r["channel_label"],
                        r["status_label"],
                        self.tr(_copies(r["copies"])),
                    ]
                    for r in rows
                ],
                [r["receipt_no"] for r in rows],
            )

        self.query(lambda: receipts.recent_receipts(store, query=query), done, self._failed)

    def load_villages(self) -> None:
        from desktop.services import setup  # deferred: not needed for the first paint (cold start)

        store = self.ctx.store

        def done(rows: list[dict]) -> None:
            current = self.cert_village.currentData()
            self.cert_village.blockSignals(True)
            self.cert_village.clear()
            self.cert_village.addItem(self.tr("全部"), None)
            for v in rows:
                self.cert_village.addItem(v["name"], v["id"])
            i = self.cert_village.findData(current)
            self.cert_village.setCurrentIndex(max(i, 0))
            self.cert_village.blockSignals(False)

        self.query(lambda: setup.villages(store), done, self._failed)

    def load_certificates(self) -> None:
        from desktop.services import (
            receipts,
        )  # deferred: not needed for the first paint (cold start)

        store, year, village = (
            self.ctx.store,
            self.cert_year.value(),
            self.cert_village.currentData(),
        )

        def done(rows: list[dict]) -> None:
            self._cert_rows = rows
            _fill(
                self.certificates,
                [
                    [
                        r["village"] or "",
                        r["name"],
                        r["cert_masked"],
                        str(r["year"]),
                        r["status_label"],
                        self.tr(_copies(r["copies"])),
                    ]
                    for r in rows
                ],
                [r["enrollment_id"] for r in rows],
            )
            printable = sum(1 for r in rows if r["printable"])
            self.cert_summary.setText(
                self.tr("共 %1 人，可打印参保凭证 %2 人（未缴费的不能打印）")
                .replace("%1", str(len(rows)))
                .replace("%2", str(printable))
            )

        self.query(
            lambda: receipts.certificate_list(store, year=year, village_id=village),
            done,
            self._failed,
        )

    def load_estimates(self) -> None:
        from core.policy.benefits import (
            estimate_kind,
        )  # deferred: not needed for the first paint (cold start)
        from desktop.services import (
            estimate,
        )  # deferred: not needed for the first paint (cold start)

        store = self.ctx.store

        def done(rows: list[dict]) -> None:
            _fill(
                self.estimates,
                [
                    [
                        (r["created_at"] or "")[:16].replace("T", " "),
                        r.get("person_name") or r.get("anon_label") or "",
                        str(r["year"]),
                        estimate_kind(r["setting"]),
                        r.get("medfee_sumamt") or "",
                        r.get("psn_part_amt") or "",
                        r.get("operator") or "",
                    ]
                    for r in rows
                ],
                [r["id"] for r in rows],
            )

        self.query(lambda: estimate.list_estimates(store, limit=100), done, self._failed)

    def load_days(self) -> None:
        from desktop.services import (
            receipts,
        )  # deferred: not needed for the first paint (cold start)

        store = self.ctx.store

        def done(rows: list[dict]) -> None:
            _fill(
                self.days,
                [[r["day"], str(r["live"]), r["sum"], r["operator"] or ""] for r in rows],
                [r["key"] for r in rows],
            )

        self.query(lambda: receipts.day_sheet_list(store), done, self._failed)

    # ---------------------------------------------------------------- printing

    def _selected_key(self, table: QTableWidget):
        row = table.currentRow()
        if row < 0 or table.item(row, 0) is None:
            return None
        return table.item(row, 0).data(Qt.ItemDataRole.UserRole)

    def _page(self) -> str | None:
        return self.paper.currentData() or None

    def _print(self, kind: str, key) -> None:
        if not key:
            self.message.setStyleSheet(ERROR_STYLE)
            self.message.setText(self.tr("请先在列表中选择要打印的单据"))
            return
        self.message.setText("")
        print_support.print_document(
            self, self.ctx, kind, key, page=self._page(), on_done=self._printed
        )

    def _printed(self, status: str) -> None:
        texts = {
            "printed": ("已打印，已记入打印记录", OK_STYLE),
            "saved": ("已保存PDF，已记入打印记录", OK_STYLE),
            "failed": ("打印失败，单据未记为已打印，请检查打印机后重新打印", ERROR_STYLE),
        }
        text, style = texts.get(status, ("", ""))
        self.message.setStyleSheet(style)
        self.message.setText(self.tr(text))
        self.refresh()

    def print_receipt(self) -> None:
        self._print("receipt", self._selected_key(self.receipts))

    def print_certificate(self) -> None:
        rows = sorted({i.row() for i in self.certificates.selectedIndexes()})
        keys = [self.certificates.item(r, 0).data(Qt.ItemDataRole.UserRole) for r in rows]
        if len(keys) > 1:
            self._print("certificate", keys)
        else:
            self._print("certificate", keys[0] if keys else self._selected_key(self.certificates))

    def print_village(self) -> None:
        keys = [r["enrollment_id"] for r in getattr(self, "_cert_rows", []) if r["printable"]]
        if not keys:
            self.message.setStyleSheet(ERROR_STYLE)
            self.message.setText(self.tr("该村本年度没有可打印参保凭证的人员（未缴费的不能打印）"))
            return
        self._print("certificate", keys)

    def print_estimate(self) -> None:
        self._print("estimate", self._selected_key(self.estimates))

    def print_day(self) -> None:
        self._print("day_sheet", self._selected_key(self.days))

    def print_current(self) -> None:
        [self.print_receipt, self.print_certificate, self.print_estimate, self.print_day][
            self.tabs.currentIndex()
        ]()

    # ---------------------------------------------------------------- verify

    def verify(self) -> None:
        from desktop.services import (
            receipts,
        )  # deferred: not needed for the first paint (cold start)

        code, store = self.verify_input.text().strip(), self.ctx.store
        if not code:
            self.verify_result.setStyleSheet(ERROR_STYLE)
            self.verify_result.setText(self.tr("请输入或扫描收据上的校验码"))
            return

        def done(result: dict) -> None:
            self.verify_result.setStyleSheet(OK_STYLE if result["ok"] else ERROR_STYLE)
            self.verify_result.setText(("✔ " if result["ok"] else "✘ ") + result["message"])

        self.query(lambda: receipts.verify(store, code), done, self._failed)
