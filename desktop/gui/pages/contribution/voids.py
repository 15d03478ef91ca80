"""Voids and refunds of a payment (supervisor)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from core.errors import ValidationError
from desktop.gui.pages.contribution.common import SupervisorDialog
from desktop.gui.widgets import (
    WARN_STYLE,
)
from desktop.services import contribution as svc


class _Voids:
    """Voids (part of the page)."""

    def _selected_receipt_no(self) -> str | None:
        row = self.years.currentRow()
        it = self.years.item(row, 0) if row >= 0 else None
        r = it.data(Qt.ItemDataRole.UserRole) if it is not None else None
        return r.get("receipt_no") or None if r else None

    def _selected_payment(self) -> dict | None:
        row = self.years.currentRow()
        it = self.years.item(row, 0) if row >= 0 else None
        r = it.data(Qt.ItemDataRole.UserRole) if it is not None else None
        if r and r.get("payment_id") and r["status"] in svc.LIVE:
            return r
        return None

    def _update_void_button(self) -> None:
        self.void_btn.setEnabled(self._selected_payment() is not None)
        if self._selected_receipt_no() is not None:
            self.print_btn.setEnabled(True)
        elif not self.last_result:
            self.print_btn.setEnabled(False)

    def _year_chosen(self, row: int, _col: int) -> None:
        self.years.selectRow(row)
        it = self.years.item(row, 0)
        r = it.data(Qt.ItemDataRole.UserRole) if it else None
        if r and r["status"] == "unpaid":
            i = self.pay_year.findData(r["year"])
            if i >= 0:
                self.pay_year.setCurrentIndex(i)
                self.amount.setFocus()

    def supervisor_dialog(self, payment: dict, submit) -> None:
        """Ask for the reason and a supervisor's credentials; the dialog stays open until
        ``submit`` has done the work or the clerk cancels."""
        SupervisorDialog(self, payment, submit).exec()

    def do_void(self) -> None:
        pay = self._selected_payment()
        if pay is None:
            return
        store, actor = self.ctx.store, self.ctx.actor

        def submit(vals: dict, done) -> None:
            def work() -> dict:
                from desktop.services import (
                    auth,
                )  # deferred: argon2 loads when a supervisor confirms

                try:
                    supervisor = auth.login(
                        store, vals["username"], vals["password"], confirming=True
                    )
                except auth.LoginFailed as e:
                    raise ValidationError({"password": str(e)}) from None
                if not supervisor.is_supervisor:  # a clerk's own account: the service refuses
                    raise ValidationError(
                        {"username": "这不是主管账号，请主管输入自己的用户名和密码"}
                    )
                return svc.void_payment(
                    store,
                    actor,
                    pay["payment_id"],
                    reason=vals["reason"],
                    supervisor=supervisor,
                    refund=vals["refund"],
                )

            def ok(row: dict) -> None:
                done(None)
                word = "退费" if row["status"] == "refunded" else "作废"
                self.pay_msg.setStyleSheet(WARN_STYLE)
                self.pay_msg.setText(
                    f"已{word}：收据号 {row['receipt_no']}（原因：{row['void_reason']}）"
                )

            def failed(exc: BaseException) -> None:
                if isinstance(exc, ValidationError):
                    done(dict(exc.errors))
                else:  # not the clerk's input: the dialog closes, the page says what happened
                    done(None)
                    self._failed(exc)

            self.change(work, "payment", ok, on_failure=failed)

        self.supervisor_dialog(pay, submit)
