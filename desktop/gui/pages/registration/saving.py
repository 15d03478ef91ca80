"""Saving a household or a member: relation warnings, duplicates, field messages."""

from __future__ import annotations

import datetime as dt

from PySide6.QtWidgets import (
    QMessageBox,
)

from core.categories import (
    RELATIONS,
)
from core.errors import ValidationError
from core.ids import check_id
from core.relations import relation_warning
from desktop.gui.pages.registration.common import MEMBER_FIELDS
from desktop.gui.widgets import (
    ERROR_STYLE,
    WARN_STYLE,
    ask_go_ahead,
    show_error,
)
from desktop.services import registration as reg


class _Saving:
    """Saving (part of the page)."""

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
                self._title_member()
                self._refresh_member_table()
            for lab in self.m_form.errors.values():  # a green hint may sit in an error line
                lab.setStyleSheet(ERROR_STYLE)
            unplaced = self.m_form.show_errors(member_errors[target])
        else:
            self.m_form.clear_errors()
        self.hh_form.show_errors(hh_errors)  # household fields come first in reading order
        if unplaced:
            self.set_message("；".join(unplaced), ERROR_STYLE)
