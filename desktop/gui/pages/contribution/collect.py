"""Collecting a payment: the quote, the checks, the confirmation, recording."""

from __future__ import annotations

import datetime as dt

from PySide6.QtWidgets import (
    QDialog,
    QInputDialog,
)

from core.errors import ValidationError
from desktop.gui.pages.contribution.common import NO_BENEFITS, no_benefits
from desktop.gui.widgets import (
    ERROR_STYLE,
    OK_STYLE,
    ConfirmDialog,
)
from desktop.services import contribution as svc


class _Collect:
    """Collecting (part of the page)."""

    def _paid_on_year(self) -> int | None:
        try:
            return dt.date.fromisoformat(self.paid_on.text().strip()).year
        except ValueError:
            return None

    def _paid_on_changed(self) -> None:
        """A back-dated payment date may open last year's 参保年度 (or close it again)."""
        if self.status is not None:
            self._show_status(self.status, reset_form=False)
        else:
            self.refresh_quote()

    def refresh_quote(self) -> None:
        if not self.person_id or self.pay_year.currentData() is None:
            return
        store, pid, today = self.ctx.store, self.person_id, self.today()
        year, day = self.pay_year.currentData(), self.paid_on.text().strip()
        back = self.back_years.value()

        def done(q: dict) -> None:
            wait = ""
            if q["waiting"]:
                unit = "个月" if q["waiting_unit"] == "months" else "天"
                wait = f"，等待期 {q['waiting']}{unit}"
            self.due_label.setStyleSheet("")
            why = q["reasons"]["amount_due"]["rule"]
            if q.get("back_amount"):
                why += "；" + q["reasons"]["back_amount"]["rule"]
            self.due_label.setText(
                f"应缴 {q['total_due']} 元（{q['phase_label']}{wait}"
                + (
                    f"，{NO_BENEFITS}（等待期至 {q['benefits_from']} 才结束）"
                    if no_benefits(q)
                    else f"，待遇自 {q['benefits_from']} 起"
                )
                + "）"
                + "".join(f"　{w}" for w in q.get("words") or [])
                + f"　依据：{why}"
            )

        def failed(exc: BaseException) -> None:
            if isinstance(exc, ValidationError):
                self.due_label.setStyleSheet(ERROR_STYLE)
                self.due_label.setText("；".join(exc.errors.values()))
            else:
                self._failed(exc)

        self.query(
            lambda: svc.quote(store, pid, year, day or None, today=today, back_years=back),
            done,
            failed,
        )

    def cancel_form(self) -> None:
        """Esc in the payment form: clear what was typed and the messages."""
        self.amount.clear()
        self.back_years.setValue(0)
        self.form.clear_errors()
        self.pay_msg.setText("")
        self.paid_on.setText(self.today().isoformat())
        self.refresh_quote()

    def confirm(self, text: str) -> bool:
        """Money changes hands: ask once (tests replace this). Safe against a quick second
        Enter: 确认收费 only becomes active a moment after the question is on screen."""
        return ConfirmDialog(self, self.tr("确认收费"), text).exec() == QDialog.DialogCode.Accepted

    def ask_backdate_reason(self, year: int, benefits_from: str) -> str | None:
        """A supervisor records a payment for a closed 参保年度: warn and ask why (tests
        replace this). None: cancelled; "": 确定 with no reason."""
        text, ok = QInputDialog.getText(
            self,
            self.tr("补录往年缴费"),
            self.tr(
                "{y}参保年度已截止收费。按所填缴费日期补录，会把待遇倒签到 {d} 起。\n"
                "此操作记入审计日志。请填写补录原因："
            )
            .replace("{y}", str(year))
            .replace("{d}", benefits_from or "—"),
        )
        return text.strip() if ok else None  # "" when 确定 was pressed with no reason

    def do_pay(self) -> None:
        if not self.person_id or not self.pay_btn.isEnabled() or self._paying:
            return
        fields = {
            "person_id": self.person_id,
            "year": self.pay_year.currentData() or "",
            "amount": self.amount.text(),
            "channel": self.channel.currentData(),
            "paid_on": self.paid_on.text(),
            "back_years": self.back_years.value(),
        }
        self.form.clear_errors()
        self.pay_msg.setText("")
        store, actor, today = self.ctx.store, self.ctx.actor, self.today()
        self._paying = True

        def checked(info: dict) -> None:
            self._paying = False
            name = self.status["person"]["name"] if self.status else ""
            if info["backdated"]:
                reason = self.ask_backdate_reason(info["year"], info["terms"]["benefits_from"])
                if reason is None:  # 取消
                    return
                if not reason:  # 确定 with nothing typed: said, not silently dropped
                    self.pay_msg.setStyleSheet(ERROR_STYLE)
                    self.pay_msg.setText("✗ 补录往年缴费须填写补录原因，本次未收费")
                    return
                fields["backdate_reason"] = reason
            if not self.confirm(
                f"确认收取 {name} {info['year']}年度 {info['amount']} 元"
                f"（{self.channel.currentText()}）？"
            ):
                return
            self._record(fields, name)

        self.query(
            lambda: svc.check_payment(store, actor, fields, today=today),
            checked,
            self._payment_refused,
        )

    def _payment_refused(self, exc: BaseException) -> None:
        self._paying = False
        if isinstance(exc, ValidationError):
            rest = self.form.show_errors(exc.errors)
            if rest:
                self.pay_msg.setStyleSheet(ERROR_STYLE)
                self.pay_msg.setText("✗ " + "；".join(rest))
        else:
            self._failed(exc)

    def _record(self, fields: dict, name: str) -> None:
        store, actor, today = self.ctx.store, self.ctx.actor, self.today()
        self._paying = True

        def ok(res: dict) -> None:
            self.last_result = res
            t = res["terms"]
            wait = "无等待期"
            if t["waiting"]:
                unit = "个月" if t["waiting_unit"] == "months" else "天"
                wait = f"等待期 {t['waiting']}{unit}"
            self.pay_msg.setStyleSheet(OK_STYLE)
            self.pay_msg.setText(
                f"✓ 已收费 {res['payment']['amount']} 元，收据号 {res['receipt_no']}；"
                + (
                    f"{NO_BENEFITS}（{wait}，至 {t['benefits_from']} 才结束）。"
                    if no_benefits(t)
                    else f"待遇自 {t['benefits_from']} 至 {t['benefits_to']}（{wait}）。"
                )
                + "待县级确认。"
            )
            self.amount.clear()
            self.back_years.setValue(0)
            self.print_btn.setEnabled(True)
            self._paying = False
            self.ctx.events.status_message.emit(f"已收费 {name} {res['receipt_no']}")

        self.change(
            lambda: svc.record_payment(store, actor, fields, today=today),
            "payment",
            ok,
            on_failure=self._payment_refused,
        )

    def _print_shortcut(self) -> None:
        if self.print_btn.isEnabled():
            self.open_printing()

    def open_printing(self) -> None:
        """The receipt is printed on the 打印 page (issue 5); it lists it first: the selected
        paid year's receipt, else the payment just collected."""
        receipt_no = self._selected_receipt_no()
        if receipt_no is None and self.last_result:
            receipt_no = self.last_result["receipt_no"]
        if receipt_no:
            self.ctx.events.open_page.emit("printing", receipt_no)
