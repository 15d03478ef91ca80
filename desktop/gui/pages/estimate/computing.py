"""Reading the bill, computing on the worker, showing the steps."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QTableWidgetItem,
)

from core.estimate import LEVEL_YTD_FIELDS
from core.money import yuan
from desktop.gui.pages.estimate.common import (
    MODE_FIELDS,
    MODE_YTD,
    RESULT_ROWS,
    STEP_LAYER_LABELS,
    YTD_EXTRA,
    _dec,
    _short_source,
)
from desktop.gui.widgets import OK_STYLE, WARN_STYLE
from desktop.services import estimate as svc


class _Computing:
    """Computing (part of the page)."""

    # ---------------------------------------------------------------- compute / save
    def given(self) -> dict[str, Any]:
        """The engine input from the form (the same shape as the acceptance cases)."""
        g: dict[str, Any] = {}
        mode = self._mode
        for f in MODE_FIELDS[mode]:
            text = self.amounts[f].text().strip()
            if text:
                g[f] = text
        if mode == "bill":
            g["setting"] = self.setting.currentData() or ""
            g["level"] = self.level.currentData() or ""
            if self.out_of_area.currentData():
                g["out_of_area"] = self.out_of_area.currentData()
            if g["setting"] == "inpatient":
                g["admission_no"] = self.admission_no.value()
            else:
                g["claim_free_years"] = self.claim_free_years.value()
            for f in (*svc.YTD_FIELDS, *YTD_EXTRA):
                g[f] = self.ytd[f].text().strip() or "0"
            for f in LEVEL_YTD_FIELDS:
                if f in self._relevant_ytd():
                    g[f] = self.ytd[f].text().strip() or "0"
            g.update(self._person_terms())
        else:
            g["layer"] = mode
            for f in MODE_YTD[mode]:
                g[f] = self.ytd[f].text().strip() or "0"
            if mode == "dabing":
                g["burden_ytd_before"] = g.pop("dabing_burden_ytd")
                g["dabing_cap_raise"] = self.ytd["dabing_cap_raise"].text().strip() or "0"
                g["dabing_cap_cut"] = self.ytd["dabing_cap_cut"].text().strip() or "0"
        g["category"] = self.category.currentData() or "ordinary"
        return g

    def _person_terms(self) -> dict[str, Any]:
        """Bed-days, age and continuous enrollment, where the policy asks for them."""
        g: dict[str, Any] = {}
        if not self._rows["days"][1].isHidden():
            g["days"] = self.days.value()
        if not self._rows["age"][1].isHidden() and self.age.value() >= 0:
            g["age"] = self.age.value()
        if not self._rows["continuous_years"][1].isHidden() and self.continuous_years.value() >= 0:
            g["continuous_years"] = self.continuous_years.value()
            g["after_break"] = self.after_break.isChecked()
        return g

    def compute(self) -> None:
        pid = self.policy.currentData()
        if not pid:
            self._show_errors({"policy": self.tr("没有可用的测算政策")})
            return
        given = self.given()
        data_dir, store = self.ctx.data_dir, self.ctx.store
        person_id = self._person["id"] if self._person else None
        year = self.year.value()
        self._clear_result()

        def work() -> dict:
            res = svc.run(pid, given, data_dir=data_dir)
            notes = svc.caveats(
                store, policy_id=pid, person_id=person_id, year=year, data_dir=data_dir
            )
            return {**res, "caveats": notes}

        self.query(work, lambda res: self._computed(given, res), self._failed)

    def _computed(self, given: dict, res: dict) -> None:
        self._last, self._last_given, self._saved = res, given, None
        self._show_errors({})
        self._display(res)
        self.save_button.setEnabled(True)
        self.settle_button.setEnabled(False)
        hypothetical = bool(res.get("caveats"))
        self.message.setStyleSheet(WARN_STYLE if hypothetical else OK_STYLE)
        self.message.setText(
            (self.tr("假设测算（见上方红字）：") if hypothetical else "")
            + self.tr(
                "测算完成：基金支付 {f} 元，个人负担 {p} 元。测算结果仅供参考，以医院实际结算为准。"
            ).format(
                f=yuan(_dec(res.get("fund_pay_sumamt", "0"))),
                p=yuan(_dec(res.get("psn_part_amt", "0") or "0")),
            )
        )
        self.computed.emit(res)

    def _display(self, res: dict) -> None:
        """The result table by fund and the steps with their sources; above them, in bold,
        what makes the result hypothetical (not insured, waiting, a stand-in policy)."""
        notes = res.get("caveats") or []
        self.caveat_label.setText("\n".join(f"⚠ {n}" for n in notes))
        t = self.result_table
        rows = [(k, label) for k, label in RESULT_ROWS if k in res]
        t.setRowCount(len(rows))
        for i, (k, label) in enumerate(rows):
            name = QTableWidgetItem(label)
            name.setData(Qt.ItemDataRole.UserRole, k)  # the settlement field, for tests only
            t.setItem(i, 0, name)
            amt = QTableWidgetItem(yuan(_dec(res[k])))
            amt.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            f = amt.font()
            if k in ("fund_pay_sumamt", "psn_part_amt"):
                f.setBold(True)
            f.setPointSizeF(f.pointSizeF() * 1.2)
            amt.setFont(f)
            t.setItem(i, 1, amt)
        s = self.steps_table
        s.setRowCount(len(res["steps"]))
        for i, st in enumerate(res["steps"]):
            layer = STEP_LAYER_LABELS.get(st["layer"], "")
            s.setItem(i, 0, QTableWidgetItem(layer))
            # a step that is its own rule (政策范围内费用, 合计) is not named twice
            s.setItem(i, 1, QTableWidgetItem("" if st["rule"] == layer else st["rule"]))
            s.setItem(i, 2, QTableWidgetItem(st["text"]))
            src = QTableWidgetItem(_short_source(st["source"]))
            src.setToolTip(st["source"])
            src.setData(Qt.ItemDataRole.UserRole, st["source"])
            s.setItem(i, 3, src)
        s.resizeRowsToContents()
        t.resizeRowsToContents()
        t.setFixedHeight(
            t.horizontalHeader().height() + sum(t.rowHeight(r) for r in range(t.rowCount())) + 4
        )
        self.tabs.setCurrentIndex(0)
