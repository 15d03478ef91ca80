"""The campaign list of a village or household, and its export."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFileDialog,
)

from core.ids import mask_phone
from desktop.gui.pages.contribution.common import RED, _item
from desktop.services import contribution as svc
from desktop.services import views


class _Campaign:
    """Campaign list (part of the page)."""

    # ------------------------------------------------------------ campaign
    def open_campaign(self, village_id: str, year: int) -> None:
        """Show a village's campaign list for ``year`` (the home page's 未缴 link)."""
        self.tabs.setCurrentIndex(1)
        self.camp_year.setValue(year)

        def chosen() -> None:
            for i in range(self.camp_scope.count()):
                if self.camp_scope.itemData(i) == ("village", village_id):
                    self.camp_scope.setCurrentIndex(i)
                    self.run_campaign()
                    return

        self._load_villages(then=chosen)

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
                mask_phone(r["phone"]),  # lists mask it (查询留痕)
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

        store, actor = self.ctx.store, self.ctx.actor

        def work():
            out = fn(res, path)
            what = f"{res['year']}参保年度未缴名单"
            views.exported_list(store, actor, what=what, rows=res["unpaid_count"], path=path)
            return out

        self.query(work, ok, self._failed)
