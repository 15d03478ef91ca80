"""The household being typed: members in the table and the form, new / cancel / discard."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QLineEdit,
    QTableWidgetItem,
    QWidget,
)

from core.categories import (
    RELATIONS,
    SEXES,
)
from core.ids import check_id, mask_cert
from desktop.gui.pages.registration.common import _LABELS, _set_combo
from desktop.gui.widgets import (
    ERROR_STYLE,
    OK_STYLE,
    WARN_STYLE,
    ask_go_ahead,
    show_error,
)
from desktop.services import registration as reg
from desktop.services import setup


class _Members:
    """The household in the form (part of the page)."""

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
        self.query(lambda: reg.local_groups(store), self._groups_loaded, self._failed)

    def _groups_loaded(self, groups: dict) -> None:
        """The county's own groups (地方认定人员类别) as the policy names them."""
        box = self.inputs["local_group"]
        current = box.currentData()
        box.clear()
        box.addItem(self.tr("（无地方认定类别）"), "")
        for code, (label, _within) in groups.items():
            box.addItem(label, code)
        # the edit history shows a group by its label, never its code
        _LABELS["local_group"] = {code: label for code, (label, _w) in groups.items()}
        _set_combo(box, current or "")
        box.setVisible(bool(groups))

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
            "local_group": i["local_group"].currentData() or "",
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
        _set_combo(i["local_group"], m.get("local_group") or "")
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
                # a list masks it (residents in the queue see the screen); the member's
                # form below shows it in full
                mask_cert(m.get("cert_type") or "resident_id", m.get("cert_no") or ""),
                SEXES.get(m.get("sex") or "", ""),
                state,
            )
            for col, v in enumerate(values):
                t.setItem(row, col, QTableWidgetItem(v))
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

    def _title_member(self, *_args) -> None:
        """ "成员 2（配偶）": which member of the household the form shows, and who they are
        (as the form's 与户主关系 says, while the clerk changes it too)."""
        relation = RELATIONS.get(self.inputs["relation"].currentData() or "", "")
        title = self.tr("成员 ") + str(self.current + 1)
        self.member_box.setTitle(title + (f"（{relation}）" if relation else ""))

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
        self._title_member()
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
        self._title_member()
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
        self._title_member()
        self.history_button.setEnabled(bool(m.get("id")))
        self.inputs["name"].setFocus()
