"""The 缴费查询 page laid out: the lookup, the collect box, the campaign list."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.gui.pages.contribution.common import _Table
from desktop.gui.widgets import (
    WARN_STYLE,
    FieldForm,
    Note,
    heading,
)
from desktop.services import contribution as svc


def _lines_high(table, lines: int) -> int:
    """The height of ``table`` showing its heading and ``lines`` lines, no more."""
    return (
        table.horizontalHeader().sizeHint().height()
        + lines * table.verticalHeader().defaultSectionSize()
        + 2 * table.frameWidth()
    )


class _Layout:
    """Builds the page (part of :class:`desktop.gui.pages.contribution.Page`)."""

    def _build_lookup(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        row = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setObjectName("search")
        self.search.setPlaceholderText(self.tr("身份证号 / 姓名 / 拼音首字母，回车查找"))
        self.search.returnPressed.connect(self.do_search)
        go = QPushButton(self.tr("查找"))
        go.clicked.connect(self.do_search)
        self.members_btn = QPushButton(self.tr("本户成员"))
        self.members_btn.setObjectName("household_members")
        self.members_btn.setEnabled(False)
        self.members_btn.clicked.connect(self.show_household)
        # how many were found, at the end of the search line: a line of its own would push
        # the page past 728 px with the not-yet-synced banner showing
        self.search_msg = Note()
        self.search_msg.setObjectName("search_msg")
        self.search_msg.setWordWrap(False)
        row.addWidget(QLabel(self.tr("查找参保人")))
        row.addWidget(self.search, 1)
        row.addWidget(go)
        row.addWidget(self.members_btn)
        row.addWidget(self.search_msg)
        lay.addLayout(row)
        self.results = _Table("results", ["姓名", "证件号码", "性别", "出生日期", "村", "参保类别"])
        # three people of a name search stay in sight (the year table keeps its three lines)
        self.results.setMaximumHeight(_lines_high(self.results, 3))
        self.results.cellDoubleClicked.connect(self._result_chosen)
        lay.addWidget(self.results)

        self.person_label = heading(
            self.tr("请先查找参保人：输入身份证号、姓名或拼音首字母后按回车")
        )
        self.person_label.setObjectName("person_label")
        lay.addWidget(self.person_label)
        self.years = _Table("years", self.YEAR_HEADERS)
        self.years.cellDoubleClicked.connect(self._year_chosen)
        # at 1366×768 at least three 参保年度 lines stay visible (next, this and last year)
        self.years.setMinimumHeight(_lines_high(self.years, 3))
        # 说明 would have a sliver of the width at 1366 (and push the table sideways): the
        # chosen year's 说明 is said in full on the line below instead (its column stays,
        # hidden, as the line's source)
        self.years.setColumnHidden(len(self.YEAR_HEADERS) - 1, True)
        self.years.itemSelectionChanged.connect(self._show_year_note)
        lay.addWidget(self.years, 1)
        self.year_note = Note()
        self.year_note.setObjectName("year_note")
        lay.addWidget(self.year_note)

        lay.addWidget(self._build_collect_box())
        return w

    def _build_collect_box(self) -> QGroupBox:
        """收费（代收）: year, date, back years, amount, channel; what is due and why; the
        buttons; the missing-standard note with 立即同步; the result of the last payment."""
        box = QGroupBox(self.tr("收费（代收）"))
        grid = QGridLayout(box)
        grid.setVerticalSpacing(2)  # five rows that must fit 728 px with the year table
        grid.setContentsMargins(8, 4, 8, 4)
        self.form = FieldForm(grid)
        self.pay_year = self.form.add("year", self.tr("参保年度"), QComboBox())
        self.pay_year.setObjectName("pay_year")
        self.paid_on = self.form.add("paid_on", self.tr("缴费日期"), QLineEdit())
        self.paid_on.setObjectName("paid_on")
        self.paid_on.setPlaceholderText("年-月-日")
        self.back_years = self.form.add("back_years", self.tr("同时补缴断保年数"), QSpinBox())
        self.back_years.setObjectName("back_years")
        self.back_years.setRange(0, 50)
        self.back_years.setToolTip(
            self.tr("断保人员每补缴1年可减少1个月变动等待期（按政策规定的补缴标准）")
        )
        self.amount = self.form.add("amount", self.tr("实收金额（元）"), QLineEdit())
        self.amount.setObjectName("amount")
        self.channel = self.form.add("channel", self.tr("缴费方式"), QComboBox())
        self.channel.setObjectName("channel")
        for code, label in svc.CHANNELS.items():
            self.channel.addItem(label, code)
        for wdg in (self.pay_year, self.paid_on, self.back_years, self.amount, self.channel):
            wdg.setMaximumWidth(320)
        grid.setColumnStretch(2, 1)
        self.due_label = Note()
        self.due_label.setObjectName("due_label")
        grid.addWidget(self.due_label, grid.rowCount(), 0, 1, 3)
        buttons = QHBoxLayout()
        self.pay_btn = QPushButton(self.tr("收费并记账（Enter）"))
        self.pay_btn.setObjectName("pay")
        self.pay_btn.setEnabled(False)
        self.pay_btn.clicked.connect(self.do_pay)
        self.void_btn = QPushButton(self.tr("作废/退费…"))
        self.void_btn.setObjectName("void")
        self.void_btn.setEnabled(False)
        self.void_btn.clicked.connect(self.do_void)
        self.print_btn = QPushButton(self.tr("打印收据（Ctrl+P）…"))
        self.print_btn.setObjectName("print_receipt")
        self.print_btn.setEnabled(False)
        self.print_btn.clicked.connect(self.open_printing)
        buttons.addWidget(self.pay_btn)
        buttons.addWidget(self.print_btn)
        buttons.addWidget(self.void_btn)
        buttons.addStretch(1)
        grid.addLayout(buttons, grid.rowCount(), 0, 1, 3)
        missing_row = QHBoxLayout()
        self.missing_note = Note()
        self.missing_note.setObjectName("missing_standard")
        self.missing_note.setStyleSheet(WARN_STYLE)
        self.sync_now_btn = QPushButton(self.tr("立即同步"))
        self.sync_now_btn.setObjectName("sync_now")
        self.sync_now_btn.hide()
        self.sync_now_btn.clicked.connect(self.ctx.events.sync_requested.emit)
        missing_row.addWidget(self.missing_note, 1)
        missing_row.addWidget(self.sync_now_btn, 0, Qt.AlignmentFlag.AlignTop)
        grid.addLayout(missing_row, grid.rowCount(), 0, 1, 3)
        self.pay_msg = Note()
        self.pay_msg.setObjectName("pay_msg")
        grid.addWidget(self.pay_msg, grid.rowCount(), 0, 1, 3)
        self.amount.returnPressed.connect(self.do_pay)
        self.paid_on.returnPressed.connect(self.do_pay)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), box, activated=self.cancel_form)
        self.paid_on.editingFinished.connect(self._paid_on_changed)
        self.pay_year.currentIndexChanged.connect(lambda _i: self.refresh_quote())
        self.back_years.valueChanged.connect(lambda _v: self.refresh_quote())
        self.years.itemSelectionChanged.connect(self._update_void_button)
        return box

    def _build_campaign(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        row = QHBoxLayout()
        self.camp_scope = QComboBox()
        self.camp_scope.setObjectName("campaign_scope")
        self.camp_year = QSpinBox()
        self.camp_year.setObjectName("campaign_year")
        self.camp_year.setRange(2000, 2100)
        self.camp_year.setValue(self.today().year + 1)
        run = QPushButton(self.tr("生成名单"))
        run.setObjectName("campaign_run")
        run.clicked.connect(self.run_campaign)
        self.csv_btn = QPushButton(self.tr("导出 CSV…"))
        self.csv_btn.setObjectName("export_csv")
        self.xlsx_btn = QPushButton(self.tr("导出 Excel…"))
        self.xlsx_btn.setObjectName("export_xlsx")
        for b, kind in ((self.csv_btn, "csv"), (self.xlsx_btn, "xlsx")):
            b.setEnabled(False)
            b.clicked.connect(lambda _c=False, k=kind: self.ask_export(k))
        row.addWidget(QLabel(self.tr("范围")))
        row.addWidget(self.camp_scope, 1)
        row.addWidget(QLabel(self.tr("参保年度")))
        row.addWidget(self.camp_year)
        row.addWidget(run)
        row.addWidget(self.csv_btn)
        row.addWidget(self.xlsx_btn)
        lay.addLayout(row)
        self.camp_summary = QLabel("")
        self.camp_summary.setObjectName("campaign_summary")
        self.camp_summary.setWordWrap(True)
        lay.addWidget(self.camp_summary)
        self.camp_table = _Table(
            "campaign_table",
            ["村", "住址", "户主", "姓名", "证件号码", "参保类别", "上年", "应缴（元）", "电话"],
        )
        self.camp_table.cellDoubleClicked.connect(self._campaign_chosen)
        lay.addWidget(self.camp_table, 1)
        self._load_villages()
        return w
