"""First run: the service point (name, 6-digit region code, code, villages) and its first
administrator, in one dialog. On success ``actor`` is the administrator, logged in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from core.errors import ValidationError
from desktop.gui.widgets import FieldForm, heading, show_error
from desktop.services import auth, setup
from desktop.services.context import Actor

if TYPE_CHECKING:  # the store is only handed through to the services
    from desktop.store import Store


class SetupWizard(QDialog):
    def __init__(self, store: Store, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self.actor: Actor | None = None
        self.setWindowTitle(self.tr("首次使用设置"))
        self.setMinimumWidth(640)
        lay = QVBoxLayout(self)
        lay.addWidget(heading(self.tr("欢迎使用乡镇医保服务窗口")))
        intro = QLabel(
            self.tr(
                "本机第一次使用，请填写服务点信息并设置管理员（主管）账号。"
                "医保区划代码和服务点编码由县医保局提供。"
            )
        )
        intro.setWordWrap(True)
        lay.addWidget(intro)

        sp_box = QGroupBox(self.tr("服务点"))
        self.sp_form = FieldForm()
        self.sp_name = QLineEdit()
        self.region_code = QLineEdit()
        self.region_code.setMaxLength(6)
        self.region_code.setPlaceholderText(self.tr("6位数字，例如 140121"))
        self.code = QLineEdit()
        self.code.setPlaceholderText(self.tr("县医保局分配的编码，例如 SP01"))
        self.villages = QPlainTextEdit()
        self.villages.setTabChangesFocus(True)
        self.villages.setPlaceholderText(self.tr("每行一个村（居委会），例如：\n东村\n西村"))
        self.villages.setFixedHeight(90)
        for field, label, w in (
            ("sp_name", self.tr("服务点名称"), self.sp_name),
            ("region_code", self.tr("医保区划代码"), self.region_code),
            ("code", self.tr("服务点编码"), self.code),
            ("villages", self.tr("村（居委会）"), self.villages),
        ):
            w.setObjectName(field)
            self.sp_form.add(field, label, w)
        sp_box.setLayout(self.sp_form.grid)
        lay.addWidget(sp_box)

        admin_box = QGroupBox(self.tr("管理员（主管）"))
        self.admin_form = FieldForm()
        self.username = QLineEdit("admin")
        self.display_name = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password2 = QLineEdit()
        self.password2.setEchoMode(QLineEdit.EchoMode.Password)
        for field, label, w in (
            ("username", self.tr("用户名"), self.username),
            ("display_name", self.tr("姓名"), self.display_name),
            ("password", self.tr("密码"), self.password),
            ("password2", self.tr("再次输入密码"), self.password2),
        ):
            w.setObjectName(field)
            self.admin_form.add(field, label, w)
        admin_box.setLayout(self.admin_form.grid)
        lay.addWidget(admin_box)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(self.tr("完成设置"))
        self.ok_button.setDefault(True)
        buttons.accepted.connect(self.finish)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.sp_name.setFocus()

    def village_names(self) -> list[str]:
        return [v for v in self.villages.toPlainText().splitlines() if v.strip()]

    def finish(self) -> None:
        sp = setup.ServicePointInput(
            name=self.sp_name.text(),
            region_code=self.region_code.text(),
            code=self.code.text(),
            villages=self.village_names(),
        )
        errors: dict[str, str] = {}
        try:
            setup.validate_service_point(sp)
        except ValidationError as e:
            errors.update(e.errors)
        if self.password.text() != self.password2.text():
            errors["password2"] = self.tr("两次输入的密码不一致，请重新输入")
        try:
            auth._validate_new_operator(
                self.username.text(), self.display_name.text(), self.password.text(), "supervisor"
            )
        except ValidationError as e:
            errors.update(e.errors)
        # a message about one village line goes beside the villages box
        for key in [k for k in errors if k.startswith("village_")]:
            errors.setdefault("villages", errors.pop(key))
        if errors:
            self.show_errors(errors)
            return
        try:
            self.actor = setup.run_setup(
                self.store,
                sp,
                admin_username=self.username.text(),
                admin_name=self.display_name.text(),
                admin_password=self.password.text(),
            )
        except ValidationError as e:
            self.show_errors(e.errors)
            return
        except Exception as exc:  # disk full, locked database …: say so, keep the input
            show_error(self, exc, self.tr("设置未完成"))
            return
        self.accept()

    def show_errors(self, errors: dict[str, str]) -> None:
        """Each message beside its field; the first wrong field (reading order) gets focus."""
        admin = {k: v for k, v in errors.items() if k in self.admin_form.errors}
        sp = {k: v for k, v in errors.items() if k in self.sp_form.errors}
        self.admin_form.show_errors(admin)
        self.sp_form.show_errors(sp)
        if not sp and admin:
            self.admin_form.show_errors(admin)
        other = [v for k, v in errors.items() if k not in admin and k not in sp]
        if other:
            show_error(self, ValidationError({"_": "；".join(other)}), self.tr("设置未完成"))
