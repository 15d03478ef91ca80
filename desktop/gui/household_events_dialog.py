"""家庭变更: the dialog the 参保登记 page opens (Ctrl+E) for a loaded household — choose the
event, fill its fields, 预览 shows the effect in words, 确认办理 records it. Any change to
the fields after a preview asks for a new preview, so the clerk confirms what is saved."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.categories import RELATIONS
from core.errors import ValidationError
from desktop.gui.member_relations import MemberRelations
from desktop.gui.pages.base import StoreWork
from desktop.gui.widgets import ERROR_STYLE, OK_STYLE, WARN_STYLE, FieldForm, keep_on_screen
from desktop.services import household_events as ev
from desktop.services import registration as reg
from desktop.services import setup

# which rows each kind shows (form field names)
ROWS = {
    "change_head": ("new_head_id", "old_head_relation", "person_ids"),
    "move": ("person_id", "to_household_id", "relation", "source_new_head_id"),
    "split": ("person_ids", "head_id", "address", "village_id", "source_new_head_id"),
    "merge": ("to_household_id", "person_ids"),
    "terminate": ("person_id", "exit_reason", "exit_date", "note"),
    "restore": ("person_id", "exit_date", "note"),
    "assign_id": ("person_id", "cert_no"),
    "correct_id": ("person_id", "cert_no", "reason"),
}
# the label of the members' row, per kind
PERSON_IDS_LABELS = {"split": "分出的成员", "merge": "并入的成员", "change_head": "其他成员"}
# an error about a service field shown beside the row that holds it here
ERROR_ROWS = {
    "into_household_id": "to_household_id",
    "from_household_id": "to_household_id",
    "date": "exit_date",
    "household_id": "kind",
    "relations": "person_ids",
}


class HouseholdEventDialog(QDialog, StoreWork):
    error_title = "家庭变更"

    def __init__(self, ctx, household: dict, members: list[dict], parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.household = household
        self.members = [m for m in members if m.get("id")]
        self.result_household_id: str | None = None
        self.result_person_id: str | None = None
        self._previewed: dict | None = None
        self.setWindowTitle(self.tr("家庭变更"))
        lay = QVBoxLayout(self)
        grid = QGridLayout()
        grid.setColumnStretch(1, 3)
        grid.setColumnStretch(2, 2)
        grid.setColumnMinimumWidth(1, 320)
        grid.setColumnMinimumWidth(2, 240)  # a message beside its field reads as a line
        self.form = FieldForm(grid)
        self._build_rows()
        self.setMinimumWidth(780)
        lay.addLayout(grid)
        self.effect = QLabel()
        self.effect.setWordWrap(True)
        self.effect.setObjectName("effect")
        self.effect.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.effect)
        row = QHBoxLayout()
        self.preview_button = QPushButton(self.tr("预览(&P)"))
        self.preview_button.setDefault(True)
        self.preview_button.clicked.connect(self.preview)
        self.apply_button = QPushButton(self.tr("确认办理(&S)"))
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self.apply)
        cancel = QPushButton(self.tr("取消"))
        cancel.clicked.connect(self.reject)
        for b in (self.preview_button, self.apply_button, cancel):
            row.addWidget(b)
        lay.addLayout(row)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self._kind_changed()
        self.query(lambda: setup.villages(ctx.store), self._fill_villages)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        # it grows downward as rows and the preview appear: 确认办理 stays on the screen
        super().resizeEvent(event)
        keep_on_screen(self)

    # ---------------------------------------------------------------- the form
    def _member_combo(self, blank: str = "") -> QComboBox:
        box = QComboBox()
        if blank:
            box.addItem(blank, "")
        for m in self.members:
            box.addItem(f"{m['name']}（{RELATIONS.get(m['relation'], m['relation'])}）", m["id"])
        box.currentIndexChanged.connect(self._changed)
        return box

    def _combo(self, items: dict, blank: str = "") -> QComboBox:
        box = QComboBox()
        if blank:
            box.addItem(blank, "")
        for code, label in items.items():
            box.addItem(label, code)
        box.currentIndexChanged.connect(self._changed)
        return box

    def _line(self, placeholder: str = "") -> QLineEdit:
        edit = QLineEdit()
        edit.setPlaceholderText(placeholder)
        edit.textChanged.connect(self._changed)
        return edit

    def _build_rows(self) -> None:
        f = self.form
        self.kind = f.add("kind", self.tr("办理事项(&K)"), self._combo(ev.KINDS))
        self.person = f.add("person_id", self.tr("人员"), self._member_combo())
        target = QWidget()
        tl = QHBoxLayout(target)
        tl.setContentsMargins(0, 0, 0, 0)
        self.target_search = QLineEdit()
        # short enough to be read whole in half the row (the longer hint was cut off)
        self.target_search.setPlaceholderText(self.tr("姓名或身份证号，回车查找"))
        self.target_search.setToolTip(self.tr("输入那一户任一成员的姓名或身份证号，按回车查找"))
        self.target_search.installEventFilter(self)  # Enter here finds, and only finds
        self.target = QComboBox()
        self.target.currentIndexChanged.connect(self._changed)
        tl.addWidget(self.target_search, 1)
        tl.addWidget(self.target, 1)
        target.setFocusProxy(self.target_search)  # a message puts the cursor there, and Alt+T
        f.add("to_household_id", self.tr("迁入/并入的户(&T)"), target)
        f.grid.itemAtPosition(self._row_of("to_household_id"), 0).widget().setBuddy(
            self.target_search
        )
        self.new_head = f.add("new_head_id", self.tr("新户主"), self._member_combo("请选择"))
        self.old_head_relation = f.add(
            "old_head_relation",
            self.tr("原户主改为"),
            self._combo({k: v for k, v in RELATIONS.items() if k != "head"}, "请选择"),
        )
        self.movers = MemberRelations(self.members)
        self.movers.changed.connect(self._changed)
        f.add("person_ids", self.tr("分出的成员"), self.movers)
        self.head = f.add("head_id", self.tr("新户的户主"), self._member_combo("请选择"))
        self.head.currentIndexChanged.connect(self._head_changed)
        self.new_head.currentIndexChanged.connect(self._head_changed)
        self.relation = f.add("relation", self.tr("与户主关系"), self._combo(RELATIONS, "请选择"))
        self.address = f.add("address", self.tr("新户住址"), self._line("户口簿上的地址"))
        self.village = f.add("village_id", self.tr("新户所在村"), QComboBox())
        self.source_head = f.add(
            "source_new_head_id",
            self.tr("原户新户主"),
            self._member_combo("（户主不迁出时不用选）"),
        )
        self.exit_reason = f.add(
            "exit_reason", self.tr("终止原因"), self._combo(ev.EXIT_REASONS, "请选择")
        )
        self.exit_date = f.add("exit_date", self.tr("日期"), self._line("年-月-日"))
        self.exit_date.setText(dt.date.today().isoformat())
        self.note = f.add("note", self.tr("说明"), self._line("选“其他”时必填，最多200字"))
        self.cert_no = f.add("cert_no", self.tr("身份证号"), self._line("18位居民身份证号码"))
        self.reason = f.add("reason", self.tr("更正原因"), self._line("必填，最多200字"))

    def _fill_villages(self, rows: list[dict]) -> None:
        for v in rows:
            self.village.addItem(v["name"], v["id"])
        i = self.village.findData(self.household.get("village_id"))
        self.village.setCurrentIndex(max(i, 0))

    def _kind_changed(self, *_a) -> None:
        kind = self.kind.currentData()
        shown = {"kind", *ROWS[kind]}
        if kind in PERSON_IDS_LABELS:
            self.movers.set_mode(kind, self.household.get("head_person_id") or "")
            self._head_changed()
            label = self.form.grid.itemAtPosition(self._row_of("person_ids"), 0).widget()
            label.setText(self.tr(PERSON_IDS_LABELS[kind]))
        for name, widget in self.form.inputs.items():
            visible = name in shown
            widget.setVisible(visible)
            self.form.grid.itemAtPosition(self._row_of(name), 0).widget().setVisible(visible)
            self.form.errors[name].setVisible(visible)
        self.form.clear_errors()
        self._changed()
        self.form.shrink()

    def _head_changed(self, *_a) -> None:
        """The new head — of this household, or of the one split off — needs no relation."""
        box = self.new_head if self.kind.currentData() == "change_head" else self.head
        self.movers.set_head(box.currentData() or "")

    def _row_of(self, name: str) -> int:
        return list(self.form.inputs).index(name)

    def _changed(self, *_a) -> None:
        """Any change asks for a new preview before saving."""
        if not hasattr(self, "apply_button"):  # rows being built
            return
        self._previewed = None
        self.apply_button.setEnabled(False)
        self.effect.setText("")

    def find_target(self) -> None:
        text = self.target_search.text().strip()
        if not text:
            return
        store = self.ctx.store

        def fill(rows: list[dict]) -> None:
            self.target.clear()
            seen = set()
            for r in rows:
                hid = r.get("household_id")
                if hid and hid != self.household["id"] and hid not in seen:
                    seen.add(hid)
                    self.target.addItem(f"{r['name']}所在户（{r.get('village') or ''}）", hid)
            if not seen:
                self.form.show_errors(
                    {"to_household_id": self.tr("没有找到其他户，请换个姓名或号码")}
                )
            else:
                self.form.errors["to_household_id"].setText("")
                self.target.setFocus()

        self.query(lambda: reg.search_persons(store, text), fill)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
        # Enter in the search box looks the household up; it used to reach 预览 as well,
        # whose message (no household chosen yet) then stood beside the one just found
        if (
            watched is self.target_search
            and event.type() == QEvent.Type.KeyPress
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            self.find_target()
            return True
        return super().eventFilter(watched, event)

    # ---------------------------------------------------------------- the event
    def event_fields(self) -> dict:
        kind = self.kind.currentData()
        rel = self.relation.currentData() or ""
        data: dict = {"kind": kind}
        if kind == "change_head":
            data |= {
                "household_id": self.household["id"],
                "new_head_id": self.new_head.currentData(),
                "old_head_relation": self.old_head_relation.currentData(),
                "relations": self.movers.chosen_relations(),
            }
        elif kind == "move":
            data |= {
                "person_id": self.person.currentData(),
                "to_household_id": self.target.currentData() or "",
                "relation": rel,
                "source_new_head_id": self.source_head.currentData(),
            }
        elif kind == "split":
            data |= {
                "person_ids": self.movers.checked_ids(),
                "head_id": self.head.currentData(),
                "relations": self.movers.chosen_relations(),
                "address": self.address.text(),
                "village_id": self.village.currentData(),
                "source_new_head_id": self.source_head.currentData(),
            }
        elif kind == "merge":
            data |= {
                "from_household_id": self.household["id"],
                "into_household_id": self.target.currentData() or "",
                "relations": self.movers.chosen_relations(),
            }
        elif kind in ("terminate", "restore"):
            data |= {
                "person_id": self.person.currentData(),
                "exit_reason": self.exit_reason.currentData(),
                "exit_date": self.exit_date.text(),
                "date": self.exit_date.text(),
                "note": self.note.text(),
            }
        else:
            data |= {
                "person_id": self.person.currentData(),
                "cert_no": self.cert_no.text(),
                "reason": self.reason.text(),
            }
        return data

    def _refused(self, exc: BaseException) -> None:
        if isinstance(exc, ValidationError):
            errors: dict[str, str] = {}
            for k, v in exc.errors.items():
                if k.startswith("relations."):  # one member's: beside the members, by name
                    name = self.movers.name_of(k.split(".", 1)[1])
                    errors.setdefault("person_ids", f"{name}：{v}" if name else v)
                else:
                    errors.setdefault(ERROR_ROWS.get(k, k), v)
            rest = self.form.show_errors(errors)
            self.effect.setStyleSheet(ERROR_STYLE)
            self.effect.setText("未办理：" + ("；".join(rest) if rest else "请按红字提示修改"))
        elif isinstance(exc, PermissionError) or type(exc).__name__ == "PermissionDenied":
            self.effect.setStyleSheet(ERROR_STYLE)
            self.effect.setText("未办理：" + str(exc))
        else:
            self.show_failure(exc)

    def preview(self) -> None:
        data, store, actor = self.event_fields(), self.ctx.store, self.ctx.actor
        self.form.clear_errors()

        def shown(effect) -> None:
            self._previewed = data
            self.effect.setStyleSheet(WARN_STYLE)
            self.effect.setText(
                f"{effect.title}，将会：\n"
                + "\n".join(f"· {line}" for line in effect.lines)
                + "\n\n核对无误后按“确认办理”（Alt+S）。"
            )
            self.apply_button.setEnabled(True)
            self.apply_button.setFocus()

        self.query(lambda: ev.preview(store, actor, data), shown, self._refused)

    def apply(self) -> None:
        if self._previewed is None:
            return
        data, store, actor = self._previewed, self.ctx.store, self.ctx.actor
        self.apply_button.setEnabled(False)

        def done(out: dict) -> None:
            self.result_household_id = out["household_id"] or self.household["id"]
            # the page then shows the person the event was about (its household's head if
            # the event was about the household)
            self.result_person_id = data.get("person_id") or data.get("head_id")
            self.effect.setStyleSheet(OK_STYLE)
            self.effect.setText("已办理（待上传）。")
            self.accept()

        self.change(
            lambda: ev.apply(store, actor, data),
            ("person", "household", "payment"),
            done,
            on_failure=self._refused,
        )
