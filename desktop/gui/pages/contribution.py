"""缴费查询: find a resident, see each 参保年度's status (words and colour), collect a payment
(代收) and print nothing wrong; void or refund with a supervisor; the yearly campaign list
of who has not paid, with CSV / Excel export for the village doctor.

Keyboard first: the search box takes an ID number (typed or scanned, ends with Enter), a
name or pinyin initials; Enter in the results opens the person; in the payment form Enter
collects. Every store call runs on ``ctx.tasks``; widgets only present what services return.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
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
from desktop.gui.pages.base import Page as BasePage
from desktop.gui.widgets import (
    ERROR_STYLE,
    OK_STYLE,
    WARN_STYLE,
    ConfirmDialog,
    FieldForm,
    Note,
    heading,
    show_error,
)
from desktop.services import contribution as svc
from desktop.services import registration as reg
from desktop.services import settings as settings_service
from desktop.services import setup

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
    """Void / refund: the reason, and a supervisor's user name and password."""

    def __init__(self, parent: QWidget | None, payment: dict):
        super().__init__(parent)
        self.setWindowTitle(self.tr("作废或退费（需主管确认）"))
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
        self.username = self.form.add("username", self.tr("主管用户名"), QLineEdit())
        self.username.setObjectName("supervisor_username")
        self.password = self.form.add("password", self.tr("主管密码"), QLineEdit())
        self.password.setObjectName("supervisor_password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        lay.addWidget(self.refund)
        lay.addLayout(self.form.grid)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def values(self) -> dict:
        return {
            "reason": self.reason.text(),
            "username": self.username.text(),
            "password": self.password.text(),
            "refund": self.refund.isChecked(),
        }


class Page(BasePage):
    error_title = "缴费查询"
    YEAR_HEADERS = [
        "参保年度",
        "状态",
        "金额（元）",
        "缴费方式",
        "缴费日期",
        "收据号",
        "待遇期",
        "等待期",
        "连续参保",
        "大病封顶提高",
        "说明",
    ]

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(ctx, parent)
        self.ctx = ctx
        self.person_id: str | None = None
        self.status: dict | None = None
        self.campaign_result: dict | None = None
        self.last_result: dict | None = None
        self._paying = False  # a payment is being checked or recorded: a second Enter waits
        self.county_phone = ""
        outer = QVBoxLayout(self)
        self.banner = QLabel("")
        self.banner.setObjectName("sync_banner")
        self.banner.setStyleSheet(BANNER_STYLE)
        self.banner.setWordWrap(True)
        self.banner.hide()
        outer.addWidget(self.banner)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("contribution_tabs")
        outer.addWidget(self.tabs)
        self.tabs.addTab(self._build_lookup(), self.tr("缴费查询与收费"))
        self.tabs.addTab(self._build_campaign(), self.tr("征缴名单（未缴人员）"))
        QShortcut(QKeySequence("Ctrl+F"), self, activated=self.search.setFocus)
        QShortcut(QKeySequence("Ctrl+P"), self, activated=self._print_shortcut)
        ctx.events.data_changed.connect(self._data_changed)
        ctx.events.sync_status.connect(lambda _status: self.refresh_banner())
        self.refresh_banner()

    # ------------------------------------------------------------ building
    def today(self) -> dt.date:
        return self.ctx.extras.get("today") or dt.date.today()

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
        row.addWidget(QLabel(self.tr("查找参保人")))
        row.addWidget(self.search, 1)
        row.addWidget(go)
        row.addWidget(self.members_btn)
        lay.addLayout(row)
        self.results = _Table("results", ["姓名", "证件号码", "性别", "出生日期", "村", "参保类别"])
        self.results.setMaximumHeight(84)
        self.results.cellDoubleClicked.connect(self._result_chosen)
        lay.addWidget(self.results)
        self.search_msg = Note()
        self.search_msg.setObjectName("search_msg")
        lay.addWidget(self.search_msg)

        self.person_label = heading(
            self.tr("请先查找参保人：输入身份证号、姓名或拼音首字母后按回车")
        )
        self.person_label.setObjectName("person_label")
        lay.addWidget(self.person_label)
        self.years = _Table("years", self.YEAR_HEADERS)
        self.years.cellDoubleClicked.connect(self._year_chosen)
        # at 1366×768 at least three 参保年度 lines stay visible (next, this and last year)
        self.years.setMinimumHeight(
            self.years.horizontalHeader().sizeHint().height()
            + 3 * self.years.verticalHeader().defaultSectionSize()
            + 2 * self.years.frameWidth()
        )
        lay.addWidget(self.years, 1)

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

    # ------------------------------------------------------------ helpers
    def _failed(self, exc: BaseException) -> None:
        show_error(self, exc)

    def refresh_banner(self) -> None:
        store = self.ctx.store

        def done(text: str | None) -> None:
            self.banner.setText(text or "")
            self.banner.setVisible(bool(text))

        self.query(lambda: svc.sync_banner(store), done, self._failed)

    def on_shown(self) -> None:
        self.refresh_banner()
        self._load_county_phone()
        self.search.setFocus()

    def _load_county_phone(self) -> None:
        def done(s) -> None:
            self.county_phone = s.county_phone

        store = self.ctx.store
        self.query(lambda: settings_service.get_settings(store), done, self._failed)

    def _data_changed(self, kind: str) -> None:
        if kind in ("payment", "person", "enrollment", "sync") and self.person_id:
            self.load_person(self.person_id)
        if kind == "sync":
            self.refresh_banner()

    def _load_villages(self) -> None:
        store = self.ctx.store

        def fill(rows: list[dict]) -> None:
            current = self.camp_scope.currentData()
            self.camp_scope.clear()
            for v in rows:
                self.camp_scope.addItem(self.tr("村：") + v["name"], ("village", v["id"]))
            if self.status:
                p = self.status["person"]
                self.camp_scope.addItem(
                    self.tr("本户：") + p["name"] + self.tr(" 一户"),
                    ("household", p["household_id"]),
                )
            if current is not None:
                i = self.camp_scope.findData(current)
                if i >= 0:
                    self.camp_scope.setCurrentIndex(i)

        self.query(lambda: setup.villages(store), fill, self._failed)

    # ------------------------------------------------------------ search
    def do_search(self) -> None:
        text = self.search.text().strip()
        if not text:
            self.search_msg.setText(self.tr("请输入身份证号、姓名或拼音首字母"))
            return
        store = self.ctx.store

        def done(rows: list[dict]) -> None:
            self._fill_results(rows)
            if not rows:
                self.search_msg.setText(self.tr("没有找到：") + text)
            elif len(rows) == 1:
                self.open_item(rows[0]["id"])

        self.query(lambda: reg.search_persons(store, text), done, self._failed)

    def _fill_results(self, rows: list[dict]) -> None:
        # one found opens at once (nothing to say); several: say how many to choose from
        self.search_msg.setText(f"找到 {len(rows)} 人，请选择" if len(rows) > 1 else "")
        self.results.setRowCount(len(rows))
        for i, r in enumerate(rows):
            self.results.setItem(i, 0, _item(r["name"], data=r["id"]))
            self.results.setItem(i, 1, _item(r["cert_no"]))
            self.results.setItem(i, 2, _item("男" if r["sex"] == "male" else "女"))
            self.results.setItem(i, 3, _item(r["birth_date"]))
            self.results.setItem(i, 4, _item(r.get("village") or ""))
            self.results.setItem(i, 5, _item(INSURED_CATEGORIES.get(r["insured_category"], "")))
        if rows:
            self.results.selectRow(0)

    def _result_chosen(self, row: int, _col: int) -> None:
        it = self.results.item(row, 0)
        if it is not None:
            self.open_item(it.data(Qt.ItemDataRole.UserRole))

    def show_household(self) -> None:
        if not self.status:
            return
        store, hid = self.ctx.store, self.status["person"]["household_id"]

        def done(hh: dict | None) -> None:
            members = (hh or {}).get("members", [])
            for m in members:
                m["village"] = (hh or {}).get("village")
            self._fill_results(members)
            self.results.setFocus()

        self.query(lambda: reg.get_household(store, hid), done, self._failed)

    # ------------------------------------------------------------ one person
    def open_item(self, person_id: Any) -> None:
        self.pay_msg.setText("")
        self.print_btn.setEnabled(False)
        self.back_years.blockSignals(True)
        self.back_years.setValue(0)
        self.back_years.blockSignals(False)
        self.form.clear_errors()
        self.load_person(str(person_id))

    def load_person(self, person_id: str) -> None:
        store, today = self.ctx.store, self.today()

        def done(st: dict) -> None:
            first = self.person_id != person_id
            self.person_id = person_id
            self.status = st
            self._show_status(st, reset_form=first)
            self._load_villages()
            if first and self.pay_btn.isEnabled() and self.search.hasFocus():
                self.amount.setFocus()  # found to collect: the clerk types the amount next

        self.query(lambda: svc.status_years(store, person_id, today=today), done, self._failed)

    def _show_status(self, st: dict, *, reset_form: bool) -> None:
        p = st["person"]
        self.person_label.setText(
            f"{p['name']}　{p['cert_masked']}　{p['category_label']}　{p['village']}"
        )
        self.members_btn.setEnabled(bool(p["household_id"]))
        today = self.today()
        rows = st["years"]
        self.years.setRowCount(len(rows))
        for i, r in enumerate(rows):
            words, color = status_words(r, today)
            period = f"{r['benefits_from']} 至 {r['benefits_to']}" if r["benefits_from"] else ""
            if no_benefits(r):
                period = NO_BENEFITS
            if r["waiting"]:
                unit = "个月" if r["waiting_unit"] == "months" else "天"
                waiting = f"{r['waiting']}{unit}，至 {r['waiting_until']}"
            elif r["benefits_from"]:
                waiting = "无等待期"
            else:
                waiting = ""
            cells = [
                (f"{r['year']}", None, r),
                (words, color, None),
                (r["amount"] or (f"应缴 {r['amount_due']}" if r["amount_due"] else ""), None, None),
                (r["channel_label"], None, None),
                (r["paid_on"], None, None),
                (r["receipt_no"], None, None),
                (period, None, None),
                (waiting, AMBER if r.get("in_waiting") else None, None),
                (f"{r['continuous_years']}年" if r["continuous_years"] else "", None, None),
                (f"{r['incentive_raise']}元" if r["incentive_raise"] else "", None, None),
                (r["note"], None, None),
            ]
            for c, (text, col, data) in enumerate(cells):
                self.years.setItem(i, c, _item(text, col, data))
        if reset_form or not self.paid_on.text():
            self.paid_on.setText(self.today().isoformat())
        # collection closes with the year — of the payment date, which may be back-dated
        since = min(self._paid_on_year() or today.year, today.year)
        open_unpaid = [
            r["year"]
            for r in rows
            if r["status"] == "unpaid" and r["policy_id"] is not None and r["year"] >= since
        ]
        # a closed 参保年度 (before this year) back-dates cover: a supervisor's job, with a reason
        closed = [y for y in open_unpaid if y < today.year]
        payable = [y for y in open_unpaid if y >= today.year or self.ctx.actor.is_supervisor]
        current = self.pay_year.currentData()
        self.pay_year.blockSignals(True)
        self.pay_year.clear()
        for y in sorted(payable, reverse=True):
            label = f"{y}年度（已截止，补录须填原因）" if y < today.year else f"{y}年度"
            self.pay_year.addItem(label, y)
        if current in payable and not reset_form:
            self.pay_year.setCurrentIndex(self.pay_year.findData(current))
        self.pay_year.blockSignals(False)
        self.pay_btn.setEnabled(bool(payable))
        missing = [
            r["year"] for r in rows if r["status"] == "no_policy" and r["year"] >= today.year
        ]
        self._show_missing_standard(sorted(missing))
        if not payable:
            self.due_label.setStyleSheet(WARN_STYLE)
            if closed:
                self.due_label.setText(
                    self.tr(
                        "{0}参保年度已截止收费。补录往年缴费须由主管登录后办理，并填写原因。"
                    ).replace("{0}", "、".join(str(y) for y in closed))
                )
            elif missing:
                self.due_label.setText(self.tr("暂不能收费：缴费标准还没有到达本机（见下方说明）"))
            else:
                self.due_label.setText(self.tr("没有可收费的参保年度（已缴或资助参保）"))
        else:
            self.refresh_quote()
        self._update_void_button()

    def _show_missing_standard(self, years: list[int]) -> None:
        """Say, in words a clerk can act on, that a year's standard has not reached the desk."""
        if not years:
            self.missing_note.setText("")
            self.sync_now_btn.hide()
            return
        phone = self.county_phone
        call = (
            f"请打电话问县医保局（{phone}）"
            if phone
            else "请联系县医保局（电话可请主管填在 系统→系统设置 里）"
        )
        self.missing_note.setText(
            f"{'、'.join(str(y) for y in years)}参保年度的缴费标准还没有到达本机，暂不能收这一年的费。"
            f"县医保局发布后，点“立即同步”即可取回；同步后仍没有，{call}。"
        )
        self.sync_now_btn.show()

    def _paid_on_year(self) -> int | None:
        try:
            return dt.date.fromisoformat(self.paid_on.text().strip()).year
        except ValueError:
            return None

    def _paid_on_changed(self) -> None:
        """A back-dated payment date may open last year's 参保年度 (or close it again)."""
        if self.status is not None:
            self._show_status(self.status, reset_form=False)
        else:
            self.refresh_quote()

    def refresh_quote(self) -> None:
        if not self.person_id or self.pay_year.currentData() is None:
            return
        store, pid, today = self.ctx.store, self.person_id, self.today()
        year, day = self.pay_year.currentData(), self.paid_on.text().strip()
        back = self.back_years.value()

        def done(q: dict) -> None:
            wait = ""
            if q["waiting"]:
                unit = "个月" if q["waiting_unit"] == "months" else "天"
                wait = f"，等待期 {q['waiting']}{unit}"
            self.due_label.setStyleSheet("")
            why = q["reasons"]["amount_due"]["rule"]
            if q.get("back_amount"):
                why += "；" + q["reasons"]["back_amount"]["rule"]
            self.due_label.setText(
                f"应缴 {q['total_due']} 元（{q['phase_label']}{wait}"
                + (
                    f"，{NO_BENEFITS}（等待期至 {q['benefits_from']} 才结束）"
                    if no_benefits(q)
                    else f"，待遇自 {q['benefits_from']} 起"
                )
                + f"）　依据：{why}"
            )

        def failed(exc: BaseException) -> None:
            if isinstance(exc, ValidationError):
                self.due_label.setStyleSheet(ERROR_STYLE)
                self.due_label.setText("；".join(exc.errors.values()))
            else:
                self._failed(exc)

        self.query(
            lambda: svc.quote(store, pid, year, day or None, today=today, back_years=back),
            done,
            failed,
        )

    def cancel_form(self) -> None:
        """Esc in the payment form: clear what was typed and the messages."""
        self.amount.clear()
        self.back_years.setValue(0)
        self.form.clear_errors()
        self.pay_msg.setText("")
        self.paid_on.setText(self.today().isoformat())
        self.refresh_quote()

    def confirm(self, text: str) -> bool:
        """Money changes hands: ask once (tests replace this). Safe against a quick second
        Enter: 确认收费 only becomes active a moment after the question is on screen."""
        return ConfirmDialog(self, self.tr("确认收费"), text).exec() == QDialog.DialogCode.Accepted

    def ask_backdate_reason(self, year: int, benefits_from: str) -> str | None:
        """A supervisor records a payment for a closed 参保年度: warn and ask why (tests
        replace this)."""
        text, ok = QInputDialog.getText(
            self,
            self.tr("补录往年缴费"),
            self.tr(
                "{y}参保年度已截止收费。按所填缴费日期补录，会把待遇倒签到 {d} 起。\n"
                "此操作记入审计日志。请填写补录原因："
            )
            .replace("{y}", str(year))
            .replace("{d}", benefits_from or "—"),
        )
        return text.strip() if ok and text.strip() else None

    def do_pay(self) -> None:
        if not self.person_id or not self.pay_btn.isEnabled() or self._paying:
            return
        fields = {
            "person_id": self.person_id,
            "year": self.pay_year.currentData() or "",
            "amount": self.amount.text(),
            "channel": self.channel.currentData(),
            "paid_on": self.paid_on.text(),
            "back_years": self.back_years.value(),
        }
        self.form.clear_errors()
        self.pay_msg.setText("")
        store, actor, today = self.ctx.store, self.ctx.actor, self.today()
        self._paying = True

        def checked(info: dict) -> None:
            self._paying = False
            name = self.status["person"]["name"] if self.status else ""
            if info["backdated"]:
                reason = self.ask_backdate_reason(info["year"], info["terms"]["benefits_from"])
                if reason is None:
                    return
                fields["backdate_reason"] = reason
            if not self.confirm(
                f"确认收取 {name} {info['year']}年度 {info['amount']} 元"
                f"（{self.channel.currentText()}）？"
            ):
                return
            self._record(fields, name)

        self.query(
            lambda: svc.check_payment(store, actor, fields, today=today),
            checked,
            self._payment_refused,
        )

    def _payment_refused(self, exc: BaseException) -> None:
        self._paying = False
        if isinstance(exc, ValidationError):
            rest = self.form.show_errors(exc.errors)
            if rest:
                self.pay_msg.setStyleSheet(ERROR_STYLE)
                self.pay_msg.setText("✗ " + "；".join(rest))
        else:
            self._failed(exc)

    def _record(self, fields: dict, name: str) -> None:
        store, actor, today = self.ctx.store, self.ctx.actor, self.today()
        self._paying = True

        def ok(res: dict) -> None:
            self.last_result = res
            t = res["terms"]
            wait = "无等待期"
            if t["waiting"]:
                unit = "个月" if t["waiting_unit"] == "months" else "天"
                wait = f"等待期 {t['waiting']}{unit}"
            self.pay_msg.setStyleSheet(OK_STYLE)
            self.pay_msg.setText(
                f"✓ 已收费 {res['payment']['amount']} 元，收据号 {res['receipt_no']}；"
                + (
                    f"{NO_BENEFITS}（{wait}，至 {t['benefits_from']} 才结束）。"
                    if no_benefits(t)
                    else f"待遇自 {t['benefits_from']} 至 {t['benefits_to']}（{wait}）。"
                )
                + "待县级确认。"
            )
            self.amount.clear()
            self.back_years.setValue(0)
            self.print_btn.setEnabled(True)
            self._paying = False
            self.ctx.events.status_message.emit(f"已收费 {name} {res['receipt_no']}")

        self.change(
            lambda: svc.record_payment(store, actor, fields, today=today),
            "payment",
            ok,
            on_failure=self._payment_refused,
        )

    def _print_shortcut(self) -> None:
        if self.print_btn.isEnabled():
            self.open_printing()

    def open_printing(self) -> None:
        """The receipt is printed on the 打印 page (issue 5); it lists it first: the selected
        paid year's receipt, else the payment just collected."""
        receipt_no = self._selected_receipt_no()
        if receipt_no is None and self.last_result:
            receipt_no = self.last_result["receipt_no"]
        if receipt_no:
            self.ctx.events.open_page.emit("printing", receipt_no)

    def _selected_receipt_no(self) -> str | None:
        row = self.years.currentRow()
        it = self.years.item(row, 0) if row >= 0 else None
        r = it.data(Qt.ItemDataRole.UserRole) if it is not None else None
        return r.get("receipt_no") or None if r else None

    def _selected_payment(self) -> dict | None:
        row = self.years.currentRow()
        it = self.years.item(row, 0) if row >= 0 else None
        r = it.data(Qt.ItemDataRole.UserRole) if it is not None else None
        if r and r.get("payment_id") and r["status"] in svc.LIVE:
            return r
        return None

    def _update_void_button(self) -> None:
        self.void_btn.setEnabled(self._selected_payment() is not None)
        if self._selected_receipt_no() is not None:
            self.print_btn.setEnabled(True)
        elif not self.last_result:
            self.print_btn.setEnabled(False)

    def _year_chosen(self, row: int, _col: int) -> None:
        self.years.selectRow(row)
        it = self.years.item(row, 0)
        r = it.data(Qt.ItemDataRole.UserRole) if it else None
        if r and r["status"] == "unpaid":
            i = self.pay_year.findData(r["year"])
            if i >= 0:
                self.pay_year.setCurrentIndex(i)
                self.amount.setFocus()

    def supervisor_dialog(self, payment: dict) -> dict | None:
        """Ask for the reason and the supervisor's credentials (tests replace this)."""
        dlg = SupervisorDialog(self, payment)
        if dlg.exec() != QDialog.DialogCode.Accepted.value:
            return None
        return dlg.values()

    def do_void(self) -> None:
        pay = self._selected_payment()
        if pay is None:
            return
        vals = self.supervisor_dialog(pay)
        if vals is None:
            return
        store, actor = self.ctx.store, self.ctx.actor

        def work() -> dict:
            from desktop.services import auth

            if not vals["username"].strip():
                raise ValidationError(
                    {"supervisor": "作废或退费需要主管确认，请输入主管用户名和密码"}
                )
            supervisor = auth.login(store, vals["username"], vals["password"])
            return svc.void_payment(
                store,
                actor,
                pay["payment_id"],
                reason=vals["reason"],
                supervisor=supervisor,
                refund=vals["refund"],
            )

        def ok(row: dict) -> None:
            word = "退费" if row["status"] == "refunded" else "作废"
            self.pay_msg.setStyleSheet(WARN_STYLE)
            self.pay_msg.setText(
                f"已{word}：收据号 {row['receipt_no']}（原因：{row['void_reason']}）"
            )

        def failed(exc: BaseException) -> None:
            self.pay_msg.setStyleSheet(ERROR_STYLE)
            if isinstance(exc, ValidationError):
                self.pay_msg.setText("✗ " + "；".join(exc.errors.values()))
            elif isinstance(exc, PermissionError) or type(exc).__name__ == "LoginFailed":
                self.pay_msg.setText("✗ " + str(exc))
            else:
                self._failed(exc)

        self.change(work, "payment", ok, on_failure=failed)

    # ------------------------------------------------------------ campaign
    def run_campaign(self) -> None:
        scope = self.camp_scope.currentData()
        if scope is None:
            self.camp_summary.setText(self.tr("请先选择村或户"))
            return
        kind, key = scope
        year, store, today = self.camp_year.value(), self.ctx.store, self.today()
        kw = {"village_id": key} if kind == "village" else {"household_id": key}

        def done(res: dict) -> None:
            self.campaign_result = res
            self._show_campaign(res)

        self.query(lambda: svc.campaign(store, year=year, today=today, **kw), done, self._failed)

    def _show_campaign(self, res: dict) -> None:
        text = (
            f"{res['year']}参保年度：未缴 {res['unpaid_count']} 人（{res['households']} 户），"
            f"应缴合计 {res['total_due']} 元；已缴 {res['paid_count']} 人；"
            f"资助参保 {res['subsidized_count']} 人；共 {res['persons']} 人"
        )
        if res["message"]:
            text += "\n" + res["message"]
        self.camp_summary.setText(text)
        rows = res["rows"]
        self.camp_table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            vals = [
                r["village"],
                r["address"],
                r["head_name"],
                r["name"],
                r["cert_masked"],
                r["category"],
                "已缴" if r["paid_last_year"] else "未缴",
                r["amount_due"],
                r["phone"],
            ]
            for c, v in enumerate(vals):
                self.camp_table.setItem(
                    i, c, _item(v, RED if c == 3 else None, r["person_id"] if c == 0 else None)
                )
        self.csv_btn.setEnabled(bool(rows))
        self.xlsx_btn.setEnabled(bool(rows))

    def _campaign_chosen(self, row: int, _col: int) -> None:
        it = self.camp_table.item(row, 0)
        if it is not None:
            self.tabs.setCurrentIndex(0)
            self.open_item(it.data(Qt.ItemDataRole.UserRole))

    def ask_export(self, kind: str) -> None:
        if not self.campaign_result:
            return
        res = self.campaign_result
        name = f"未缴名单_{res['year']}.{kind}"
        filt = "CSV (*.csv)" if kind == "csv" else "Excel (*.xlsx)"
        path, _ = QFileDialog.getSaveFileName(self, self.tr("导出名单"), name, filt)
        if path:
            self.export_to(path, kind)

    def export_to(self, path: str, kind: str) -> None:
        res = self.campaign_result
        fn = svc.export_csv if kind == "csv" else svc.export_xlsx

        def ok(p) -> None:
            self.camp_summary.setText(
                self.camp_summary.text().split("\n已导出")[0] + f"\n已导出：{p}"
            )

        self.query(lambda: fn(res, path), ok, self._failed)
