"""The 参保登记 page laid out: search row, result lists, the household form, buttons and keys."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QTableWidget,
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
from desktop.gui.pages.registration.common import MEMBER_FIELDS, FormArea, SearchBox, _combo
from desktop.gui.widgets import (
    FieldForm,
    fit_columns,
    page_keys_first,
)


class _Layout:
    """Builds the page (part of :class:`desktop.gui.pages.registration.Page`)."""

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.addLayout(self._build_search_row())
        body = QHBoxLayout()
        body.addLayout(self._build_lists(), 5)
        body.addWidget(self._build_form(), 6)
        outer.addLayout(body, 1)
        # The buttons take the page's width below both: in the form's column (~880 px of
        # buttons) they left the lists ~300 px, and the members' 状态 (未保存) and the
        # results' 与户主关系 and 参保状态 were cut off at 1366×768.
        outer.addWidget(self._build_buttons())
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
        # 地方认定人员类别: the groups the county's policy names (filled when they load;
        # hidden when the policy names none)
        group = QComboBox()
        group.setToolTip(self.tr("本县政策认定的人员类别（如退役军人及军属、一类低保）"))
        group.addItem(self.tr("（无地方认定类别）"), "")
        group.setVisible(False)
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
                    group,
                ),
                strict=True,
            )
        )
        self._place_member_fields(widgets, labels)
        for grid in (self.m_form.grid, self.hh_form.grid):
            grid.setColumnMinimumWidth(1, 280)
            grid.setColumnStretch(2, 1)
        self.member_box.setLayout(self.m_form.grid)
        cert_no.editingFinished.connect(self._check_cert_no)
        cert_type.currentIndexChanged.connect(lambda _i: self._check_cert_no())
        return self.member_box

    def _place_member_fields(self, widgets: dict, labels: dict) -> None:
        """One row per field; 参保状态 shares its row with the e-certificate, 参保人员类别 with
        the county's own group (地方认定人员类别)."""
        for field in MEMBER_FIELDS:
            w = widgets[field]
            w.setObjectName(field)
            self.inputs[field] = w
            if field == "status":  # 参保状态 and the e-certificate share one row
                pair = QWidget()
                pair_lay = QHBoxLayout(pair)
                pair_lay.setContentsMargins(0, 0, 0, 0)
                pair_lay.addWidget(widgets["status"], 1)
                pair_lay.addWidget(widgets["ecert_activated"])
                self.m_form.add("status", labels["status"], pair)
                self.m_form.inputs["status"] = widgets["status"]
            elif field == "insured_category":  # the county's own group beside the category
                pair = QWidget()
                pair_lay = QHBoxLayout(pair)
                pair_lay.setContentsMargins(0, 0, 0, 0)
                pair_lay.addWidget(widgets["insured_category"], 1)
                pair_lay.addWidget(widgets["local_group"], 1)
                self.m_form.add("insured_category", labels["insured_category"], pair)
                self.m_form.inputs["insured_category"] = widgets["insured_category"]
            elif field not in ("ecert_activated", "local_group"):
                self.m_form.add(field, labels[field], w)
        self.m_form.inputs["ecert_activated"] = widgets["ecert_activated"]
        self.m_form.errors["ecert_activated"] = self.m_form.errors["status"]
        self.m_form.inputs["local_group"] = widgets["local_group"]
        self.m_form.errors["local_group"] = self.m_form.errors["insured_category"]

    def _build_buttons(self) -> QWidget:
        """保存 / 下一位成员 / 修改记录 / 取消 — Enter on a focused button presses it, Esc
        cancels as in the form; right-aligned, so they end below the form."""
        row = FormArea()
        row.save_requested.connect(self.save)
        row.cancel_requested.connect(self.cancel)
        buttons = QHBoxLayout(row)
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addStretch(1)
        self.save_button = QPushButton(self.tr("保存（回车）"))
        self.save_button.setObjectName("save")
        self.save_button.clicked.connect(self.save)
        self.add_member_button = QPushButton(self.tr("下一位成员（Ctrl+N）"))
        self.add_member_button.clicked.connect(self.add_member)
        self.history_button = QPushButton(self.tr("修改记录（Ctrl+H）"))
        self.history_button.clicked.connect(self.show_history)
        self.card_button = QPushButton(self.tr("读身份证（Ctrl+R）"))
        self.card_button.setObjectName("read_card")
        self.card_button.clicked.connect(self.read_card)
        self.events_button = QPushButton(self.tr("家庭变更（Ctrl+E）"))
        self.events_button.setObjectName("household_events")
        self.events_button.clicked.connect(self.open_events)
        self.cancel_button = QPushButton(self.tr("取消/新建户（Esc）"))
        self.cancel_button.clicked.connect(self.cancel)
        for b in (
            self.save_button,
            self.add_member_button,
            self.history_button,
            self.card_button,
            self.events_button,
            self.cancel_button,
        ):
            b.setAutoDefault(True)  # Enter on a focused button presses that button
            b.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            buttons.addWidget(b)
        return row

    def _wire_keys(self) -> None:
        """Typing watched for unsaved changes, Tab in reading order, the page's shortcuts."""
        self._watch_typing(
            [self.village, self.hh_address, self.hukou, self.household_no, *self.inputs.values()]
        )
        self.inputs["relation"].currentIndexChanged.connect(self._title_member)
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
            self.card_button,
            self.events_button,
            self.cancel_button,
            self.results,
            self.member_table,
        ]
        for a, b in zip(chain, chain[1:], strict=False):
            QWidget.setTabOrder(a, b)

        ctx_ = Qt.ShortcutContext.WidgetWithChildrenShortcut
        keys = (
            ("Ctrl+N", self.add_member),
            ("Ctrl+H", self.show_history),
            ("Ctrl+S", self.save),
            ("Ctrl+F", self.focus_search),
            ("Ctrl+D", self.show_duplicates),
            ("Ctrl+E", self.open_events),
            ("Ctrl+R", self.read_card),
        )
        for seq, slot in keys:
            sc = QShortcut(QKeySequence(seq), self)
            sc.setContext(ctx_)
            sc.activated.connect(slot)
        page_keys_first(self, [seq for seq, _slot in keys])

    @staticmethod
    def _table_setup(table: QTableWidget) -> None:
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.verticalHeader().setVisible(False)
        table.horizontalHeader().setStretchLastSection(True)
        table.setTabKeyNavigation(False)  # Tab moves on to the next field, not cell to cell
