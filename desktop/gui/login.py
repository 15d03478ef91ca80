"""Operator log-in dialog (用户名 + 密码). The accepted dialog holds the Actor."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.gui.widgets import FieldForm, heading
from desktop.services import auth
from desktop.services.context import Actor
from desktop.services.setup import service_point

if TYPE_CHECKING:  # the store is only handed through to the services
    from desktop.store import Store


class LoginDialog(QDialog):
    """Asks for user name and password; ``actor`` is set when the log-in succeeded.

    Checking a password (argon2) takes well under a second, so it runs here directly:
    the dialog is modal and nothing else is on screen yet."""

    def __init__(self, store: Store, username: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self.actor: Actor | None = None
        self.setWindowTitle(self.tr("操作员登录"))
        self.setMinimumWidth(580)
        lay = QVBoxLayout(self)
        sp = service_point(store) or {}
        lay.addWidget(heading(self.tr("乡镇医保服务窗口")))
        if sp:
            lay.addWidget(QLabel(f"{sp.get('name', '')}（{sp.get('region_code', '')}）"))
        self.form = FieldForm()
        self.username = QLineEdit(username)
        self.username.setObjectName("username")
        self.password = QLineEdit()
        self.password.setObjectName("password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.form.add("username", self.tr("用户名"), self.username)
        self.form.add("password", self.tr("密码"), self.password)
        for box in (self.username, self.password):
            # the boxes keep their width and a message (up to ~35 characters: a locked
            # account) gets the rest of the row, not a narrow column that wraps it thrice
            box.setFixedWidth(220)
        self.form.grid.setColumnStretch(2, 1)
        lay.addLayout(self.form.grid)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("登录"))
        buttons.accepted.connect(self.try_login)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setDefault(True)
        (self.password if username else self.username).setFocus()

    def try_login(self) -> None:
        errors: dict[str, str] = {}
        if not self.username.text().strip():
            errors["username"] = self.tr("请输入用户名")
        if not self.password.text():
            errors["password"] = self.tr("请输入密码")
        if errors:
            self.form.show_errors(errors)
            return
        try:
            self.actor = auth.login(self.store, self.username.text(), self.password.text())
        except auth.LoginFailed as exc:
            self.password.clear()
            self.form.show_errors({"password": str(exc)})
            return
        self.form.clear_errors()
        self.accept()
