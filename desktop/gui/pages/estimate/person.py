"""The insured person (or an anonymous estimate) and their year-to-date figures."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.categories import INSURED_CATEGORIES
from core.ids import mask_id
from desktop.gui.widgets import OK_STYLE, WARN_STYLE
from desktop.services import estimate as svc
from desktop.services import views


class _Person:
    """Person and year-to-date figures (part of the page)."""

    # ---------------------------------------------------------------- person
    def focus_search(self) -> None:
        """The cursor in 查找参保人 (the page's first box: an ID number, a name or its
        initials), its text selected so a new one replaces it."""
        self.search.setFocus()
        self.search.selectAll()

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
        from desktop.services.registration import (
            get_person,
        )  # deferred: not needed for the first paint (cold start)

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
        self.age.setValue(_age(row.get("birth_date"), self.year.value()))
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
            self.age.setValue(-1)
            self.continuous_years.setValue(-1)
            self.after_break.setChecked(False)
            self._load_ytd()

    def _load_ytd(self) -> None:
        self._load_history()
        if self._person is None:
            self._levels_ytd = {}
            for e in self.ytd.values():
                e.setText("0.00")
            self.admission_no.setValue(1)
            self.ytd_source.setText(self.tr("匿名测算：本年已报销情况请按居民所述填写（默认为0）"))
            return
        store, pid, year = self.ctx.store, self._person["id"], self.year.value()
        actor, opening = self.ctx.actor, getattr(self, "_viewed_id", None) != pid
        self._viewed_id = pid

        def work() -> dict:
            data = svc.person_year(store, pid, year)
            if opening:  # 查询留痕: who opened whose figures (not every year change)
                views.opened_person(store, actor, pid, page="报销测算")
            return data

        self.query(work, self._person_year_loaded, self._failed)

    def _person_year_loaded(self, data: dict) -> None:
        self._show_coverage(data["coverage"])
        self._ytd_loaded(data["ytd"])
        cov = data["coverage"] or {}
        run = cov.get("continuous_years")
        self.continuous_years.setValue(run if run is not None else -1)
        self.after_break.setChecked(bool(cov.get("after_break")))

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
        self._levels_ytd = ytd.get("levels", {})
        self._level_changed()
        self.admission_no.setValue(ytd["next_admission_no"])
        src = self.tr("来自本机已结算测算 {n} 笔").format(n=ytd["settled_estimates"])
        if ytd["county_as_of"]:
            src = self.tr("县级数据（截至 {d}）+ ").format(d=ytd["county_as_of"]) + src
        self.ytd_source.setText(src + self.tr("；如与居民所述不符，可直接修改"))


def _age(birth: str | None, year: int) -> int:
    """Full years on the last day of ``year`` (or today, in the current year); -1 unknown."""
    try:
        born = dt.date.fromisoformat(birth or "")
    except ValueError:
        return -1
    day = min(dt.date.today(), dt.date(year, 12, 31))
    if day < born:
        return -1
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))
