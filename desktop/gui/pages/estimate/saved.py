"""Saving, printing and settling estimates; the list of saved estimates."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QTableWidgetItem,
)

from core.errors import ValidationError
from core.money import yuan
from core.policy.benefits import estimate_kind
from desktop.gui.pages.estimate.common import YTD_EXTRA, _dec
from desktop.gui.widgets import ERROR_STYLE, OK_STYLE, WARN_STYLE, show_error
from desktop.services import estimate as svc


class _Saved:
    """Saved estimates (part of the page)."""

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
        from desktop.gui import (
            print_support,
        )  # deferred: not needed for the first paint (cold start)

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
            h.setItem(i, 1, QTableWidgetItem(estimate_kind(r["setting"])))
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
