"""Finding a resident and showing each 参保年度: paid or not, benefits, waiting."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from core.categories import INSURED_CATEGORIES
from core.ids import mask_id
from desktop.gui.pages.contribution.common import (
    AMBER,
    NO_BENEFITS,
    _item,
    no_benefits,
    status_words,
)
from desktop.gui.widgets import (
    WARN_STYLE,
    show_error,
)
from desktop.services import contribution as svc
from desktop.services import registration as reg
from desktop.services import settings as settings_service
from desktop.services import setup, views


class _Status:
    """Status of a person (part of the page)."""

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

    def _load_villages(self, then=None) -> None:
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
            if then is not None:
                then()

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
            else:  # several: the cursor goes to the list (↑↓ to choose, Enter opens)
                self.results.setFocus()

        self.query(lambda: reg.search_persons(store, text), done, self._failed)

    def _fill_results(self, rows: list[dict], current: str | None = None) -> None:
        """The list; the row of ``current`` (the person shown below) chosen, else the first.
        One found opens at once (nothing to say); several: say how many to choose from."""
        n = len(rows)
        self.search_msg.setText(self.tr("找到 {0} 人，请选择").format(n) if n > 1 else "")
        self.results.setRowCount(len(rows))
        for i, r in enumerate(rows):
            self.results.setItem(i, 0, _item(r["name"], data=r["id"]))
            self.results.setItem(i, 1, _item(mask_id(r["cert_no"])))  # lists mask it
            self.results.setItem(i, 2, _item("男" if r["sex"] == "male" else "女"))
            self.results.setItem(i, 3, _item(r["birth_date"]))
            self.results.setItem(i, 4, _item(r.get("village") or ""))
            self.results.setItem(i, 5, _item(INSURED_CATEGORIES.get(r["insured_category"], "")))
        if rows:
            ids = [r["id"] for r in rows]
            self.results.selectRow(ids.index(current) if current in ids else 0)

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
            # the person shown stays the chosen row: the list and the years below agree
            self._fill_results(members, current=self.person_id)
            self.search_msg.setText(self.tr("本户 {0} 人").format(len(members)))
            self.results.setFocus()

        self.query(lambda: reg.get_household(store, hid), done, self._failed)

    # ------------------------------------------------------------ one person
    def open_item(self, person_id: Any) -> None:
        """A person id; or ``{"campaign": village_id, "year": y}`` (from 首页): that
        village's campaign list for the year."""
        if isinstance(person_id, dict) and "campaign" in person_id:
            self.open_campaign(person_id["campaign"], int(person_id["year"]))
            return
        if self.results.rowCount() > 1:  # chosen: the list stays, the ask to choose goes
            self.search_msg.setText(self.tr("找到 {0} 人").format(self.results.rowCount()))
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

        actor, opening = self.ctx.actor, self.person_id != person_id

        def work() -> dict:
            st = svc.status_years(store, person_id, today=today)
            if opening:  # 查询留痕: who opened whose payments (not every refresh)
                views.opened_person(store, actor, person_id, page="缴费查询")
            return st

        self.query(work, done, self._failed)

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
                (_cap_change(r["incentive_raise"]), None, None),
                (r["note"], None, None),
            ]
            for c, (text, col, data) in enumerate(cells):
                self.years.setItem(i, c, _item(text, col, data))
        self._show_year_note()
        if reset_form or not self.paid_on.text():
            self.paid_on.setText(self.today().isoformat())
        # collection closes with the year — of the payment date, which may be back-dated
        since = min(self._paid_on_year() or today.year, today.year)
        payable, closed = self._fill_pay_years(rows, since, today, reset_form)
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

    def _show_year_note(self) -> None:
        """The 说明 of the chosen 参保年度 (its column is hidden: at 1366 wide it had a
        sliver); with none chosen, of the first year that has one."""
        last = self.years.columnCount() - 1
        rows = range(self.years.rowCount())
        chosen = self.years.currentRow() if self.years.selectedItems() else -1
        for row in [chosen] if chosen >= 0 else rows:
            note, year = self.years.item(row, last), self.years.item(row, 0)
            if note is not None and note.text() and year is not None:
                self.year_note.setText(f"{year.text()}年度：{note.text()}")
                return
        self.year_note.setText("")

    def _fill_pay_years(self, rows: list, since: int, today, reset_form: bool):
        """The years the clerk may collect for: (payable, closed)."""
        newborn = {r["year"] for r in rows if r.get("newborn_window")}
        open_unpaid = [
            r["year"]
            for r in rows
            if r["status"] == "unpaid"
            and r["policy_id"] is not None
            and (r["year"] >= since or r["year"] in newborn)
        ]
        # a closed 参保年度 (before this year) back-dates cover: a supervisor's job, with a
        # reason — except a newborn's birth year paid within the window after birth
        closed = [y for y in open_unpaid if y < today.year and y not in newborn]
        payable = [
            y
            for y in open_unpaid
            if y >= today.year or y in newborn or self.ctx.actor.is_supervisor
        ]
        current = self.pay_year.currentData()
        self.pay_year.blockSignals(True)
        self.pay_year.clear()
        for y in sorted(payable, reverse=True):
            label = f"{y}年度（已截止，补录须填原因）" if y < today.year else f"{y}年度"
            if y in newborn:
                label = f"{y}年度（新生儿出生年度）"
            self.pay_year.addItem(label, y)
        if current in payable and not reset_form:
            self.pay_year.setCurrentIndex(self.pay_year.findData(current))
        self.pay_year.blockSignals(False)
        return payable, closed

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


def _cap_change(value: str | None) -> str:
    """The 大病 cap change in words: 提高1000.00元 / 降低2000.00元 (after a break)."""
    if not value or value in ("0", "0.00"):
        return ""
    return f"降低{value[1:]}元" if value.startswith("-") else f"提高{value}元"
