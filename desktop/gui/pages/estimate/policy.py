"""The policy and setting chosen, and the fields they ask for."""

from __future__ import annotations

from PySide6.QtCore import Qt

from core.estimate import LEVEL_YTD_FIELDS
from core.estimate.counters import counters_for_layer, counters_for_setting
from core.policy.benefits import OUT_OF_AREA, SETTING_LABELS, SETTINGS
from desktop.gui.pages.estimate.common import AMOUNT_FIELDS, MODE_FIELDS
from desktop.services import policies


class _Policy:
    """Policy and setting (part of the page)."""

    # ---------------------------------------------------------------- policies
    def reload_policies(self) -> None:
        data_dir = self.ctx.data_dir
        self.query(lambda: policies.load(data_dir), self._policies_loaded, self._failed)

    def _policies_loaded(self, ps: policies.PolicySet) -> None:
        if ps is self._policyset:
            return  # unchanged (the service caches until a file changes)
        self._policyset = ps
        current = self.policy.currentData()
        self.policy.blockSignals(True)
        self.policy.clear()
        benefit = [
            p
            for p in sorted(ps.policies.values(), key=lambda p: p.id)
            if any(s in p.sections for s in (*SETTINGS, "dabing", "assistance"))
        ]
        for p in benefit:
            self.policy.addItem(p.title, p.id)
        self.policy.blockSignals(False)
        if ps.errors:
            # which file, which key and what is wrong go to the log, for the technician:
            # file names and the checker's words mean nothing to a clerk
            self.policy_warning.setText(
                self.tr(
                    "有{n}个政策文件有错误，暂不能用于测算（其他政策照常使用）。"
                    "请联系县医保局的技术人员，详情已记入日志（系统 → 打开日志文件夹）。"
                ).replace("{n}", str(len(ps.errors)))
            )
            self.policy_warning.setVisible(True)
        else:
            self.policy_warning.setVisible(False)
        pick = -1
        if current:
            pick = self.policy.findData(current)
        if pick < 0:
            sp = self.ctx.service_point or {}
            local = ps.latest_for_region(sp.get("region_code", ""), self.year.value())
            for p in local:
                pick = self.policy.findData(p.id)
                if pick >= 0:
                    break
        self.policy.setCurrentIndex(max(pick, 0))
        self._policy_changed()

    def _current_policy(self):
        pid = self.policy.currentData()
        if not pid or self._policyset is None:
            return None
        return self._policyset.policies.get(pid)

    def _policy_changed(self, *_a) -> None:
        pol = self._current_policy()
        self.setting.blockSignals(True)
        self.setting.clear()
        if pol is not None:
            for s in SETTINGS:
                if pol.has(s):
                    self.setting.addItem(SETTING_LABELS[s], s)
            if pol.has("dabing"):
                self.setting.addItem(self.tr("大病保险（单独测算本次负担）"), "layer:dabing")
            if pol.has("assistance"):
                self.setting.addItem(self.tr("医疗救助（单独测算）"), "layer:assistance")
        self.setting.blockSignals(False)
        self.setting.setCurrentIndex(0)
        self._setting_changed()

    def _setting_changed(self, *_a) -> None:
        pol = self._current_policy()
        s = self.setting.currentData() or ""
        self.level.clear()
        if s.startswith("layer:"):
            self._set_mode(s.split(":", 1)[1])
            return
        self._set_mode("bill")
        if pol is not None and pol.has(s):
            sec = pol.section(s)
            self._rows["level"][0].setText(sec.level_label)
            for code, lv in sec.levels.items():
                self.level.addItem(lv.label, code)
        self._show_row("admission_no", s == "inpatient")
        self._show_row("claim_free_years", s in ("outpatient", "pharmacy", "chronic"))
        sec = pol.section(s) if pol is not None and pol.has(s) else None
        self._fill_out_of_area(sec)
        self._show_row("continuous_years", getattr(sec, "continuous", None) is not None)
        self._show_row("age", _needs_age(pol, s))
        self._level_changed()

    def _level_changed(self, *_a) -> None:
        """按床日 asks for the days; a level with its own counter shows (and fills) them."""
        pol = self._current_policy()
        s = self.setting.currentData() or ""
        lv = None
        if self._mode == "bill" and pol is not None and pol.has(s):
            lv = pol.section(s).levels.get(self.level.currentData() or "")
        self._show_row("days", lv is not None and lv.per_day is not None)
        own = getattr(self, "_levels_ytd", {}).get(f"{s}/{self.level.currentData()}", {})
        for f in LEVEL_YTD_FIELDS:
            self.ytd[f].setText(own.get(f, "0.00"))
        self._layout_ytd()

    def _fill_out_of_area(self, sec) -> None:
        """异地就医 shows only when the policy states rules for care outside the pooling
        area, offering the 备案 statuses it names."""
        self.out_of_area.clear()
        rules = getattr(sec, "out_of_area", ()) if sec is not None else ()
        if rules:
            self.out_of_area.addItem(self.tr("本地就医"), "")
            for r in rules:
                self.out_of_area.addItem(
                    self.tr("异地就医（") + OUT_OF_AREA[r.status] + "）", r.status
                )
        self._show_row("out_of_area", bool(rules))

    def _relevant_ytd(self) -> list[str]:
        """The YTD fields the chosen setting or layer uses (the others stay hidden)."""
        if self._mode in ("dabing", "assistance"):
            return counters_for_layer(self._mode)
        return counters_for_setting(
            self._current_policy(),
            self.setting.currentData() or "",
            self.level.currentData() or "",
        )

    def _layout_ytd(self) -> None:
        shown = self._relevant_ytd()
        for f, edit in self.ytd.items():
            lab = self._ytd_labels[f]
            self._ytd_grid.removeWidget(lab)
            self._ytd_grid.removeWidget(edit)
            lab.setVisible(f in shown)
            edit.setVisible(f in shown)
        for i, f in enumerate(shown):
            self._ytd_grid.addWidget(
                self._ytd_labels[f], i // 3, (i % 3) * 2, Qt.AlignmentFlag.AlignRight
            )
            self._ytd_grid.addWidget(self.ytd[f], i // 3, (i % 3) * 2 + 1)

    def _set_mode(self, mode: str) -> None:
        self._mode = mode
        shown = set(MODE_FIELDS[mode])
        for f in AMOUNT_FIELDS:
            self._show_row(f, f in shown)
        bill = mode == "bill"
        self._show_row("level", bill)
        self._show_row("admission_no", bill)
        self._show_row("claim_free_years", bill)
        self._show_row("out_of_area", bill and self.out_of_area.count() > 0)
        if not bill:
            for f in ("days", "age", "continuous_years"):
                self._show_row(f, False)
        self._clear_result()
        if not bill:
            self._layout_ytd()


def _needs_age(pol, setting: str) -> bool:
    """Whether a 救助 layer covering ``setting`` adds something by age."""
    if pol is None:
        return False
    return any(
        pol.has(n) and setting in pol.section(n).settings and pol.section(n).needs_age
        for n in ("assistance", "tilted_assistance")
    )
