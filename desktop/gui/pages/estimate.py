"""报销测算: what a stay or a visit will cost the resident, fund by fund, with the steps.

The clerk picks a registered person (search by ID number, name or pinyin) or estimates
anonymously; chooses the policy, the setting and the hospital class; types the amounts;
the person's year-to-date figures (本年已报销) come from settled estimates and county data
and stay editable. Enter computes, Ctrl+S saves; a saved estimate of a registered person
can be marked settled (it then counts in the YTD figures). Every call runs on the task
runner; the page only presents what ``desktop.services.estimate`` returns.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
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
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.categories import INSURED_CATEGORIES
from core.errors import ValidationError
from core.estimate import LAYER_LABELS
from core.estimate.counters import counters_for_layer, counters_for_setting
from core.ids import mask_id
from core.money import yuan
from core.policy.benefits import SETTING_LABELS, SETTINGS
from desktop.gui.pages.base import Page as BasePage
from desktop.gui.widgets import ERROR_STYLE, OK_STYLE, WARN_STYLE, Note, heading, show_error
from desktop.services import estimate as svc
from desktop.services import policies

# Amount inputs: field → label. Which are shown depends on the mode.
BILL_FIELDS = {
    "total": "医疗费总额",
    "in_policy": "政策范围内金额",
    "fully_self_paid": "全自费",
    "class_b_amount": "乙类项目金额",
    "over_limit": "超限价部分",
    "partial_self_pay": "部分自付",
}
DABING_FIELDS = {"burden": "本次政策范围内个人负担"}
ASSIST_FIELDS = {
    "total": "医疗费总额",
    "hifp_pay": "统筹基金已支付",
    "in_policy_burden_after_basic": "基本医保后政策范围内个人负担",
    "hifmi_pay": "大病保险已支付",
}
AMOUNT_FIELDS = {**BILL_FIELDS, **DABING_FIELDS, **ASSIST_FIELDS}
# (row, column) of each amount in the two-column form
AMOUNT_SLOTS = {
    "total": (4, 0),
    "in_policy": (4, 1),
    "fully_self_paid": (5, 0),
    "class_b_amount": (5, 1),
    "over_limit": (6, 0),
    "partial_self_pay": (6, 1),
    "burden": (7, 0),
    "hifp_pay": (8, 0),
    "in_policy_burden_after_basic": (8, 1),
    "hifmi_pay": (9, 0),
}
MODE_FIELDS = {"bill": BILL_FIELDS, "dabing": DABING_FIELDS, "assistance": ASSIST_FIELDS}
# YTD fields each mode sends to the engine
MODE_YTD = {
    "dabing": ("dabing_burden_ytd", "dabing_paid_ytd"),
    "assistance": ("assistance_paid_ytd", "assistance_base_ytd"),
}
YTD_EXTRA = {"dabing_cap_raise": "大病限额激励提高"}

RESULT_ROWS = [
    ("medfee_sumamt", "医疗费总额"),
    ("inscp_scp_amt", "政策范围内费用"),
    ("act_pay_dedc", "本次起付线"),
    ("hifp_pay", "基本医保统筹基金支付"),
    ("hifmi_pay", "大病保险支付"),
    ("maf_pay", "医疗救助支付"),
    ("tilted_pay", "倾斜救助支付"),
    ("fund_pay_sumamt", "基金支付合计"),
    ("psn_part_amt", "个人负担"),
]
STEP_LAYER_LABELS = {**LAYER_LABELS, "total": "合计"}


class Page(BasePage):
    error_title = "报销测算"
    computed = Signal(dict)  # the last result (for tests and the status bar)

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(ctx, parent)
        self.ctx = ctx
        self._person: dict | None = None
        self._policyset: policies.PolicySet | None = None
        self._last: dict | None = None
        self._last_given: dict | None = None
        self._saved: dict | None = None
        self._build()
        for seq, slot in (("Ctrl+S", self.save), ("Ctrl+Return", self.compute)):
            sc = QShortcut(QKeySequence(seq), self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(slot)
        self.reload_policies()

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
        self.search.setPlaceholderText(self.tr("身份证号、姓名或拼音首字母，回车查找"))
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
        self._add_row("policy", self.tr("测算政策"), self.policy, 0, 0, 2)
        self._add_row("year", self.tr("就医年度"), self.year, 1, 0)
        self._add_row("setting", self.tr("就医类别"), self.setting, 1, 1)
        self._add_row("level", self.tr("医疗机构类别"), self.level, 2, 0, 2)
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
        self.amounts["in_policy"].setPlaceholderText(self.tr("可直接填写，或按明细计算"))
        left.addWidget(what)

    def _build_ytd(self, left: QVBoxLayout) -> None:
        """本年已报销情况: the year-to-date figures the layers need, and where they came from."""
        ytd = QGroupBox(self.tr("本年已报销情况（可修改）"))
        yl = QGridLayout(ytd)
        self.ytd: dict[str, QLineEdit] = {}
        self._ytd_labels: dict[str, QLabel] = {}
        fields = {**svc.YTD_FIELDS, **YTD_EXTRA}
        for f, label in fields.items():
            edit = QLineEdit("0.00")
            edit.setObjectName(f"ytd_{f}")
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
        hb.addWidget(self.open_button)
        hb.addWidget(self.settle_selected_button)
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

    # ---------------------------------------------------------------- policies
    def reload_policies(self) -> None:
        data_dir = self.ctx.data_dir
        self.query(lambda: policies.load(data_dir), self._policies_loaded, self._failed)

    def _policies_loaded(self, ps: policies.PolicySet) -> None:
        if ps is self._policyset:
            return  # unchanged (the service caches until a file changes)
        self._policyset = ps
        current = self.policy.currentData()
        self.policy.blockSignals(True)
        self.policy.clear()
        benefit = [
            p
            for p in sorted(ps.policies.values(), key=lambda p: p.id)
            if any(s in p.sections for s in (*SETTINGS, "dabing", "assistance"))
        ]
        for p in benefit:
            self.policy.addItem(p.title, p.id)
        self.policy.blockSignals(False)
        if ps.errors:
            self.policy_warning.setText(
                self.tr("以下政策文件有错误，暂不可用（其他政策照常使用）：")
                + "；".join(f"{e.file}：{e.key}：{e.problem}" for e in ps.errors)
            )
            self.policy_warning.setVisible(True)
        else:
            self.policy_warning.setVisible(False)
        pick = -1
        if current:
            pick = self.policy.findData(current)
        if pick < 0:
            sp = self.ctx.service_point or {}
            local = ps.latest_for_region(sp.get("region_code", ""), self.year.value())
            for p in local:
                pick = self.policy.findData(p.id)
                if pick >= 0:
                    break
        self.policy.setCurrentIndex(max(pick, 0))
        self._policy_changed()

    def _current_policy(self):
        pid = self.policy.currentData()
        if not pid or self._policyset is None:
            return None
        return self._policyset.policies.get(pid)

    def _policy_changed(self, *_a) -> None:
        pol = self._current_policy()
        self.setting.blockSignals(True)
        self.setting.clear()
        if pol is not None:
            for s in SETTINGS:
                if pol.has(s):
                    self.setting.addItem(SETTING_LABELS[s], s)
            if pol.has("dabing"):
                self.setting.addItem(self.tr("大病保险（单独测算本次负担）"), "layer:dabing")
            if pol.has("assistance"):
                self.setting.addItem(self.tr("医疗救助（单独测算）"), "layer:assistance")
        self.setting.blockSignals(False)
        self.setting.setCurrentIndex(0)
        self._setting_changed()

    def _setting_changed(self, *_a) -> None:
        pol = self._current_policy()
        s = self.setting.currentData() or ""
        self.level.clear()
        if s.startswith("layer:"):
            self._set_mode(s.split(":", 1)[1])
            return
        self._set_mode("bill")
        if pol is not None and pol.has(s):
            sec = pol.section(s)
            self._rows["level"][0].setText(sec.level_label)
            for code, lv in sec.levels.items():
                self.level.addItem(lv.label, code)
        self._show_row("admission_no", s == "inpatient")
        self._show_row("claim_free_years", s in ("outpatient", "pharmacy", "chronic"))
        self._layout_ytd()

    def _relevant_ytd(self) -> list[str]:
        """The YTD fields the chosen setting or layer uses (the others stay hidden)."""
        if self._mode in ("dabing", "assistance"):
            return counters_for_layer(self._mode)
        return counters_for_setting(self._current_policy(), self.setting.currentData() or "")

    def _layout_ytd(self) -> None:
        shown = self._relevant_ytd()
        for f, edit in self.ytd.items():
            lab = self._ytd_labels[f]
            self._ytd_grid.removeWidget(lab)
            self._ytd_grid.removeWidget(edit)
            lab.setVisible(f in shown)
            edit.setVisible(f in shown)
        for i, f in enumerate(shown):
            self._ytd_grid.addWidget(
                self._ytd_labels[f], i // 3, (i % 3) * 2, Qt.AlignmentFlag.AlignRight
            )
            self._ytd_grid.addWidget(self.ytd[f], i // 3, (i % 3) * 2 + 1)

    def _set_mode(self, mode: str) -> None:
        self._mode = mode
        shown = set(MODE_FIELDS[mode])
        for f in AMOUNT_FIELDS:
            self._show_row(f, f in shown)
        bill = mode == "bill"
        self._show_row("level", bill)
        self._show_row("admission_no", bill)
        self._show_row("claim_free_years", bill)
        self._clear_result()
        if not bill:
            self._layout_ytd()

    # ---------------------------------------------------------------- person
    def find_person(self) -> None:
        q = self.search.text().strip()
        if not q:
            return
        store = self.ctx.store
        self.query(lambda: svc.find_persons(store, q), self._found, self._failed)

    def _found(self, rows: list[dict]) -> None:
        self.found.clear()
        if not rows:
            self.message.setStyleSheet(WARN_STYLE)
            self.message.setText(self.tr("没有找到该参保人，请核对后重新输入，或进行匿名测算"))
            return
        for r in rows:
            self.found.addItem(f"{r['name']}  {mask_id(r['cert_no'])}", r)
        self.found.setCurrentIndex(0)
        self._choose(rows[0])
        if len(rows) == 1 and self.amounts["total"].isVisible():
            self.amounts["total"].setFocus()  # found: the clerk types the bill next
        else:
            self.found.setFocus()

    def _pick_found(self, index: int) -> None:
        row = self.found.itemData(index)
        if row:
            self._choose(row)

    def open_item(self, person_id: Any) -> None:
        """Open the page for a person (main window: events.open_page("estimate", id))."""
        from desktop.services.registration import get_person

        store = self.ctx.store
        self.query(
            lambda: get_person(store, str(person_id)),
            lambda row: self._choose(row) if row else None,
            self._failed,
        )

    def _choose(self, row: dict) -> None:
        self._person = row
        self.anonymous.blockSignals(True)
        self.anonymous.setChecked(False)
        self.anonymous.blockSignals(False)
        cat = row.get("insured_category") or "ordinary"
        i = self.category.findData(cat)
        if i >= 0:
            self.category.setCurrentIndex(i)
        self.person_label.setText(
            f"{row['name']}　{mask_id(row['cert_no'])}　{INSURED_CATEGORIES.get(cat, cat)}"
            + (f"　{row['village']}" if row.get("village") else "")
        )
        self._load_ytd()

    def _anonymous_toggled(self, on: bool) -> None:
        if on:
            self._person = None
            self.coverage_label.setVisible(False)
            self.person_label.setText(self.tr("未选择参保人：匿名测算"))
            self._load_ytd()

    def _load_ytd(self) -> None:
        self._load_history()
        if self._person is None:
            for e in self.ytd.values():
                e.setText("0.00")
            self.admission_no.setValue(1)
            self.ytd_source.setText(self.tr("匿名测算：本年已报销情况请按居民所述填写（默认为0）"))
            return
        store, pid, year = self.ctx.store, self._person["id"], self.year.value()
        self.query(
            lambda: svc.person_year(store, pid, year), self._person_year_loaded, self._failed
        )

    def _person_year_loaded(self, data: dict) -> None:
        self._show_coverage(data["coverage"])
        self._ytd_loaded(data["ytd"])

    def _show_coverage(self, cov: dict | None) -> None:
        """The person's 参保 status for the year, in words (and colour)."""
        year = self.year.value()
        paid = ("local", "confirmed", "subsidized")
        if cov is None:
            text = self.tr("未查到该参保人{y}年度的参保缴费记录，测算仅供参考").format(y=year)
            ok = False
        else:
            text = self.tr("{y}参保年度：{s}").format(y=year, s=cov["status_label"])
            ok = cov["status"] in paid
            if cov.get("benefits_from") and cov.get("benefits_to"):
                text += self.tr("，待遇期 {a} 至 {b}").format(
                    a=cov["benefits_from"], b=cov["benefits_to"]
                )
            if cov.get("in_waiting"):
                ok = False
                text += self.tr("；处于待遇等待期（至 {d}），期间的费用医保不予支付").format(
                    d=cov.get("waiting_until") or ""
                )
            if cov["status"] not in paid:
                text += self.tr("；未参保期间的费用医保不予支付，测算仅供参考")
            if cov.get("note"):
                text += "（" + cov["note"] + "）"
        self.coverage_label.setText(text)
        self.coverage_label.setStyleSheet(OK_STYLE if ok else WARN_STYLE)
        self.coverage_label.setVisible(True)

    def _ytd_loaded(self, ytd: dict) -> None:
        for f, v in ytd["fields"].items():
            self.ytd[f].setText(v)
        self.admission_no.setValue(ytd["next_admission_no"])
        src = self.tr("来自本机已结算测算 {n} 笔").format(n=ytd["settled_estimates"])
        if ytd["county_as_of"]:
            src = self.tr("县级数据（截至 {d}）+ ").format(d=ytd["county_as_of"]) + src
        self.ytd_source.setText(src + self.tr("；如与居民所述不符，可直接修改"))

    # ---------------------------------------------------------------- compute / save
    def given(self) -> dict[str, Any]:
        """The engine input from the form (the same shape as the acceptance cases)."""
        g: dict[str, Any] = {}
        mode = self._mode
        for f in MODE_FIELDS[mode]:
            text = self.amounts[f].text().strip()
            if text:
                g[f] = text
        if mode == "bill":
            g["setting"] = self.setting.currentData() or ""
            g["level"] = self.level.currentData() or ""
            if g["setting"] == "inpatient":
                g["admission_no"] = self.admission_no.value()
            else:
                g["claim_free_years"] = self.claim_free_years.value()
            for f in (*svc.YTD_FIELDS, *YTD_EXTRA):
                g[f] = self.ytd[f].text().strip() or "0"
        else:
            g["layer"] = mode
            for f in MODE_YTD[mode]:
                g[f] = self.ytd[f].text().strip() or "0"
            if mode == "dabing":
                g["burden_ytd_before"] = g.pop("dabing_burden_ytd")
                g["dabing_cap_raise"] = self.ytd["dabing_cap_raise"].text().strip() or "0"
        g["category"] = self.category.currentData() or "ordinary"
        return g

    def compute(self) -> None:
        pid = self.policy.currentData()
        if not pid:
            self._show_errors({"policy": self.tr("没有可用的测算政策")})
            return
        given = self.given()
        data_dir, store = self.ctx.data_dir, self.ctx.store
        person_id = self._person["id"] if self._person else None
        year = self.year.value()
        self._clear_result()

        def work() -> dict:
            res = svc.run(pid, given, data_dir=data_dir)
            notes = svc.caveats(
                store, policy_id=pid, person_id=person_id, year=year, data_dir=data_dir
            )
            return {**res, "caveats": notes}

        self.query(work, lambda res: self._computed(given, res), self._failed)

    def _computed(self, given: dict, res: dict) -> None:
        self._last, self._last_given, self._saved = res, given, None
        self._show_errors({})
        self._display(res)
        self.save_button.setEnabled(True)
        self.settle_button.setEnabled(False)
        hypothetical = bool(res.get("caveats"))
        self.message.setStyleSheet(WARN_STYLE if hypothetical else OK_STYLE)
        self.message.setText(
            (self.tr("假设测算（见上方红字）：") if hypothetical else "")
            + self.tr(
                "测算完成：基金支付 {f} 元，个人负担 {p} 元。测算结果仅供参考，以医院实际结算为准。"
            ).format(
                f=yuan(_dec(res.get("fund_pay_sumamt", "0"))),
                p=yuan(_dec(res.get("psn_part_amt", "0") or "0")),
            )
        )
        self.computed.emit(res)

    def _display(self, res: dict) -> None:
        """The result table by fund and the steps with their sources; above them, in bold,
        what makes the result hypothetical (not insured, waiting, a stand-in policy)."""
        notes = res.get("caveats") or []
        self.caveat_label.setText("\n".join(f"⚠ {n}" for n in notes))
        t = self.result_table
        rows = [(k, label) for k, label in RESULT_ROWS if k in res]
        t.setRowCount(len(rows))
        for i, (k, label) in enumerate(rows):
            name = QTableWidgetItem(label)
            name.setData(Qt.ItemDataRole.UserRole, k)  # the settlement field, for tests only
            t.setItem(i, 0, name)
            amt = QTableWidgetItem(yuan(_dec(res[k])))
            amt.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            f = amt.font()
            if k in ("fund_pay_sumamt", "psn_part_amt"):
                f.setBold(True)
            f.setPointSizeF(f.pointSizeF() * 1.2)
            amt.setFont(f)
            t.setItem(i, 1, amt)
        s = self.steps_table
        s.setRowCount(len(res["steps"]))
        for i, st in enumerate(res["steps"]):
            s.setItem(i, 0, QTableWidgetItem(STEP_LAYER_LABELS.get(st["layer"], st["layer"])))
            s.setItem(i, 1, QTableWidgetItem(st["rule"]))
            s.setItem(i, 2, QTableWidgetItem(st["text"]))
            src = QTableWidgetItem(_short_source(st["source"]))
            src.setToolTip(st["source"])
            src.setData(Qt.ItemDataRole.UserRole, st["source"])
            s.setItem(i, 3, src)
        s.resizeRowsToContents()
        t.resizeRowsToContents()
        t.setFixedHeight(
            t.horizontalHeader().height() + sum(t.rowHeight(r) for r in range(t.rowCount())) + 4
        )
        self.tabs.setCurrentIndex(0)

    def save(self) -> None:
        if self._last is None or self._last_given is None:
            self.message.setStyleSheet(WARN_STYLE)
            self.message.setText(self.tr("请先测算，再保存"))
            return
        store, actor, data_dir = self.ctx.store, self.ctx.actor, self.ctx.data_dir
        pid = self.policy.currentData()
        given = dict(self._last_given)
        person_id = self._person["id"] if self._person else None
        label = self.anon_label.text()
        year = self.year.value()
        self.save_button.setEnabled(False)
        self.change(
            lambda: svc.save(
                store,
                actor,
                policy_id=pid,
                given=given,
                person_id=person_id,
                anon_label=label,
                year=year,
                data_dir=data_dir,
            ),
            "estimate",
            self._saved_ok,
            on_failure=self._failed,
        )

    def _saved_ok(self, row: dict) -> None:
        self._saved = row
        self.print_button.setEnabled(True)
        self.settle_button.setEnabled(row["person_id"] is not None)
        shown = {k: v for k, v in (self._last or {}).items() if k not in ("input", "caveats")}
        self.message.setStyleSheet(OK_STYLE)
        self.message.setText(
            self.tr("已保存测算（{t}），可打印测算单。").format(
                t=(row["created_at"] or "")[:16].replace("T", " ")
            )
        )
        if shown and row["result"] != shown:
            # the policy file changed between computing and saving: show what was saved
            self._display({**row["result"], "caveats": (self._last or {}).get("caveats")})
            self.message.setStyleSheet(WARN_STYLE)
            self.message.setText(
                self.tr("政策文件在测算后有更新，已按更新后的政策重新计算并保存，请核对结果。")
            )
        self._load_history()

    def print_estimate(self) -> None:
        """Preview and print the saved estimate's sheet (the receipts service renders it
        and records the copy)."""
        if not self._saved:
            return
        from desktop.gui import print_support

        print_support.print_document(self, self.ctx, "estimate", self._saved["id"])

    def mark_settled(self) -> None:
        if self._saved:
            self._settle(self._saved["id"])

    def _settle(self, eid: str) -> None:
        store, actor = self.ctx.store, self.ctx.actor
        self.settle_button.setEnabled(False)
        self.change(
            lambda: svc.mark_settled(store, actor, eid),
            "estimate",
            self._settled,
            on_failure=self._failed,
        )

    def _settled(self, row: dict) -> None:
        if self._saved and self._saved.get("id") == row.get("id"):
            self._saved = row
        self.message.setStyleSheet(OK_STYLE)
        self.message.setText(self.tr("已标记为已结算，已计入该参保人本年累计"))
        self._load_ytd()

    # ---------------------------------------------------------------- saved estimates
    def _load_history(self) -> None:
        if self._person is None:
            self.history.setRowCount(0)
            return
        store, pid, year = self.ctx.store, self._person["id"], self.year.value()
        self.query(
            lambda: svc.list_estimates(store, person_id=pid, year=year),
            self._history_loaded,
            self._failed,
        )

    def _history_loaded(self, rows: list[dict]) -> None:
        h = self.history
        h.setRowCount(len(rows))
        for i, r in enumerate(rows):
            when = QTableWidgetItem((r["created_at"] or "")[:16].replace("T", " "))
            when.setData(Qt.ItemDataRole.UserRole, r["id"])
            h.setItem(i, 0, when)
            h.setItem(i, 1, QTableWidgetItem(SETTING_LABELS.get(r["setting"], r["setting"])))
            for col, k in ((2, "fund_pay_sumamt"), (3, "psn_part_amt")):
                item = QTableWidgetItem(yuan(_dec(r[k])) if r.get(k) else "")
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                h.setItem(i, col, item)
            state = QTableWidgetItem(self.tr("已结算") if r["settled"] else self.tr("未结算"))
            state.setForeground(
                Qt.GlobalColor.darkGreen if r["settled"] else Qt.GlobalColor.darkYellow
            )
            h.setItem(i, 4, state)
        self.tabs.setTabText(1, self.tr("本年测算记录（{n}）").format(n=len(rows)))

    def _selected_id(self) -> str | None:
        row = self.history.currentRow()
        item = self.history.item(row, 0) if row >= 0 else None
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def open_selected(self) -> None:
        """Show a saved estimate (its stored result and steps) in the result tables."""
        eid = self._selected_id()
        if not eid:
            return
        store = self.ctx.store
        self.query(lambda: svc.get(store, eid), self._opened, self._failed)

    def _opened(self, row: dict | None) -> None:
        if not row:
            return
        self._last, self._last_given, self._saved = None, None, row
        self._display(row["result"])
        self.save_button.setEnabled(False)
        self.print_button.setEnabled(True)
        self.settle_button.setEnabled(not row["settled"] and row["person_id"] is not None)
        self.message.setStyleSheet(OK_STYLE)
        self.message.setText(
            self.tr("显示 {t} 保存的测算（{s}）").format(
                t=(row["created_at"] or "")[:16].replace("T", " "),
                s=self.tr("已结算") if row["settled"] else self.tr("未结算"),
            )
        )

    def settle_selected(self) -> None:
        eid = self._selected_id()
        if eid:
            self._settle(eid)

    def _step_selected(self, row: int, *_a) -> None:
        item = self.steps_table.item(row, 3) if row >= 0 else None
        if item is not None:
            self.source_detail.setText(self.tr("依据：") + item.data(Qt.ItemDataRole.UserRole))

    # ---------------------------------------------------------------- errors
    def _clear_result(self) -> None:
        self._last = None
        self.caveat_label.setText("")
        self.result_table.setRowCount(0)
        self.steps_table.setRowCount(0)
        self.save_button.setEnabled(False)
        self.settle_button.setEnabled(False)
        self.print_button.setEnabled(False)

    def _show_errors(self, errors: dict[str, str]) -> None:
        for f in self._rows:
            self._set_error(f, "")
        unplaced = []
        first = None
        for f, msg in errors.items():
            key = "level" if f in ("price_class", "facility", "disease") else f
            if key in self._rows and not self._rows[key][1].isHidden():
                self._set_error(key, "✗ " + msg)
                first = first or self._rows[key][1]
            else:
                label = {**svc.YTD_FIELDS, **YTD_EXTRA}.get(key, "")
                unplaced.append(f"{label}：{msg}" if label and label not in msg else msg)
        if first is not None:
            first.setFocus()
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.setText("；".join(unplaced) if unplaced else "")
        if errors and not unplaced:
            self.message.setText(self.tr("请按红字提示修改后再测算"))

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, ValidationError):
            self._show_errors(exc.errors)
            if self._saved is None and self._last is not None:
                self.save_button.setEnabled(True)
            return
        show_error(self, exc, self.tr("报销测算"))

    def on_shown(self) -> None:
        self.reload_policies()


def _short_source(text: str) -> str:
    """The document and article (before the quoted text); the full text is in the tooltip."""
    for sep in ("：", ":"):
        if sep in text:
            text = text.split(sep, 1)[0]
            break
    return text if len(text) <= 40 else text[:39] + "…"


def _dec(v: Any):
    from decimal import Decimal

    return Decimal(str(v))
