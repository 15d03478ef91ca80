"""操作员管理 (系统 menu, supervisor): add a clerk or supervisor, reset a password, disable or
enable an operator. A clerk may open it to see who works here; the buttons are disabled
with a sentence saying why. Every change runs on the store worker and is audited."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.errors import ValidationError
from desktop.gui.pages.base import StoreWork
from desktop.gui.widgets import OK_STYLE, WARN_STYLE, FieldForm, Note, show_error
from desktop.services import auth


class PasswordFields:
    """新密码 + 再输入一次, checked alike in both dialogs."""

    def __init__(self, form: FieldForm):
        self.password = form.add("password", "新密码", QLineEdit())
        self.again = form.add("again", "再输入一次", QLineEdit())
        for w in (self.password, self.again):
            w.setEchoMode(QLineEdit.EchoMode.Password)

    def errors(self) -> dict[str, str]:
        if len(self.password.text()) < auth.PASSWORD_MIN:
            return {"password": f"密码至少{auth.PASSWORD_MIN}位"}
        if self.password.text() != self.again.text():
            return {"again": "两次输入的密码不一致"}
        return {}


class _FormDialog(QDialog):
    """A small form with 确定/取消; ``submit`` is run on the store worker by the caller."""

    def __init__(self, title: str, parent: QWidget | None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(520)  # boxes wide enough for their hints beside the messages
        self.lay = QVBoxLayout(self)
        self.form = FieldForm()
        self.lay.addLayout(self.form.grid)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.try_accept)
        self.buttons.rejected.connect(self.reject)
        self.lay.addWidget(self.buttons)

    def check(self) -> dict[str, str]:
        return {}

    def try_accept(self) -> None:
        errors = self.check()
        if errors:
            self.form.show_errors(errors)
            return
        self.accept()


class AddOperatorDialog(_FormDialog):
    def __init__(self, parent: QWidget | None):
        super().__init__("添加操作员", parent)
        self.username = self.form.add("username", "用户名", QLineEdit())
        self.username.setPlaceholderText("字母或数字，登录时用")
        self.display_name = self.form.add("display_name", "姓名", QLineEdit())
        self.role = self.form.add("role", "角色", QComboBox())
        for code, label in auth.ROLES.items():
            self.role.addItem(label, code)
        self.passwords = PasswordFields(self.form)
        self.username.setFocus()

    def check(self) -> dict[str, str]:
        errors = {}
        if not self.username.text().strip():
            errors["username"] = "请输入用户名"
        if not self.display_name.text().strip():
            errors["display_name"] = "请输入姓名"
        errors.update(self.passwords.errors())
        return errors


class ResetPasswordDialog(_FormDialog):
    def __init__(self, who: str, parent: QWidget | None):
        super().__init__(f"重设密码：{who}", parent)
        self.passwords = PasswordFields(self.form)
        self.passwords.password.setFocus()

    def check(self) -> dict[str, str]:
        return self.passwords.errors()


class OperatorsDialog(QDialog, StoreWork):
    HEADERS = ["用户名", "姓名", "角色", "状态"]

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.rows: list[dict] = []
        self.setWindowTitle("操作员管理")
        self.resize(560, 420)
        lay = QVBoxLayout(self)
        self.note = QLabel()
        self.note.setWordWrap(True)
        lay.addWidget(self.note)
        self.table = QTableWidget(0, len(self.HEADERS))
        self.table.setObjectName("operators")
        self.table.setHorizontalHeaderLabels(self.HEADERS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        self.table.setTabKeyNavigation(False)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        lay.addWidget(self.table, 1)
        row = QHBoxLayout()
        self.add_btn = QPushButton("添加操作员…")
        self.add_btn.clicked.connect(self.add)
        self.reset_btn = QPushButton("重设密码…")
        self.reset_btn.clicked.connect(self.reset_password)
        self.toggle_btn = QPushButton("停用")
        self.toggle_btn.clicked.connect(self.toggle_active)
        self.unlock_btn = QPushButton("解锁")  # an account locked by wrong passwords
        self.unlock_btn.setObjectName("unlock")
        self.unlock_btn.clicked.connect(self.unlock)
        for b in (self.add_btn, self.reset_btn, self.toggle_btn, self.unlock_btn):
            row.addWidget(b)
        row.addStretch(1)
        close = QPushButton("关闭")
        close.clicked.connect(self.accept)
        row.addWidget(close)
        lay.addLayout(row)
        self.message = Note()  # takes no room until it says something
        self.message.setObjectName("message")
        lay.addWidget(self.message)
        supervisor = ctx.actor.is_supervisor
        self.note.setText(
            "添加经办员、重设忘记的密码、停用离职人员的账号。每次操作都记入审计日志。"
            if supervisor
            else "只有主管可以管理操作员。请让主管登录后操作。"
        )
        self.note.setStyleSheet("" if supervisor else WARN_STYLE)
        self.add_btn.setEnabled(supervisor)
        self.reload()

    # ---- data ------------------------------------------------------------------------
    def reload(self, select_id: str | None = None) -> None:
        def done(rows: list[dict]) -> None:
            self.rows = rows
            self.table.setRowCount(len(rows))
            for i, r in enumerate(rows):
                cells = (
                    r["username"],
                    r["display_name"],
                    auth.ROLES.get(r["role"], r["role"]),
                    ("已锁定（密码错误次数过多）" if r.get("locked") else "可用")
                    if r["active"]
                    else "已停用",
                )
                for j, text in enumerate(cells):
                    item = QTableWidgetItem(text)
                    item.setData(Qt.ItemDataRole.UserRole, r["id"])
                    self.table.setItem(i, j, item)
                if r["id"] == select_id:
                    self.table.selectRow(i)
            if rows and not self.table.selectionModel().hasSelection():
                # a line chosen from the start, so the buttons answer at once: the first
                # account other than one's own (the one a supervisor comes to change)
                others = [i for i, r in enumerate(rows) if r["id"] != self.ctx.actor.operator_id]
                self.table.selectRow(others[0] if others else 0)
            self._update_buttons()

        store = self.ctx.store
        self.query(lambda: auth.list_operators(store), done, self._failed)

    def selected(self) -> dict | None:
        rows = self.table.selectionModel().selectedRows()
        return self.rows[rows[0].row()] if rows else None

    def _update_buttons(self) -> None:
        row = self.selected()
        allowed = self.ctx.actor.is_supervisor and row is not None
        self.reset_btn.setEnabled(allowed)
        self.toggle_btn.setEnabled(allowed)
        self.toggle_btn.setText("启用" if row is not None and not row["active"] else "停用")
        self.unlock_btn.setEnabled(allowed and bool(row and row.get("locked")))

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, ValidationError):
            self.message.setStyleSheet(WARN_STYLE)
            self.message.setText("；".join(exc.errors.values()))
            return
        show_error(self, exc, "操作员管理")

    def _done(self, text: str, select_id: str | None) -> None:
        self.message.setStyleSheet(OK_STYLE)
        self.message.setText(text)
        self.reload(select_id)

    # ---- actions ---------------------------------------------------------------------
    def add(self) -> None:
        dialog = AddOperatorDialog(self)
        if dialog.exec() != QDialog.DialogCode.Accepted.value:
            return
        store, actor = self.ctx.store, self.ctx.actor
        values = {
            "username": dialog.username.text(),
            "display_name": dialog.display_name.text(),
            "password": dialog.passwords.password.text(),
            "role": dialog.role.currentData(),
        }
        self.change(
            lambda: auth.add_operator(store, by=actor, **values),
            "operator",
            lambda a: self._done(f"已添加{auth.ROLES[a.role]}：{a.display_name}", a.operator_id),
            on_failure=self._failed,
        )

    def reset_password(self) -> None:
        row = self.selected()
        if row is None:
            return
        dialog = ResetPasswordDialog(row["display_name"], self)
        if dialog.exec() != QDialog.DialogCode.Accepted.value:
            return
        store, actor, new = self.ctx.store, self.ctx.actor, dialog.passwords.password.text()
        self.change(
            lambda: auth.reset_password(store, operator_id=row["id"], new_password=new, by=actor),
            "operator",
            lambda r: self._done(f"已重设{r['display_name']}的密码", r["id"]),
            on_failure=self._failed,
        )

    def unlock(self) -> None:
        row = self.selected()
        if row is None:
            return
        store, actor = self.ctx.store, self.ctx.actor
        self.change(
            lambda: auth.unlock_operator(store, operator_id=row["id"], by=actor),
            "operator",
            lambda r: self._done(f"已解锁{r['display_name']}的账号，可以重新登录", r["id"]),
            on_failure=self._failed,
        )

    def toggle_active(self) -> None:
        row = self.selected()
        if row is None:
            return
        active = not row["active"]
        store, actor = self.ctx.store, self.ctx.actor
        self.change(
            lambda: auth.set_operator_active(store, operator_id=row["id"], active=active, by=actor),
            "operator",
            lambda r: self._done(
                f"已{'启用' if active else '停用'}{r['display_name']}的账号", r["id"]
            ),
            on_failure=self._failed,
        )
