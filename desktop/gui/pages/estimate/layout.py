"""The 报销测算 page laid out: who, what, year-to-date figures, buttons, result, saved estimates."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.categories import INSURED_CATEGORIES
from core.estimate import LEVEL_YTD_FIELDS
from desktop.gui.pages.estimate.common import AMOUNT_FIELDS, AMOUNT_SLOTS, YTD_EXTRA
from desktop.gui.widgets import ERROR_STYLE, WARN_STYLE, Note, heading
from desktop.services import estimate as svc


class _Layout:
    """Builds the page (part of :class:`desktop.gui.pages.estimate.Page`)."""

    # ---------------------------------------------------------------- layout
    def _build(self) -> None:
        outer = QHBoxLayout(self)
        left = QVBoxLayout()
        right = QVBoxLayout()
        outer.addLayout(left, 5)
        outer.addLayout(right, 6)
        self._build_who(left)
        self._build_what(left)
        self._build_ytd(left)
        self._build_buttons(left)
        self._build_result(right)
        self._build_tabs(right)
        self._build_print_row(right)
        self._set_mode("bill")

    def _build_who(self, left: QVBoxLayout) -> None:
        """测算对象: the person (search) or an anonymous estimate, and their 参保 status."""
        who = QGroupBox(self.tr("测算对象"))
        wl = QGridLayout(who)
        self.search = QLineEdit()
        self.search.setObjectName("estimate_search")
        self.search.setPlaceholderText(self.tr("身份证号、姓名或拼音首字母"))  # Enter finds
        self.search.returnPressed.connect(self.find_person)
        self.found = QComboBox()
        self.found.setObjectName("estimate_found")
        self.found.activated.connect(self._pick_found)
        self.anonymous = QCheckBox(self.tr("匿名测算（不选参保人）"))
        self.anonymous.setChecked(True)
        self.anonymous.toggled.connect(self._anonymous_toggled)
        self.person_label = QLabel(self.tr("未选择参保人：匿名测算"))
        self.person_label.setWordWrap(True)
        self.anon_label = QLineEdit()
        self.anon_label.setPlaceholderText(self.tr("备注（如：张大爷咨询）"))
        wl.addWidget(QLabel(self.tr("查找参保人")), 0, 0)
        wl.addWidget(self.search, 0, 1)
        wl.addWidget(self.found, 0, 2)
        wl.addWidget(self.anonymous, 1, 0, 1, 2)
        wl.addWidget(self.anon_label, 1, 2)
        wl.addWidget(self.person_label, 2, 0, 1, 3)
        self.coverage_label = QLabel("")
        self.coverage_label.setObjectName("estimate_coverage")
        self.coverage_label.setWordWrap(True)
        self.coverage_label.setVisible(False)
        wl.addWidget(self.coverage_label, 3, 0, 1, 3)
        left.addWidget(who)

    def _build_what(self, left: QVBoxLayout) -> None:
        """就医情况: policy, year, setting, level, category and the bill's amounts."""
        what = QGroupBox(self.tr("就医情况"))
        g = QGridLayout(what)
        self._rows: dict[str, tuple[QLabel, QWidget, QLabel]] = {}
        self._grid = g
        self.policy = QComboBox()
        self.policy.setObjectName("estimate_policy")
        self.policy.currentIndexChanged.connect(self._policy_changed)
        self.year = QSpinBox()
        self.year.setRange(2000, 2100)
        self.year.setValue(dt.date.today().year)
        self.year.valueChanged.connect(lambda _v: self._load_ytd())
        self.setting = QComboBox()
        self.setting.setObjectName("estimate_setting")
        self.setting.currentIndexChanged.connect(self._setting_changed)
        self.level = QComboBox()
        self.level.setObjectName("estimate_level")
        self.category = QComboBox()
        self.category.setObjectName("estimate_category")
        for code, label in INSURED_CATEGORIES.items():
            self.category.addItem(label, code)
        self.admission_no = QSpinBox()
        self.admission_no.setRange(1, 99)
        self.claim_free_years = QSpinBox()
        self.claim_free_years.setRange(0, 50)
        self.out_of_area = QComboBox()  # 异地就医: filled with the statuses the policy states
        self.out_of_area.setObjectName("estimate_out_of_area")
        self.level.currentIndexChanged.connect(self._level_changed)
        self.days = QSpinBox()  # 按床日 fixed payments
        self.days.setObjectName("estimate_days")
        self.days.setRange(0, 366)
        self.days.setSuffix(self.tr(" 天"))
        self.age = QSpinBox()  # 救助 additions by age
        self.age.setObjectName("estimate_age")
        self.age.setRange(-1, 150)
        self.age.setSpecialValueText(self.tr("未填写"))
        self.age.setValue(-1)
        self.continuous_years = QSpinBox()  # the ratio by continuous enrollment
        self.continuous_years.setObjectName("estimate_continuous_years")
        self.continuous_years.setRange(-1, 100)
        self.continuous_years.setSpecialValueText(self.tr("未知"))
        self.continuous_years.setValue(-1)
        self.after_break = QCheckBox(self.tr("断保后再参保"))
        self.after_break.setObjectName("estimate_after_break")
        runs = QWidget()
        rl = QHBoxLayout(runs)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.continuous_years, 1)
        rl.addWidget(self.after_break)
        self._add_row("policy", self.tr("测算政策"), self.policy, 0, 0, 2)
        self._add_row("year", self.tr("就医年度"), self.year, 1, 0)
        self._add_row("setting", self.tr("就医类别"), self.setting, 1, 1)
        self._add_row("level", self.tr("医疗机构类别"), self.level, 2, 0, 2)
        self._add_row("out_of_area", self.tr("异地就医"), self.out_of_area, 4, 0)
        self._show_row("out_of_area", False)
        self._add_row("days", self.tr("住院天数"), self.days, 4, 1)
        self._add_row("age", self.tr("年龄"), self.age, 5, 0)
        self._add_row("continuous_years", self.tr("连续参保年数"), runs, 5, 1)
        for f in ("days", "age", "continuous_years"):
            self._show_row(f, False)
        self._add_row("category", self.tr("人员类别"), self.category, 3, 0)
        self._add_row("admission_no", self.tr("本年第几次住院"), self.admission_no, 3, 1)
        self._add_row("claim_free_years", self.tr("连续未报销年数"), self.claim_free_years, 3, 1)
        self.amounts: dict[str, QLineEdit] = {}
        for f, label in AMOUNT_FIELDS.items():
            edit = QLineEdit()
            edit.setObjectName(f"amount_{f}")
            edit.setPlaceholderText(self.tr("元"))
            edit.returnPressed.connect(self.compute)
            self.amounts[f] = edit
            row, col = AMOUNT_SLOTS[f]
            self._add_row(f, label, edit, row, col)
        # the box is narrow: a hint that fits, the whole of it on hover
        self.amounts["in_policy"].setPlaceholderText(self.tr("可留空"))
        self.amounts["in_policy"].setToolTip(
            self.tr("可直接填写；留空则按全自费、乙类项目金额、超限价部分和部分自付计算")
        )
        left.addWidget(what)

    def _build_ytd(self, left: QVBoxLayout) -> None:
        """本年已报销情况: the year-to-date figures the layers need, and where they came from."""
        ytd = QGroupBox(self.tr("本年已报销情况（可修改）"))
        yl = QGridLayout(ytd)
        self.ytd: dict[str, QLineEdit] = {}
        self._ytd_labels: dict[str, QLabel] = {}
        fields = {**svc.YTD_FIELDS, **YTD_EXTRA, **LEVEL_YTD_FIELDS}
        for f, label in fields.items():
            edit = QLineEdit("0.00")
            edit.setObjectName(f"ytd_{f}")
            edit.setMinimumWidth(edit.fontMetrics().horizontalAdvance("888,888.88") + 12)
            edit.returnPressed.connect(self.compute)
            self.ytd[f] = edit
            lab = QLabel(label)
            lab.setBuddy(edit)
            self._ytd_labels[f] = lab
        self._ytd_grid = yl
        self.ytd_source = QLabel("")
        self.ytd_source.setWordWrap(True)
        self.ytd_source.setStyleSheet(WARN_STYLE)
        yl.addWidget(self.ytd_source, 10, 0, 1, 6)
        left.addWidget(ytd)

    def _build_buttons(self, left: QVBoxLayout) -> None:
        """测算 / 保存 / 标记为已结算 and the page's message."""
        buttons = QHBoxLayout()
        self.run_button = QPushButton(self.tr("测算（回车）"))
        self.run_button.setObjectName("estimate_run")
        self.run_button.clicked.connect(self.compute)
        self.save_button = QPushButton(self.tr("保存（Ctrl+S）"))
        self.save_button.setObjectName("estimate_save")
        self.save_button.clicked.connect(self.save)
        self.save_button.setEnabled(False)
        self.settle_button = QPushButton(self.tr("标记为已结算"))
        self.settle_button.setObjectName("estimate_settle")
        self.settle_button.setToolTip(self.tr("医院已按此结算后标记；已结算的测算计入本年累计"))
        self.settle_button.clicked.connect(self.mark_settled)
        self.settle_button.setEnabled(False)
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.settle_button)
        left.addLayout(buttons)
        self.message = QLabel("")
        self.message.setObjectName("estimate_message")
        self.message.setWordWrap(True)
        left.addWidget(self.message)
        left.addStretch(1)

    def _build_result(self, right: QVBoxLayout) -> None:
        """测算结果: what makes it hypothetical, then the amounts by fund."""
        right.addWidget(heading(self.tr("测算结果")))
        self.policy_warning = QLabel("")
        self.policy_warning.setWordWrap(True)
        self.policy_warning.setStyleSheet(ERROR_STYLE)
        self.policy_warning.setVisible(False)
        right.addWidget(self.policy_warning)
        self.caveat_label = Note()
        self.caveat_label.setObjectName("estimate_caveats")
        self.caveat_label.setStyleSheet(ERROR_STYLE + " font-weight: bold;")
        right.addWidget(self.caveat_label)
        self.result_table = QTableWidget(0, 2)
        self.result_table.setObjectName("estimate_result")
        self.result_table.setHorizontalHeaderLabels([self.tr("项目"), self.tr("金额（元）")])
        self.result_table.verticalHeader().setVisible(False)
        self.result_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.result_table.setTabKeyNavigation(False)  # Tab moves on, not cell to cell
        rh = self.result_table.horizontalHeader()
        rh.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        rh.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        right.addWidget(self.result_table)

    def _build_tabs(self, right: QVBoxLayout) -> None:
        """计算过程 (each step with its source) and 本年测算记录."""
        self.tabs = QTabWidget()
        self.tabs.setObjectName("estimate_tabs")
        steps_page = QWidget()
        steps_lay = QVBoxLayout(steps_page)
        steps_lay.setContentsMargins(0, 0, 0, 0)
        self.steps_table = QTableWidget(0, 4)
        self.steps_table.setObjectName("estimate_steps")
        self.steps_table.setHorizontalHeaderLabels(
            [self.tr("环节"), self.tr("规则"), self.tr("计算"), self.tr("依据")]
        )
        self.steps_table.verticalHeader().setVisible(False)
        self.steps_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.steps_table.setTabKeyNavigation(False)  # Tab moves on, not cell to cell
        self.steps_table.setWordWrap(True)
        hh = self.steps_table.horizontalHeader()
        hh.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        hh.setSectionResizeMode(3, QHeaderView.ResizeMode.Interactive)
        self.steps_table.setColumnWidth(3, 160)
        self.steps_table.currentCellChanged.connect(self._step_selected)
        steps_lay.addWidget(self.steps_table, 1)
        self.source_detail = QLabel(self.tr("选中一步可在此查看其政策依据全文"))
        self.source_detail.setObjectName("estimate_source_detail")
        self.source_detail.setWordWrap(True)
        self.source_detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        steps_lay.addWidget(self.source_detail)
        self.tabs.addTab(steps_page, self.tr("计算过程"))
        hist_page = QWidget()
        hist_lay = QVBoxLayout(hist_page)
        hist_lay.setContentsMargins(0, 0, 0, 0)
        self.history = QTableWidget(0, 5)
        self.history.setObjectName("estimate_history")
        self.history.setHorizontalHeaderLabels(
            [
                self.tr("保存时间"),
                self.tr("就医类别"),
                self.tr("基金支付"),
                self.tr("个人负担"),
                self.tr("状态"),
            ]
        )
        self.history.verticalHeader().setVisible(False)
        self.history.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.history.setTabKeyNavigation(False)  # Tab moves on, not cell to cell
        self.history.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.history.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.history.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.history.doubleClicked.connect(lambda _i: self.open_selected())
        hist_lay.addWidget(self.history, 1)
        hb = QHBoxLayout()
        self.open_button = QPushButton(self.tr("查看所选"))
        self.open_button.setObjectName("estimate_open")
        self.open_button.clicked.connect(self.open_selected)
        self.settle_selected_button = QPushButton(self.tr("标记所选为已结算"))
        self.settle_selected_button.setObjectName("estimate_settle_selected")
        self.settle_selected_button.clicked.connect(self.settle_selected)
        self.year_button = QPushButton(self.tr("全年结算"))
        self.year_button.setObjectName("estimate_year")
        self.year_button.setToolTip(self.tr("按结算先后依次重算本年已结算的测算，并给出全年合计"))
        self.year_button.clicked.connect(self.show_year)
        hb.addWidget(self.open_button)
        hb.addWidget(self.settle_selected_button)
        hb.addWidget(self.year_button)
        hb.addStretch(1)
        hist_lay.addLayout(hb)
        self.history_note = QLabel(self.tr("选择参保人后显示其本年保存的测算；医院结算后在此标记"))
        self.history_note.setWordWrap(True)
        hist_lay.addWidget(self.history_note)
        self.tabs.addTab(hist_page, self.tr("本年测算记录"))
        right.addWidget(self.tabs, 1)

    def _build_print_row(self, right: QVBoxLayout) -> None:
        """打印测算单."""
        pr = QHBoxLayout()
        self.print_button = QPushButton(self.tr("打印测算单(&P)"))
        self.print_button.setObjectName("estimate_print")
        self.print_button.setEnabled(False)
        self.print_button.clicked.connect(self.print_estimate)
        self.print_note = QLabel(self.tr("保存后可打印测算单（也可在“打印”页打印）"))
        pr.addWidget(self.print_button)
        pr.addWidget(self.print_note, 1)
        right.addLayout(pr)

    def _add_row(
        self, field: str, label: str, widget: QWidget, row: int, col: int, span: int = 1
    ) -> None:
        """Two label/input pairs per row; the error line under the input shows only when
        there is a message (so the form fits 1366×768)."""
        lab = QLabel(label)
        lab.setBuddy(widget)
        err = QLabel("")
        err.setStyleSheet(ERROR_STYLE)
        err.setWordWrap(True)
        err.setObjectName(f"error_{field}")
        err.setVisible(False)
        self._grid.addWidget(lab, 2 * row, 2 * col, Qt.AlignmentFlag.AlignRight)
        self._grid.addWidget(widget, 2 * row, 2 * col + 1, 1, 2 * span - 1)
        self._grid.addWidget(err, 2 * row + 1, 2 * col + 1, 1, 2 * span - 1)
        self._rows[field] = (lab, widget, err)

    def _show_row(self, field: str, visible: bool) -> None:
        lab, widget, err = self._rows[field]
        lab.setVisible(visible)
        widget.setVisible(visible)
        err.setVisible(visible and bool(err.text()))

    def _set_error(self, field: str, text: str) -> None:
        err = self._rows[field][2]
        err.setText(text)
        err.setVisible(bool(text) and not self._rows[field][1].isHidden())
