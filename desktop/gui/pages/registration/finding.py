"""Finding residents: search, duplicates, opening a household, edit history."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QTableWidgetItem,
)

from core.categories import (
    PERSON_STATUS,
    RELATIONS,
    SEXES,
)
from core.errors import ValidationError
from core.ids import check_id, mask_id
from desktop.gui.pages.registration.common import (
    SEARCH_LIMIT,
    HistoryDialog,
    _set_combo,
    not_found_message,
)
from desktop.gui.widgets import (
    ERROR_STYLE,
    OK_STYLE,
    WARN_STYLE,
)
from desktop.services import registration as reg
from desktop.services import views


class _Finding:
    """Finding and opening (part of the page)."""

    # ------------------------------------------------------------------ search / open
    def search(self, *, again: str | None = None) -> None:
        """Find what the box holds; ``again``: the list shown, searched once more after a
        save or a 家庭变更 (its rows as they are now; the cursor and the form stay)."""
        text = self.search_box.text() if again is None else again
        if not text.strip():
            return
        store = self.ctx.store
        self.listed = ("search", text)
        if again is None:
            self.search_status.setText(self.tr("查找中…"))
            self.search_status.setStyleSheet(WARN_STYLE)

        def done(rows: list[dict]) -> None:
            self.last_results = rows
            self._show_results(rows)
            if again is not None:
                self._select_open_person()
            if not rows:
                self.search_status.setText(not_found_message(text))
                self.search_status.setStyleSheet(WARN_STYLE)
                if again is None:
                    self._start_with_number(text)
                return
            if len(rows) >= SEARCH_LIMIT:
                self.search_status.setText(
                    self.tr("只显示前 ") + str(len(rows)) + self.tr(" 人，请多输入几个字")
                )
            else:
                self.search_status.setText(self.tr("找到 ") + str(len(rows)) + self.tr(" 人"))
            self.search_status.setStyleSheet(OK_STYLE)
            if again is not None:
                return
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

    def show_duplicates(self, *, again: bool = False) -> None:
        """List records sharing a certificate number (重复参保) so one can be cleared by
        setting its 参保状态 to 终止参保; ``again``: after a save, as :meth:`search`."""
        store = self.ctx.store
        self.listed = ("duplicates", "")
        if not again:
            self.search_status.setText(self.tr("查重中…"))
            self.search_status.setStyleSheet(WARN_STYLE)

        def done(rows: list[dict]) -> None:
            self.last_results = rows
            self._show_results(rows)
            if again:
                self._select_open_person()
            if rows:
                numbers = len({r["cert_no"] for r in rows})
                self.search_status.setText(
                    self.tr("有 ")
                    + str(numbers)
                    + self.tr(" 个证件号码重复登记：")
                    + self.tr("打开后把重复的一条设为“终止参保”")
                )
                self.search_status.setStyleSheet(ERROR_STYLE)
                if not again:
                    self.results.setFocus()
                    self.results.selectRow(0)
            else:
                self.search_status.setText(self.tr("没有重复登记"))
                self.search_status.setStyleSheet(OK_STYLE)

        self.query(lambda: reg.list_duplicates(store), done, self._failed)

    def _data_changed(self, kind: str) -> None:
        if kind in ("person", "household", "sync") and self.listed[0]:
            self._relist.start()

    def list_again(self) -> None:
        """The found list once more, as the store has it now: a resident just terminated
        reads 终止参保 there, a duplicate just cleared leaves the 查重 list."""
        kind, text = self.listed
        if kind == "search":
            self.search(again=text)
        elif kind == "duplicates":
            self.show_duplicates(again=True)

    def _select_open_person(self) -> None:
        """Mark the row of the person in the form, if the list has them (no focus moved)."""
        m = self.members[self.current] if self.current < len(self.members) else {}
        ids = [r["id"] for r in self.last_results]
        if m.get("id") in ids:
            self.results.selectRow(ids.index(m["id"]))
        else:
            self.results.clearSelection()

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
                    mask_id(r["cert_no"]),  # lists mask; the opened record shows it in full
                    r["birth_date"],
                    r.get("village") or "",
                    RELATIONS.get(r["relation"], ""),
                    PERSON_STATUS.get(r["status"], ""),
                )
            ):
                t.setItem(i, col, QTableWidgetItem(v))

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
            self._title_member()
            self.history_button.setEnabled(True)
            self._refresh_member_table()
            self._select_open_person()
            self.set_message(message, OK_STYLE)
            self.inputs["name"].setFocus()

        actor = self.ctx.actor  # opening a household is logged (查询留痕)
        self.query(lambda: views.open_household(store, actor, household_id), got, self._failed)

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

    def open_events(self) -> None:
        """家庭变更 for the household on screen (Ctrl+E): preview, confirm, then reload."""
        if self.household is None:
            self.set_message(self.tr("请先查找并打开一个家庭户，再办理家庭变更"), WARN_STYLE)
            return
        if self.has_unsaved_changes():
            self.set_message(self.tr("请先保存或取消正在修改的内容，再办理家庭变更"), WARN_STYLE)
            return
        from desktop.gui.household_events_dialog import (  # deferred: opened on demand
            HouseholdEventDialog,
        )

        dlg = HouseholdEventDialog(self.ctx, self.household, self.members, self)
        self.ctx.extras["last_household_events"] = dlg

        def done() -> None:
            if dlg.result_household_id:
                self.load_household(
                    dlg.result_household_id,
                    dlg.result_person_id,
                    message=self.tr("已办理家庭变更（待上传）"),
                )

        dlg.accepted.connect(done)
        dlg.open()  # window-modal; the page reloads the household when it is confirmed

    def read_card(self) -> None:
        """读身份证 (Ctrl+R): a registered resident opens; otherwise the card fills the
        member form (and an empty address) for the clerk to check and save."""
        from desktop.services import idcard  # deferred: the reader library loads on demand

        store = self.ctx.store
        self.set_message(self.tr("正在读卡……"), WARN_STYLE)

        def got(res: dict) -> None:
            card, found = res["card"], res["person"]
            if found is not None:
                self.load_household(
                    found["household_id"],
                    found["id"],
                    message=self.tr("已读卡：")
                    + card["name"]
                    + self.tr("（已登记，已打开其家庭户）"),
                )
                return
            m = self.read_member()
            m.update(
                name=card["name"],
                cert_type="resident_id",
                cert_no=card["cert_no"],
                sex=card["sex"],
                birth_date=card["birth_date"],
                ethnicity=card["ethnicity"] or m["ethnicity"],
            )
            self.write_member(m)
            if not self.hh_address.text().strip():
                self.hh_address.setText(card["address"])
            self._dirty = True
            self.set_message(
                self.tr("已读卡：")
                + card["name"]
                + self.tr("，未登记。信息已填入，请核对后按回车保存"),
                OK_STYLE,
            )

        def failed(exc: BaseException) -> None:
            if isinstance(exc, ValidationError):
                self.set_message("；".join(exc.errors.values()), WARN_STYLE)
            elif type(exc).__name__ == "CardError":
                self.set_message(str(exc), ERROR_STYLE)
            else:
                self.show_failure(exc)

        self.query(lambda: idcard.read_card(store), got, failed)
