"""参保登记: register a household and its members, find and edit residents.

Keyboard first: the search box takes an ID number typed or scanned (a reader types and
ends with Enter), a name or pinyin initials; Enter in the results opens the household;
in the form Tab moves in reading order, Enter saves, Esc cancels, Ctrl+N starts the
next member, Ctrl+H shows the edit history. Every store call runs on the task runner.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.categories import (
    CERT_TYPES,
    ETHNICITIES,
    HUKOU_TYPES,
    INSURED_CATEGORIES,
    PERSON_STATUS,
    RELATIONS,
    SEXES,
    SUBSIDY_CATEGORIES,
)
from core.errors import ValidationError
from core.ids import check_id
from core.names import pinyin_initials
from core.relations import relation_warning
from desktop.gui.pages.base import Page as BasePage
from desktop.gui.widgets import (
    ERROR_STYLE,
    OK_STYLE,
    WARN_STYLE,
    FieldForm,
    ask_go_ahead,
    fit_columns,
    show_error,
)
from desktop.services import registration as reg
from desktop.services import setup

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


class Page(BasePage):
    error_title = "参保登记"

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(ctx, parent)
        self._dirty = False  # the clerk typed something not yet saved
        self.household: dict | None = None  # loaded household (edit mode) or None (new)
        self.members: list[dict] = []  # drafts (new) or rows (edit), shown in the table
        self.current = 0  # index in members of the member in the form
        self.last_results: list[dict] = []
        self.busy = False
        self.last_village = ""  # village of the last saved household
        self._build()
        self._load_villages()
        self.new_household()
        # load the pinyin dictionaries on the worker once the window is up (not during the
        # first paint, and not on the first save)
        QTimer.singleShot(WARM_UP_MS, self, lambda: self.query(lambda: pinyin_initials("张三")))

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.addLayout(self._build_search_row())
        body = QHBoxLayout()
        body.addLayout(self._build_lists(), 4)
        body.addWidget(self._build_form(), 7)
        outer.addLayout(body, 1)
        self._wire_keys()

    def _build_search_row(self) -> QHBoxLayout:
        """查找: the search box (ID number, name or pinyin), 查找, 查重 and the result count."""
        row = QHBoxLayout()
        row.addWidget(QLabel(self.tr("查找(&F)：")))
        self.search_box = SearchBox()
        self.search_box.setObjectName("search")
        self.search_box.setPlaceholderText(
            self.tr("输入或扫描身份证号，或输入姓名、拼音首字母（如 zs），按回车查找")
        )
        self.search_box.setClearButtonEnabled(True)
        self.search_box.returnPressed.connect(self.search)
        self.search_box.escape_pressed.connect(self.search_box.clear)
        row.addWidget(self.search_box, 1)
        self.search_button = QPushButton(self.tr("查找"))
        self.search_button.clicked.connect(self.search)
        row.addWidget(self.search_button)
        self.duplicates_button = QPushButton(self.tr("查重（Ctrl+D）"))
        self.duplicates_button.setObjectName("duplicates")
        self.duplicates_button.setToolTip(self.tr("列出证件号码重复的登记记录（重复参保）"))
        self.duplicates_button.clicked.connect(self.show_duplicates)
        row.addWidget(self.duplicates_button)
        self.search_status = QLabel("")
        self.search_status.setObjectName("search_status")
        row.addWidget(self.search_status)
        row.itemAt(0).widget().setBuddy(self.search_box)
        return row

    def _build_lists(self) -> QVBoxLayout:
        """The search results and the members of the open household."""
        left = QVBoxLayout()
        self.results = QTableWidget(0, 7)
        self.results.setObjectName("results")
        self.results.setHorizontalHeaderLabels(
            [
                self.tr("姓名"),
                self.tr("性别"),
                self.tr("证件号码"),
                self.tr("出生日期"),
                self.tr("村"),
                self.tr("与户主关系"),
                self.tr("参保状态"),
            ]
        )
        self._table_setup(self.results)
        # fit the columns to the text so the list never needs sideways scrolling at 1366
        # wide; the birth date is in the ID number and on the opened record
        self.results.setColumnHidden(3, True)
        fit_columns(self.results)
        self.results.activated.connect(lambda idx: self.open_result(idx.row()))
        self.results.doubleClicked.connect(lambda idx: self.open_result(idx.row()))
        left.addWidget(QLabel(self.tr("查找结果（回车打开）")))
        left.addWidget(self.results, 3)
        self.members_label = QLabel(self.tr("本户成员"))
        left.addWidget(self.members_label)
        self.member_table = QTableWidget(0, 5)
        self.member_table.setObjectName("members")
        self.member_table.setHorizontalHeaderLabels(
            [
                self.tr("姓名"),
                self.tr("与户主关系"),
                self.tr("证件号码"),
                self.tr("性别"),
                self.tr("状态"),
            ]
        )
        self._table_setup(self.member_table)
        fit_columns(self.member_table)
        self.member_table.activated.connect(lambda idx: self.select_member(idx.row()))
        self.member_table.clicked.connect(lambda idx: self.select_member(idx.row()))
        left.addWidget(self.member_table, 2)
        return left

    def _build_form(self) -> QWidget:
        """The household and member form (scrolling together) with its buttons below."""
        self.form_area = FormArea()
        self.form_area.save_requested.connect(self.save)
        self.form_area.cancel_requested.connect(self.cancel)
        right = QVBoxLayout(self.form_area)
        right.setContentsMargins(0, 0, 0, 0)
        self.mode_label = QLabel()
        self.mode_label.setObjectName("mode")
        self.mode_label.setStyleSheet("font-weight: bold;")
        self.message = QLabel("")
        self.message.setObjectName("message")
        top = QHBoxLayout()
        top.addWidget(self.mode_label)
        top.addWidget(self.message, 1, Qt.AlignmentFlag.AlignRight)
        right.addLayout(top)

        hh_box = QGroupBox(self.tr("家庭户"))
        self.hh_form = FieldForm()
        self.village = QComboBox()
        self.village.setObjectName("village_id")
        self.hh_address = QLineEdit()
        self.hh_address.setObjectName("household_address")
        self.hukou = _combo(HUKOU_TYPES, "hukou_type")
        self.household_no = QLineEdit()
        self.household_no.setObjectName("household_no")
        self.household_no.setPlaceholderText(self.tr("户口簿上的户号（可不填）"))
        self.hh_form.add("village_id", self.tr("村（居委会）"), self.village)
        self.hh_form.add("household_address", self.tr("家庭住址"), self.hh_address)
        self.hh_form.add("hukou_type", self.tr("户籍类型"), self.hukou)
        self.hh_form.add("household_no", self.tr("户号"), self.household_no)
        hh_box.setLayout(self.hh_form.grid)
        # The two field groups scroll together (buttons stay below), so the page fits
        # 1366×768 with a taskbar and a message that wraps can make its row taller.
        fields = QWidget()
        fields_layout = QVBoxLayout(fields)
        fields_layout.setContentsMargins(0, 0, 4, 0)
        fields_layout.addWidget(hh_box)
        self.form_scroll = QScrollArea()
        self.form_scroll.setObjectName("form_scroll")
        self.form_scroll.setWidget(fields)
        self.form_scroll.setWidgetResizable(True)
        self.form_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.form_scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        right.addWidget(self.form_scroll, 1)
        fields_layout.addWidget(self._build_member_box())
        fields_layout.addStretch(1)
        right.addLayout(self._build_buttons())
        return self.form_area

    def _build_member_box(self) -> QGroupBox:
        """成员: one member's fields (the head first)."""
        self.member_box = QGroupBox(self.tr("成员"))
        self.m_form = FieldForm()
        self.inputs: dict[str, QWidget] = {}
        name = QLineEdit()
        cert_type = _combo(CERT_TYPES, "cert_type")
        cert_no = QLineEdit()
        cert_no.setPlaceholderText(self.tr("18位身份证号，可扫描"))
        sex = _combo(SEXES, "sex", blank=self.tr("（按身份证号）"))
        birth = QLineEdit()
        birth.setPlaceholderText(self.tr("年-月-日，有身份证号时自动填写"))
        relation = _combo(RELATIONS, "relation")
        ethnicity = _combo(ETHNICITIES, "ethnicity")
        phone = QLineEdit()
        insured = _combo(INSURED_CATEGORIES, "insured_category")
        subsidy = _combo(SUBSIDY_CATEGORIES, "subsidy_category")
        ecert = QCheckBox(self.tr("已激活医保电子凭证"))
        status = _combo(PERSON_STATUS, "status")
        labels = {
            "name": self.tr("姓名"),
            "cert_type": self.tr("证件类型"),
            "cert_no": self.tr("证件号码"),
            "sex": self.tr("性别"),
            "birth_date": self.tr("出生日期"),
            "relation": self.tr("与户主关系"),
            "ethnicity": self.tr("民族"),
            "phone": self.tr("联系电话"),
            "insured_category": self.tr("参保人员类别"),
            "subsidy_category": self.tr("资助类别"),
            "status": self.tr("参保状态"),
        }
        widgets = dict(
            zip(
                MEMBER_FIELDS,
                (
                    name,
                    cert_type,
                    cert_no,
                    sex,
                    birth,
                    relation,
                    ethnicity,
                    phone,
                    insured,
                    subsidy,
                    status,
                    ecert,
                ),
                strict=True,
            )
        )
        for field in MEMBER_FIELDS:
            w = widgets[field]
            w.setObjectName(field)
            self.inputs[field] = w
            if field == "status":  # 参保状态 and the e-certificate share one row
                pair = QWidget()
                pair_lay = QHBoxLayout(pair)
                pair_lay.setContentsMargins(0, 0, 0, 0)
                pair_lay.addWidget(status, 1)
                pair_lay.addWidget(ecert)
                self.m_form.add("status", labels["status"], pair)
                self.m_form.inputs["status"] = status
            elif field != "ecert_activated":
                self.m_form.add(field, labels[field], w)
        self.m_form.inputs["ecert_activated"] = ecert
        self.m_form.errors["ecert_activated"] = self.m_form.errors["status"]
        for grid in (self.m_form.grid, self.hh_form.grid):
            grid.setColumnMinimumWidth(1, 280)
            grid.setColumnStretch(2, 1)
        self.member_box.setLayout(self.m_form.grid)
        cert_no.editingFinished.connect(self._check_cert_no)
        cert_type.currentIndexChanged.connect(lambda _i: self._check_cert_no())
        return self.member_box

    def _build_buttons(self) -> QHBoxLayout:
        """保存 / 下一位成员 / 修改记录 / 取消 — Enter on a focused button presses it."""
        buttons = QHBoxLayout()
        self.save_button = QPushButton(self.tr("保存（回车）"))
        self.save_button.setObjectName("save")
        self.save_button.clicked.connect(self.save)
        self.add_member_button = QPushButton(self.tr("下一位成员（Ctrl+N）"))
        self.add_member_button.clicked.connect(self.add_member)
        self.history_button = QPushButton(self.tr("修改记录（Ctrl+H）"))
        self.history_button.clicked.connect(self.show_history)
        self.cancel_button = QPushButton(self.tr("取消/新建户（Esc）"))
        self.cancel_button.clicked.connect(self.cancel)
        for b in (
            self.save_button,
            self.add_member_button,
            self.history_button,
            self.cancel_button,
        ):
            b.setAutoDefault(True)  # Enter on a focused button presses that button
            b.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            buttons.addWidget(b)
        return buttons

    def _wire_keys(self) -> None:
        """Typing watched for unsaved changes, Tab in reading order, the page's shortcuts."""
        self._watch_typing(
            [self.village, self.hh_address, self.hukou, self.household_no, *self.inputs.values()]
        )
        # Tab order = reading order: search, household fields, member fields, buttons.
        chain: list[QWidget] = [
            self.search_box,
            self.village,
            self.hh_address,
            self.hukou,
            self.household_no,
            *(self.inputs[f] for f in MEMBER_FIELDS),
            self.save_button,
            self.add_member_button,
            self.history_button,
            self.cancel_button,
            self.results,
            self.member_table,
        ]
        for a, b in zip(chain, chain[1:], strict=False):
            QWidget.setTabOrder(a, b)

        ctx_ = Qt.ShortcutContext.WidgetWithChildrenShortcut
        for seq, slot in (
            ("Ctrl+N", self.add_member),
            ("Ctrl+H", self.show_history),
            ("Ctrl+S", self.save),
            ("Ctrl+F", self.focus_search),
            ("Ctrl+D", self.show_duplicates),
        ):
            sc = QShortcut(QKeySequence(seq), self)
            sc.setContext(ctx_)
            sc.activated.connect(slot)

    @staticmethod
    def _table_setup(table: QTableWidget) -> None:
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.verticalHeader().setVisible(False)
        table.horizontalHeader().setStretchLastSection(True)
        table.setTabKeyNavigation(False)  # Tab moves on to the next field, not cell to cell

    # ------------------------------------------------------------------ helpers
    def _load_villages(self) -> None:
        store = self.ctx.store

        def fill(rows: list[dict]) -> None:
            current = self.village.currentData()
            self.village.clear()
            self.village.addItem(self.tr("（请选择）"), "")
            for v in rows:
                self.village.addItem(v["name"], v["id"])
            if current:
                _set_combo(self.village, current)
            elif self.household is None and len(rows) == 1:
                self.village.setCurrentIndex(1)

        self.query(lambda: setup.villages(store), fill, self._failed)

    def _failed(self, exc: BaseException) -> None:
        self.busy = False
        show_error(self, exc)

    def focus_search(self) -> None:
        self.search_box.setFocus()
        self.search_box.selectAll()

    def on_shown(self) -> None:
        self.focus_search()

    def set_message(self, text: str, style: str = OK_STYLE) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(style)

    def _check_cert_no(self) -> None:
        """Check a resident ID number as soon as it is typed: message at the field, sex and
        birth date filled in from the number."""
        if self.inputs["cert_type"].currentData() != "resident_id":
            self.m_form.errors["cert_no"].setText("")
            return
        text = self.inputs["cert_no"].text()
        if not text.strip():
            return
        chk = check_id(text)
        if not chk.valid:
            self.m_form.errors["cert_no"].setText("✗ " + chk.message)
            return
        self.inputs["cert_no"].setText(chk.normalized)
        self.m_form.errors["cert_no"].setText("")
        _set_combo(self.inputs["sex"], chk.sex)
        self.inputs["birth_date"].setText(chk.birth_date.isoformat())
        hint = self.m_form.errors["birth_date"]
        if not hint.text():
            hint.setText(self.tr("来自身份证号：") + (chk.region_name or chk.region or ""))
            hint.setStyleSheet(OK_STYLE)

    def read_member(self) -> dict:
        i = self.inputs
        return {
            "name": i["name"].text(),
            "cert_type": i["cert_type"].currentData(),
            "cert_no": i["cert_no"].text(),
            "sex": i["sex"].currentData(),
            "birth_date": i["birth_date"].text(),
            "relation": i["relation"].currentData(),
            "ethnicity": i["ethnicity"].currentData(),
            "phone": i["phone"].text(),
            "insured_category": i["insured_category"].currentData(),
            "subsidy_category": i["subsidy_category"].currentData(),
            "status": i["status"].currentData(),
            "ecert_activated": int(i["ecert_activated"].isChecked()),
        }

    def write_member(self, m: dict) -> None:
        self._dirty = False  # the form now shows what is kept (saved, or a stashed draft)
        i = self.inputs
        i["name"].setText(m.get("name", ""))
        _set_combo(i["cert_type"], m.get("cert_type") or "resident_id")
        i["cert_no"].setText(m.get("cert_no", ""))
        _set_combo(i["sex"], m.get("sex") or "")
        i["birth_date"].setText(m.get("birth_date", ""))
        _set_combo(i["relation"], m.get("relation") or "head")
        _set_combo(i["ethnicity"], m.get("ethnicity") or "01")
        i["phone"].setText(m.get("phone", ""))
        _set_combo(i["insured_category"], m.get("insured_category") or "ordinary")
        _set_combo(i["subsidy_category"], m.get("subsidy_category") or "none")
        _set_combo(i["status"], m.get("status", 1))
        i["ecert_activated"].setChecked(bool(m.get("ecert_activated")))
        self.m_form.clear_errors()
        for lab in self.m_form.errors.values():
            lab.setStyleSheet(ERROR_STYLE)

    def read_household(self) -> dict:
        return {
            "village_id": self.village.currentData() or "",
            "address": self.hh_address.text(),
            "hukou_type": self.hukou.currentData(),
            "household_no": self.household_no.text(),
        }

    @staticmethod
    def _is_blank(m: dict) -> bool:
        return not (m.get("name") or "").strip() and not (m.get("cert_no") or "").strip()

    def _refresh_member_table(self) -> None:
        t = self.member_table
        t.setRowCount(0)
        for m in self.members:
            row = t.rowCount()
            t.insertRow(row)
            if m.get("id"):
                state = self.tr("已确认") if m.get("server_version") else self.tr("待上传")
            else:
                state = self.tr("未保存")
            values = (
                m.get("name") or self.tr("（未填）"),
                RELATIONS.get(m.get("relation") or "head", ""),
                m.get("cert_no") or "",
                SEXES.get(m.get("sex") or "", ""),
                state,
            )
            for col, v in enumerate(values):
                t.setItem(row, col, QTableWidgetItem(v))
        t.resizeColumnsToContents()
        if 0 <= self.current < t.rowCount():
            t.selectRow(self.current)
        n = len([m for m in self.members if not self._is_blank(m)])
        self.members_label.setText(self.tr("本户成员") + f"（{n}人）")

    def _stash_current(self) -> None:
        m = self.read_member()
        if self.current < len(self.members):
            self.members[self.current].update(m)
        else:
            self.members.append(m)

    # ------------------------------------------------------------------ actions
    def new_household(self) -> None:
        """A blank form for the next household (the head first)."""
        self.household = None
        self.members = [{}]
        self.current = 0
        if self.village.count() == 2:
            self.village.setCurrentIndex(1)
        else:  # during a village's campaign the next household is usually from the same one
            _set_combo(self.village, self.last_village)
        self.hh_address.clear()
        _set_combo(self.hukou, "rural")
        self.household_no.clear()
        self.hh_form.clear_errors()
        self.write_member({})
        self.mode_label.setText(self.tr("新建家庭户（先户主，Ctrl+N 下一位）"))
        self.member_box.setTitle(self.tr("成员 1（户主）"))
        self.history_button.setEnabled(False)
        self._refresh_member_table()
        self._dirty = False

    # ---- unsaved typing ------------------------------------------------------------
    def _watch_typing(self, widgets: list[QWidget]) -> None:
        """Only what the clerk does marks the form changed (not filling it from the store)."""
        for w in widgets:
            if isinstance(w, QLineEdit):
                w.textEdited.connect(self._mark_dirty)
            elif isinstance(w, QComboBox):
                w.activated.connect(self._mark_dirty)
            elif isinstance(w, QCheckBox):
                w.clicked.connect(self._mark_dirty)

    def _mark_dirty(self, *_args) -> None:
        self._dirty = True

    def has_unsaved_changes(self) -> bool:
        if self._dirty:
            return True
        drafts = self.members if self.household is None else []
        return any(not m.get("id") and not self._is_blank(m) for m in drafts)

    def ask_discard(self) -> bool:
        """Ask before throwing typing away (tests replace this)."""
        return ask_go_ahead(
            self,
            self.tr("放弃未保存的内容？"),
            self.tr("正在登记的内容还没有保存。要放弃吗？"),
            self.tr("放弃"),
            self.tr("继续登记"),
        )

    def cancel(self) -> None:
        """Esc: drop what is being typed (after asking) and start a new household in the
        village the clerk chose."""
        if self.has_unsaved_changes() and not self.ask_discard():
            self.inputs["name"].setFocus()
            return
        village = self.village.currentData() or ""
        self.new_household()
        if village:
            _set_combo(self.village, village)
        self.set_message(self.tr("已取消，可登记新的家庭户"), WARN_STYLE)
        self.inputs["name"].setFocus()

    def add_member(self) -> None:
        """Ctrl+N: keep this member in the list and start the next one."""
        if self._is_blank(self.read_member()):
            self.inputs["name"].setFocus()
            return
        self._stash_current()
        self.members.append({"relation": "spouse" if len(self.members) == 1 else "son"})
        self.current = len(self.members) - 1
        self.write_member(self.members[self.current])
        self.member_box.setTitle(self.tr("成员 ") + str(self.current + 1))
        self.history_button.setEnabled(False)
        self._refresh_member_table()
        self.inputs["name"].setFocus()

    def select_member(self, row: int) -> None:
        if not (0 <= row < len(self.members)) or row == self.current:
            return
        # drafts keep what was typed; a saved member's unsaved edits are dropped
        if self.household is None or not self.members[self.current].get("id"):
            self._stash_current()
        self.current = row
        m = self.members[row]
        self.write_member(m)
        self.member_box.setTitle(self.tr("成员 ") + str(row + 1))
        self.history_button.setEnabled(bool(m.get("id")))
        self.inputs["name"].setFocus()

    def save(self) -> None:
        """Enter: save the household (new) or the member being edited (existing)."""
        if self.busy:
            return
        self._stash_current()
        warnings = self.relation_warnings()
        if warnings:
            self.m_form.errors["relation"].setText("⚠ " + warnings[0])
            if not self.confirm_relation("\n".join(warnings)):
                self.inputs["relation"].setFocus()
                return
        self._save(allow_duplicate=False)

    @staticmethod
    def _birth(m: dict) -> dt.date | None:
        text = (m.get("birth_date") or "").strip()
        if text:
            try:
                return dt.date.fromisoformat(text)
            except ValueError:
                pass
        if (m.get("cert_type") or "resident_id") == "resident_id":
            return check_id(m.get("cert_no") or "").birth_date
        return None

    def relation_warnings(self) -> list[str]:
        """Relations that do not fit the ages (a child as 配偶 of a 74-year-old …)."""
        today = dt.date.today()
        members = [m for m in self.members if not self._is_blank(m)]
        head = next((m for m in members if m.get("relation") == "head"), None)
        head_birth = self._birth(head) if head else None
        checked = members if self.household is None else [self.members[self.current]]
        out = []
        for m in checked:
            w = relation_warning(m.get("relation") or "", head_birth, self._birth(m), today)
            if w:
                out.append(f"{m.get('name') or '该成员'}：{w}")
        return out

    def confirm_relation(self, text: str) -> bool:
        """Ask before saving an implausible relation (tests replace this)."""
        return ask_go_ahead(
            self,
            self.tr("请核对与户主关系"),
            text + self.tr("\n\n确实如此就保存；填错了请返回修改。"),
            self.tr("确实如此，保存"),
            self.tr("返回修改"),
            warning=True,
        )

    def _save(self, *, allow_duplicate: bool) -> None:
        store, actor = self.ctx.store, self.ctx.actor
        household = self.read_household()
        if self.household is None:
            members = [dict(m) for m in self.members if not self._is_blank(m)]
            index_map = [i for i, m in enumerate(self.members) if not self._is_blank(m)]

            def work() -> dict:
                done = reg.create_household(
                    store, actor, household, members, allow_duplicate=allow_duplicate
                )
                return {"household_id": done.household_id, "person_id": done.person_ids[0]}

            self._run_save(work, index_map, allow_duplicate)
            return
        hid = self.household["id"]
        m = dict(self.members[self.current])
        fields = {k: m.get(k) for k in MEMBER_FIELDS}

        def work_edit() -> dict:
            reg.update_household(store, actor, hid, household)
            if m.get("id"):
                row = reg.update_person(
                    store,
                    actor,
                    m["id"],
                    fields,
                    allow_duplicate=allow_duplicate,
                    expected_version=m.get("version"),
                )
                pid = row["id"]
            else:
                pid = reg.add_person(store, actor, hid, fields, allow_duplicate=allow_duplicate)
            return {"household_id": hid, "person_id": pid}

        self._run_save(work_edit, None, allow_duplicate)

    def _run_save(self, work, index_map: list[int] | None, allow_duplicate: bool) -> None:
        self.busy = True
        self.save_button.setEnabled(False)
        self.set_message(self.tr("正在保存…"), WARN_STYLE)

        def ok(result: dict) -> None:
            self.busy = False
            self.save_button.setEnabled(True)
            self.last_village = self.village.currentData() or ""
            self._dirty = False
            n = len([m for m in self.members if not self._is_blank(m)])
            text = self.tr("已保存（待上传）")
            if index_map is not None:
                text = self.tr("已保存家庭户，共 ") + str(n) + self.tr(" 人（待上传）")
            self.ctx.events.status_message.emit(text)
            self.load_household(result["household_id"], result["person_id"], message=text)

        def failed(exc: BaseException) -> None:
            self.busy = False
            self.save_button.setEnabled(True)
            if isinstance(exc, reg.DuplicatePerson):
                if self.confirm_duplicate(exc):
                    self._save(allow_duplicate=True)
                else:
                    self._show_field_errors(
                        {exc.field: self.tr("与已登记人员的证件号码相同")}, index_map
                    )
                    self.set_message(
                        self.tr("未保存：证件号码已登记，请先查找已有记录"), ERROR_STYLE
                    )
                return
            if isinstance(exc, ValidationError):
                self._show_field_errors(exc.errors, index_map)
                self.set_message(self.tr("未保存：请按红字提示修改后按回车"), ERROR_STYLE)
                return
            if isinstance(exc, reg.StaleRecord):
                self.set_message(str(exc), ERROR_STYLE)
                return
            self.set_message(self.tr("未保存"), ERROR_STYLE)
            show_error(self, exc, self.tr("保存未完成"))

        self.change(work, "person", ok, on_failure=failed)

    def confirm_duplicate(self, exc: reg.DuplicatePerson) -> bool:
        """Warn before a second record with the same ID number; default answer: no."""
        lines = "\n".join(
            f"· {e['name']}　{e['cert_no']}　{e.get('village') or ''}　"
            f"{RELATIONS.get(e.get('relation') or '', '')}"
            for e in exc.existing
        )
        box = QMessageBox(self)
        box.setObjectName("duplicate_warning")
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(self.tr("证件号码已登记"))
        box.setText(
            self.tr("证件号码 ")
            + exc.cert_no
            + self.tr(" 已有登记记录：\n")
            + lines
            + self.tr(
                "\n\n同一人登记两次会造成重复参保。确认不是同一人（例如号码重号）才继续保存。"
            )
        )
        yes = box.addButton(self.tr("仍然保存"), QMessageBox.ButtonRole.AcceptRole)
        no = box.addButton(self.tr("不保存"), QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(no)
        box.setEscapeButton(no)
        box.exec()
        return box.clickedButton() is yes

    def _show_field_errors(self, errors: dict[str, str], index_map: list[int] | None) -> None:
        """Put each message beside its field; for a new household, errors of member i
        (``members.i.field``) bring that member into the form first."""
        hh_errors: dict[str, str] = {}
        member_errors: dict[int, dict[str, str]] = {}
        for key, msg in errors.items():
            if key in self.hh_form.errors:
                hh_errors[key] = msg
            elif key.startswith("members."):
                parts = key.split(".", 2)
                idx = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
                field = parts[2] if len(parts) > 2 else "name"
                pos = index_map[idx] if index_map and idx < len(index_map) else idx
                member_errors.setdefault(pos, {})[field] = msg
            else:
                member_errors.setdefault(self.current, {})["name" if key == "members" else key] = (
                    msg
                )
        unplaced: list[str] = []
        if member_errors:
            target = min(member_errors)
            if target != self.current and target < len(self.members):
                self.current = target
                self.write_member(self.members[target])
                self.member_box.setTitle(self.tr("成员 ") + str(target + 1))
                self._refresh_member_table()
            for lab in self.m_form.errors.values():  # a green hint may sit in an error line
                lab.setStyleSheet(ERROR_STYLE)
            unplaced = self.m_form.show_errors(member_errors[target])
        else:
            self.m_form.clear_errors()
        self.hh_form.show_errors(hh_errors)  # household fields come first in reading order
        if unplaced:
            self.set_message("；".join(unplaced), ERROR_STYLE)

    # ------------------------------------------------------------------ search / open
    def search(self) -> None:
        text = self.search_box.text()
        if not text.strip():
            return
        store = self.ctx.store
        self.search_status.setText(self.tr("查找中…"))
        self.search_status.setStyleSheet(WARN_STYLE)

        def done(rows: list[dict]) -> None:
            self.last_results = rows
            self._show_results(rows)
            if not rows:
                self.search_status.setText(not_found_message(text))
                self.search_status.setStyleSheet(WARN_STYLE)
                self._start_with_number(text)
                return
            if len(rows) >= SEARCH_LIMIT:
                self.search_status.setText(
                    self.tr("只显示前 ") + str(len(rows)) + self.tr(" 人，请多输入几个字")
                )
            else:
                self.search_status.setText(self.tr("找到 ") + str(len(rows)) + self.tr(" 人"))
            self.search_status.setStyleSheet(OK_STYLE)
            kind, q = reg.classify_query(text)
            exact = [r for r in rows if kind == "cert" and r["cert_no"] == q]
            if getattr(self, "_open_first", False):
                self._open_first = False
                self.open_result(0)
            elif len(exact) == 1 or (kind == "cert" and len(rows) == 1):
                # a scanned/typed full ID number jumps straight to the person
                self.open_result(rows.index(exact[0]) if exact else 0)
            else:
                self.results.setFocus()
                self.results.selectRow(0)

        self.query(lambda: reg.search_persons(store, text, limit=SEARCH_LIMIT), done, self._failed)

    def show_duplicates(self) -> None:
        """List records sharing a certificate number (重复参保) so one can be cleared by
        setting its 参保状态 to 终止参保."""
        store = self.ctx.store
        self.search_status.setText(self.tr("查重中…"))
        self.search_status.setStyleSheet(WARN_STYLE)

        def done(rows: list[dict]) -> None:
            self.last_results = rows
            self._show_results(rows)
            if rows:
                numbers = len({r["cert_no"] for r in rows})
                self.search_status.setText(
                    self.tr("有 ")
                    + str(numbers)
                    + self.tr(" 个证件号码重复登记：")
                    + self.tr("打开后把重复的一条设为“终止参保”")
                )
                self.search_status.setStyleSheet(ERROR_STYLE)
                self.results.setFocus()
                self.results.selectRow(0)
            else:
                self.search_status.setText(self.tr("没有重复登记"))
                self.search_status.setStyleSheet(OK_STYLE)

        self.query(lambda: reg.list_duplicates(store), done, self._failed)

    def _start_with_number(self, text: str) -> None:
        """A scanned ID number that is not registered yet starts a new household with it:
        number, sex and birth date filled in, the cursor on the name."""
        chk = check_id(text)
        if not chk.valid:
            return
        if self.household is not None or any(not self._is_blank(m) for m in self.members):
            return  # never overwrite what the clerk is typing
        self.new_household()
        self.inputs["cert_no"].setText(chk.normalized)
        self._check_cert_no()
        self.inputs["name"].setFocus()

    def _show_results(self, rows: list[dict]) -> None:
        t = self.results
        t.setRowCount(0)
        for r in rows:
            i = t.rowCount()
            t.insertRow(i)
            for col, v in enumerate(
                (
                    r["name"],
                    SEXES.get(r["sex"], ""),
                    r["cert_no"],
                    r["birth_date"],
                    r.get("village") or "",
                    RELATIONS.get(r["relation"], ""),
                    PERSON_STATUS.get(r["status"], ""),
                )
            ):
                t.setItem(i, col, QTableWidgetItem(v))
        t.resizeColumnsToContents()

    def open_result(self, row: int) -> None:
        if 0 <= row < len(self.last_results):
            r = self.last_results[row]
            self.load_household(r["household_id"], r["id"])

    def open_item(self, person_id: Any) -> None:
        """Main-window hook: show this person (e.g. from another page)."""
        store = self.ctx.store

        def got(p: dict | None) -> None:
            if p is not None:
                self.load_household(p["household_id"], p["id"])

        self.query(lambda: reg.get_person(store, str(person_id)), got, self._failed)

    def load_household(
        self, household_id: str, person_id: str | None = None, *, message: str = ""
    ) -> None:
        store = self.ctx.store

        def got(hh: dict | None) -> None:
            if hh is None:
                self.set_message(self.tr("找不到该家庭户"), ERROR_STYLE)
                return
            self.household = hh
            self.members = [dict(m) for m in hh["members"]]
            ids = [m["id"] for m in self.members]
            self.current = ids.index(person_id) if person_id in ids else 0
            _set_combo(self.village, hh["village_id"] or "")
            self.hh_address.setText(hh["address"])
            _set_combo(self.hukou, hh["hukou_type"])
            self.household_no.setText(hh["household_no"] or "")
            self.hh_form.clear_errors()
            self.write_member(self.members[self.current])
            head = next((m["name"] for m in self.members if m["id"] == hh["head_person_id"]), "")
            self.mode_label.setText(
                self.tr("编辑家庭户：户主 ") + head + "　" + (hh.get("village") or "")
            )
            self.member_box.setTitle(self.tr("成员 ") + str(self.current + 1))
            self.history_button.setEnabled(True)
            self._refresh_member_table()
            self.set_message(message, OK_STYLE)
            self.inputs["name"].setFocus()

        self.query(lambda: reg.get_household(store, household_id), got, self._failed)

    def show_history(self) -> None:
        m = self.members[self.current] if self.current < len(self.members) else {}
        if not m.get("id"):
            self.set_message(self.tr("新成员保存后才有修改记录"), WARN_STYLE)
            return
        store = self.ctx.store

        def got(history: list[dict]) -> None:
            self.history_dialog = HistoryDialog(m.get("name", ""), history, self)
            self.history_dialog.open()

        self.query(lambda: reg.person_history(store, m["id"]), got, self._failed)

    # ------------------------------------------------------------------ screenshots
    def prepare_screenshot(self) -> None:
        """Show a found demo household for the README picture."""
        self._open_first = True
        self.search_box.setText("zs")
        self.search()
