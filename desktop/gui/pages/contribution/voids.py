"""Voids and refunds of a payment (supervisor)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
)

from core.errors import ValidationError
from desktop.gui.pages.contribution.common import SupervisorDialog
from desktop.gui.widgets import (
    ERROR_STYLE,
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

    def supervisor_dialog(self, payment: dict) -> dict | None:
        """Ask for the reason and the supervisor's credentials (tests replace this)."""
        dlg = SupervisorDialog(self, payment)
        if dlg.exec() != QDialog.DialogCode.Accepted.value:
            return None
        return dlg.values()

    def do_void(self) -> None:
        pay = self._selected_payment()
        if pay is None:
            return
        vals = self.supervisor_dialog(pay)
        if vals is None:
            return
        store, actor = self.ctx.store, self.ctx.actor

        def work() -> dict:
            from desktop.services import auth  # deferred: argon2 loads when a supervisor confirms

            if not vals["username"].strip():
                raise ValidationError(
                    {"supervisor": "作废或退费需要主管确认，请输入主管用户名和密码"}
                )
            supervisor = auth.login(store, vals["username"], vals["password"])
            return svc.void_payment(
                store,
                actor,
                pay["payment_id"],
                reason=vals["reason"],
                supervisor=supervisor,
                refund=vals["refund"],
            )

        def ok(row: dict) -> None:
            word = "退费" if row["status"] == "refunded" else "作废"
            self.pay_msg.setStyleSheet(WARN_STYLE)
            self.pay_msg.setText(
                f"已{word}：收据号 {row['receipt_no']}（原因：{row['void_reason']}）"
            )

        def failed(exc: BaseException) -> None:
            self.pay_msg.setStyleSheet(ERROR_STYLE)
            if isinstance(exc, ValidationError):
                self.pay_msg.setText("✗ " + "；".join(exc.errors.values()))
            elif isinstance(exc, PermissionError) or type(exc).__name__ == "LoginFailed":
                self.pay_msg.setText("✗ " + str(exc))
            else:
                self._failed(exc)

        self.change(work, "payment", ok, on_failure=failed)
