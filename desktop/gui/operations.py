"""Day-to-day operation in the GUI: the 系统 menu entries (settings, backups, log folder),
the daily automatic backup timer, and the recovery dialog shown at start-up when the store
file is damaged."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, QUrl
from PySide6.QtGui import QAction, QCursor, QDesktopServices
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from desktop.gui.pages.base import run_query
from desktop.gui.widgets import ERROR_STYLE, FieldForm, heading
from desktop.logging_setup import current_log_file, report_error
from desktop.services import backup

log = logging.getLogger(__name__)
BACKUP_CHECK_MS = 60 * 60 * 1000  # look once an hour whether today's backup is still due


def install(window) -> None:
    """Add 系统设置… / 备份与恢复… / 打开日志文件夹 to the main window's 系统 menu."""
    menu = window.system_menu
    first = menu.actions()[0] if menu.actions() else None

    def open_dialog(tab: int) -> None:
        # imported when first opened, not at start-up (cold start: issue 10 item 7)
        from desktop.gui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(window.ctx, window)
        dialog.tabs.setCurrentIndex(tab)
        dialog.exec()
        window.refresh_header()

    def open_operators() -> None:
        from desktop.gui.operators_dialog import OperatorsDialog  # when first opened

        OperatorsDialog(window.ctx, window).exec()
        window.refresh_header()

    actions = []
    for text, slot, name in (
        (window.tr("系统设置(&S)…"), lambda: open_dialog(0), "action_settings"),
        (window.tr("备份与恢复(&B)…"), lambda: open_dialog(1), "action_backups"),
        (window.tr("打开日志文件夹(&L)"), open_log_folder, "action_logs"),
        (window.tr("操作员管理(&O)…"), open_operators, "action_operators"),
    ):
        act = QAction(text, window)
        act.setObjectName(name)
        act.triggered.connect(lambda _=False, s=slot: s())
        actions.append(act)
    for act in actions:
        menu.insertAction(first, act) if first is not None else menu.addAction(act)
    if first is not None:
        menu.insertSeparator(first)
    (
        window.settings_action,
        window.backups_action,
        window.logs_action,
        window.operators_action,
    ) = actions


def open_log_folder() -> None:
    path = current_log_file()
    if path is not None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.parent)))


class DailyBackup(QObject):
    """Makes today's automatic backup on the store worker at start-up, then checks hourly
    (a desk left running overnight gets its backup the next day). A failure is logged and
    shown in the status bar with its code; it never interrupts the clerk with a box."""

    def __init__(self, ctx, parent: QObject | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.timer = QTimer(self)
        self.timer.setInterval(BACKUP_CHECK_MS)
        self.timer.timeout.connect(self.run_if_due)
        self.last_result: object = None

    def start(self) -> None:
        self.run_if_due()
        self.timer.start()

    def run_if_due(self) -> None:
        ctx = self.ctx
        run_query(
            ctx, lambda: backup.auto_backup(ctx.store, ctx.data_dir), self._done, self._failed
        )

    def _done(self, info: backup.BackupInfo | None) -> None:
        self.last_result = info
        if info is not None:
            self.ctx.events.status_message.emit(self.tr("今日自动备份已完成"))

    def _failed(self, exc: BaseException) -> None:
        self.last_result = exc
        code, _message = report_error(exc, "automatic daily backup")
        self.ctx.events.status_message.emit(
            self.tr("今日自动备份没有完成（代码 {code}），请告诉主管").format(code=code)
        )


class RecoveryDialog(QDialog):
    """Shown instead of the log-in when :func:`backup.startup_check` failed: what happened,
    which backup can be restored, and a supervisor's user name and password (checked
    against that backup). ``restored`` is set when the store was put back."""

    def __init__(self, check: backup.StartupCheck, data_dir: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.check = check
        self.data_dir = Path(data_dir)
        self.restored: backup.RestoreResult | None = None
        self.setWindowTitle(self.tr("数据库检查未通过"))
        self.setMinimumWidth(620)
        lay = QVBoxLayout(self)
        lay.addWidget(heading(self.tr("本机数据库文件已损坏")))
        msg = QLabel(f"{check.message}\n（代码 {check.code}）")
        msg.setObjectName("message")
        msg.setWordWrap(True)
        lay.addWidget(msg)
        self.form = FieldForm()
        self.backup = QComboBox()
        self.backup.setObjectName("backup")
        good = check.last_good
        for info in check.backups:
            self.backup.addItem(info.label, str(info.path))
        if good is not None:
            self.backup.setCurrentIndex(max(self.backup.findData(str(good.path)), 0))
        self.username = QLineEdit()
        self.username.setObjectName("username")
        self.password = QLineEdit()
        self.password.setObjectName("password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.form.add("backup", self.tr("恢复哪一份备份"), self.backup)
        self.form.add("username", self.tr("主管用户名"), self.username)
        self.form.add("password", self.tr("主管密码"), self.password)
        lay.addLayout(self.form.grid)
        self.error = QLabel()
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        lay.addWidget(self.error)
        buttons = QDialogButtonBox()
        self.restore_button = buttons.addButton(
            self.tr("恢复备份"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.restore_button.setObjectName("restore")
        quit_button = buttons.addButton(self.tr("退出"), QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.try_restore)
        buttons.rejected.connect(self.reject)
        quit_button.setObjectName("quit")
        lay.addWidget(buttons)
        has_backups = bool(check.backups)
        for w in (self.backup, self.username, self.password, self.restore_button):
            w.setEnabled(has_backups)

    def try_restore(self) -> None:
        errors = {}
        if not self.username.text().strip():
            errors["username"] = self.tr("请输入主管用户名")
        if not self.password.text():
            errors["password"] = self.tr("请输入主管密码")
        if errors:
            self.form.show_errors(errors)
            return
        self.form.clear_errors()
        self.error.setText("")
        path = self.backup.currentData()
        QApplication.setOverrideCursor(QCursor(Qt.CursorShape.WaitCursor))
        try:
            self.restored = backup.restore_at_startup(
                self.data_dir, path, username=self.username.text(), password=self.password.text()
            )
        except PermissionError as exc:
            self.password.clear()
            self.form.show_errors({"password": str(exc)})
            return
        except Exception as exc:  # shown with its code; details in the log
            _code, message = report_error(exc, "restore at start-up")
            self.error.setText(message)
            return
        finally:
            QApplication.restoreOverrideCursor()
        QMessageBox.information(
            self,
            self.tr("恢复完成"),
            self.tr(
                "已恢复备份。损坏的文件另存在：{where}\n请核对并补录备份之后办理的业务。"
            ).format(
                where=self.restored.set_aside[0].parent
                if self.restored.set_aside
                else self.data_dir
            ),
        )
        self.accept()


def startup_gate(data_dir: Path, parent: QWidget | None = None) -> bool:
    """Run the start-up integrity check; when it fails, show :class:`RecoveryDialog`.
    True means the store can be opened (sound, or restored); False means quit."""
    check = backup.startup_check(data_dir)
    if check.ok:
        return True
    if check.code in ("E-STORE-WIPED", "E-STORE-KEY-001"):  # no backup can help here
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "乡镇医保服务窗口",
            f"{check.message}\n（代码 {check.code}）",
            QMessageBox.StandardButton.Close,
            parent,
        )
        box.setObjectName("startup_stop")
        box.exec()
        return False
    dialog = RecoveryDialog(check, data_dir, parent)
    dialog.exec()
    return dialog.restored is not None
