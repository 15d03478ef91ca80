"""系统设置 dialog (supervisor): county server address, default printer and paper, service
point details on the first tab; backups ("立即备份", "恢复") on the second.

A clerk may open it to read the settings and see when the last backup was made; the fields
and buttons are disabled with a sentence saying why. All store work runs on the task
runner; errors are shown beside the field (input) or in a box with a code (others).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.errors import ValidationError
from desktop.gui.pages.base import StoreWork
from desktop.gui.widgets import OK_STYLE, WARN_STYLE, FieldForm, Note
from desktop.logging_setup import report_error
from desktop.services import backup
from desktop.services import settings as settings_service


def show_error(parent: QWidget | None, exc: BaseException, title: str) -> None:
    _code, message = report_error(exc, title)
    QMessageBox.warning(parent, title, message)


def printer_names() -> list[str]:
    """Printers Windows (or CUPS) knows; empty offscreen and on a PC without printers."""
    try:
        from PySide6.QtPrintSupport import (
            QPrinterInfo,
        )  # deferred: QtPrintSupport loads when the dialog opens
    except ImportError:  # pragma: no cover - QtPrintSupport is part of PySide6-Essentials
        return []
    return list(QPrinterInfo.availablePrinterNames())


class SettingsForm(QWidget):
    """The editable settings; ``save()`` sends them to the settings service."""

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        lay = QVBoxLayout(self)
        self.note = QLabel()
        self.note.setWordWrap(True)
        lay.addWidget(self.note)
        self.form = FieldForm()
        self.county_url = QLineEdit()
        self.county_url.setPlaceholderText("https://ybj.example.gov.cn")
        self.county_phone = QLineEdit()
        self.county_phone.setPlaceholderText("县医保局联系电话，缺少政策或同步出错时拨打")
        self.printer = QComboBox()
        self.paper = QComboBox()
        for key, label in settings_service.PAPERS.items():
            self.paper.addItem(label, key)
        self.sp_name = QLineEdit()
        self.sp_phone = QLineEdit()
        self.sp_phone.setPlaceholderText("0351-1234567")
        self.sp_address = QLineEdit()
        self.sp_fixed = QLabel()
        self.sp_fixed.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.card_reader = QComboBox()
        for key, label in settings_service.CARD_READERS.items():
            self.card_reader.addItem(label, key)
        self.card_library = QLineEdit()
        self.card_library.setPlaceholderText(r"例如 C:\身份证阅读器\termb.dll（厂家驱动光盘中）")
        self.card_port = QLineEdit()
        self.card_port.setPlaceholderText("空 = 自动查找")
        self.card_photo = QCheckBox(self.tr("读取身份证照片（个人信息，一般不需要；照片从不保存）"))
        self.idle_minutes = QSpinBox()  # the window locks after this many idle minutes
        self.idle_minutes.setRange(1, 120)
        self.idle_minutes.setSuffix(self.tr(" 分钟无操作后锁定窗口"))
        for name, label, widget in (
            ("county_url", self.tr("县医保服务器地址"), self.county_url),
            ("county_phone", self.tr("县医保局电话"), self.county_phone),
            ("printer", self.tr("默认打印机"), self.printer),
            ("paper", self.tr("默认纸张"), self.paper),
            ("sp_name", self.tr("服务点名称"), self.sp_name),
            ("sp_phone", self.tr("联系电话"), self.sp_phone),
            ("sp_address", self.tr("服务点地址"), self.sp_address),
            ("sp_fixed", self.tr("县局分配"), self.sp_fixed),
            ("card_reader", self.tr("读卡方式"), self.card_reader),
            ("card_library", self.tr("阅读器接口库"), self.card_library),
            ("card_port", self.tr("阅读器端口"), self.card_port),
            ("card_photo", self.tr("身份证照片"), self.card_photo),
            ("idle_minutes", self.tr("空闲锁屏"), self.idle_minutes),
        ):
            widget.setObjectName(name)
            self.form.add(name, label, widget)
        lay.addLayout(self.form.grid)
        lay.addStretch(1)
        self.inputs = [
            self.county_url,
            self.county_phone,
            self.printer,
            self.paper,
            self.sp_name,
            self.sp_phone,
            self.sp_address,
            self.card_reader,
            self.card_library,
            self.card_port,
            self.card_photo,
            self.idle_minutes,
        ]
        self.set_editable(ctx.actor.is_supervisor)

    def set_editable(self, editable: bool) -> None:
        for w in self.inputs:
            w.setEnabled(editable)
        if editable:
            self.note.setText(self.tr("修改后按“保存”生效；每次修改都记入审计日志。"))
            self.note.setStyleSheet("")
        else:
            self.note.setText(self.tr("只有主管可以修改系统设置。请让主管登录后再修改。"))
            self.note.setStyleSheet(WARN_STYLE)

    def load(self, s: settings_service.DeskSettings) -> None:
        self.county_url.setText(s.county_url)
        self.county_phone.setText(s.county_phone)
        self.printer.clear()
        self.printer.addItem(self.tr("（系统默认打印机）"), "")
        names = printer_names()
        for name in names:
            self.printer.addItem(name, name)
        if s.printer and s.printer not in names:
            self.printer.addItem(s.printer + self.tr("（当前未连接）"), s.printer)
        self.printer.setCurrentIndex(max(self.printer.findData(s.printer), 0))
        self.paper.setCurrentIndex(max(self.paper.findData(s.paper), 0))
        self.sp_name.setText(s.sp_name)
        self.sp_phone.setText(s.sp_phone)
        self.sp_address.setText(s.sp_address)
        self.card_reader.setCurrentIndex(max(self.card_reader.findData(s.card_reader), 0))
        self.card_library.setText(s.card_library)
        self.card_port.setText(s.card_port)
        self.card_photo.setChecked(s.card_photo == "1")
        self.idle_minutes.setValue(int(s.idle_minutes or 10))
        self.sp_fixed.setText(
            self.tr(
                "服务点编码 {code}，医保区划 {region}，设备号 {dev:02d}\n（更改请联系县医保局）"
            ).format(code=s.sp_code, region=s.sp_region_code, dev=s.sp_device_no)
        )

    def values(self) -> dict[str, str]:
        return {
            "county_url": self.county_url.text(),
            "county_phone": self.county_phone.text(),
            "printer": self.printer.currentData() or "",
            "paper": self.paper.currentData() or "",
            "sp_name": self.sp_name.text(),
            "sp_phone": self.sp_phone.text(),
            "sp_address": self.sp_address.text(),
            "card_reader": self.card_reader.currentData() or "keyboard",
            "card_library": self.card_library.text(),
            "card_port": self.card_port.text(),
            "card_photo": "1" if self.card_photo.isChecked() else "0",
            "idle_minutes": str(self.idle_minutes.value()),
        }


class BackupPanel(QWidget, StoreWork):
    """The list of backups, "立即备份" and "恢复所选备份…"."""

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        lay = QVBoxLayout(self)
        self.info = QLabel()
        self.info.setWordWrap(True)
        lay.addWidget(self.info)
        self.list = QListWidget()
        self.list.setObjectName("backups")
        lay.addWidget(self.list, 1)
        row = QHBoxLayout()
        self.backup_button = QPushButton(self.tr("立即备份"))
        self.backup_button.setObjectName("backup_now")
        self.restore_button = QPushButton(self.tr("恢复所选备份…"))
        self.restore_button.setObjectName("restore")
        self.export_button = QPushButton(self.tr("导出到U盘…"))
        self.export_button.setObjectName("export")
        self.restore_file_button = QPushButton(self.tr("从U盘或其他位置恢复…"))
        self.restore_file_button.setObjectName("restore_file")
        row.addWidget(self.backup_button)
        row.addWidget(self.restore_button)
        row.addWidget(self.export_button)
        row.addWidget(self.restore_file_button)
        row.addStretch(1)
        lay.addLayout(row)
        self.status = QLabel()
        self.status.setObjectName("backup_status")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        # called after a restore; the dialog opened from the main window restarts the session
        self.on_restored = None
        self.backup_button.clicked.connect(self.backup_now)
        self.restore_button.clicked.connect(self.ask_restore)
        self.export_button.clicked.connect(self.ask_export)
        self.restore_file_button.clicked.connect(self.ask_restore_file)
        supervisor = ctx.actor.is_supervisor
        for button in (
            self.backup_button,
            self.restore_button,
            self.export_button,
            self.restore_file_button,
        ):
            button.setEnabled(supervisor)
        where = backup.backups_dir(ctx.data_dir)
        self.info.setText(
            self.tr(
                "本机每天自动备份一次，保留最近 {n} 份，存放在：{where}\n"
                "电脑硬盘损坏时这些备份也会丢失：建议每周把最新备份导出到U盘，另处保管。"
            ).format(n=backup.KEEP, where=where)
            + ("" if supervisor else self.tr("\n只有主管可以立即备份或恢复备份。"))
        )
        self.refresh()

    def refresh(self) -> None:
        self.list.clear()
        items = backup.list_backups(self.ctx.data_dir)
        for info in items:
            item = QListWidgetItem(f"{info.label}　　{info.size / 1024 / 1024:.1f} MB")
            item.setData(Qt.ItemDataRole.UserRole, str(info.path))
            self.list.addItem(item)
        if not items:
            self.list.addItem(self.tr("（还没有备份）"))
        else:
            self.list.setCurrentRow(0)

    def selected(self) -> str | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def backup_now(self) -> None:
        ctx = self.ctx
        self.backup_button.setEnabled(False)
        self.status.setText(self.tr("正在备份……"))
        self.status.setStyleSheet("")

        def done(info: backup.BackupInfo) -> None:
            self.backup_button.setEnabled(True)
            self.status.setText(self.tr("备份完成：") + info.path.name)
            self.status.setStyleSheet(OK_STYLE)
            self.refresh()

        def failed(exc: BaseException) -> None:
            self.backup_button.setEnabled(True)
            self.status.setText("")
            show_error(self, exc, self.tr("备份"))

        # a backup copies the store; it changes no data the pages show (its audit entry aside)
        self.query(lambda: backup.backup_now(ctx.store, ctx.actor, ctx.data_dir), done, failed)

    def ask_export(self) -> None:
        path = self.selected()
        if not path:
            QMessageBox.information(
                self, self.tr("导出备份"), self.tr("请先在列表中选择一个备份。")
            )
            return
        folder = QFileDialog.getExistingDirectory(self, self.tr("选择U盘或文件夹"))
        if not folder:
            return
        self.status.setText(self.tr("正在导出……"))

        def done(copy) -> None:
            self.status.setText(self.tr("已导出到：") + str(copy))
            self.status.setStyleSheet(OK_STYLE)

        def failed(exc: BaseException) -> None:
            self.status.setText("")
            show_error(self, exc, self.tr("导出备份"))

        self.query(lambda: backup.export_backup(path, folder), done, failed)

    def ask_restore_file(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, self.tr("选择备份文件"), "", self.tr("备份文件 (*.sqlite3)")
        )
        if not path:
            return
        answer = QMessageBox.question(
            self,
            self.tr("恢复备份"),
            self.tr(
                "将用备份文件 {name} 替换本机当前的数据。\n\n"
                "当前数据会先完整另存（不会删除）；备份之后录入的业务需要核对后重新录入。\n\n确定恢复吗？"
            ).format(name=Path(path).name),
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.restore(path)

    def ask_restore(self) -> None:
        path = self.selected()
        if not path:
            QMessageBox.information(
                self, self.tr("恢复备份"), self.tr("请先在列表中选择一个备份。")
            )
            return
        label = self.list.currentItem().text().split("　")[0]
        answer = QMessageBox.question(
            self,
            self.tr("恢复备份"),
            self.tr(
                "将用 {label} 的备份替换本机当前的数据。\n\n"
                "当前数据会先完整另存（不会删除）；备份之后录入的业务需要核对后重新录入。\n\n确定恢复吗？"
            ).format(label=label),
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.restore(path)

    def restore(self, path: str) -> None:
        ctx = self.ctx
        self.restore_button.setEnabled(False)
        self.status.setText(self.tr("正在检查备份并恢复……"))

        def done(result: backup.RestoreResult) -> None:
            self.restore_button.setEnabled(True)
            self.status.setText(self.tr("已恢复。恢复前的数据另存在：") + str(result.set_aside[0]))
            self.status.setStyleSheet(OK_STYLE)
            self.refresh()
            if self.on_restored is not None:
                self.on_restored(result)

        def failed(exc: BaseException) -> None:
            self.restore_button.setEnabled(True)
            self.status.setText("")
            show_error(self, exc, self.tr("恢复备份"))

        self.change(
            lambda: backup.restore_backup(ctx.store, ctx.actor, path, ctx.data_dir),
            ("person", "household", "payment", "estimate", "settings"),
            done,
            on_failure=failed,
        )


class SettingsDialog(QDialog, StoreWork):
    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle(self.tr("系统设置"))
        self.setMinimumWidth(720)
        lay = QVBoxLayout(self)
        self.tabs = QTabWidget()
        self.settings_form = SettingsForm(ctx)
        self.backups = BackupPanel(ctx)
        self.backups.on_restored = self._after_restore
        self.tabs.addTab(self.settings_form, self.tr("基本设置"))
        self.tabs.addTab(self.backups, self.tr("备份与恢复"))
        lay.addWidget(self.tabs)
        self.result_label = Note()  # takes no room until it says something
        self.result_label.setObjectName("result")
        lay.addWidget(self.result_label)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Close
        )
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText(self.tr("保存"))
        self.save_button.setEnabled(ctx.actor.is_supervisor)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText(self.tr("关闭"))
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.settings_form.load(settings_service.get_settings(ctx.store))

    def _after_restore(self, result: backup.RestoreResult) -> None:
        """The operators, pages and caches of this session belong to the data before the
        restore: say so, then close the main window so the desk starts again with a log-in."""
        QMessageBox.information(
            self,
            self.tr("恢复完成"),
            self.tr(
                "已恢复备份。恢复前的数据另存在：\n{where}\n\n软件现在关闭，请重新打开并登录，"
                "然后核对并补录备份之后办理的业务。"
            ).format(where=result.set_aside[0]),
        )
        self.accept()
        main = self.parent()
        if main is not None:
            main.close()

    def save(self) -> None:
        ctx = self.ctx
        values = self.settings_form.values()
        self.settings_form.form.clear_errors()
        self.save_button.setEnabled(False)

        def done(s: settings_service.DeskSettings) -> None:
            self.save_button.setEnabled(True)
            self.settings_form.load(s)
            self.result_label.setText(self.tr("设置已保存。"))
            self.result_label.setStyleSheet(OK_STYLE)
            if ctx.service_point is not None:
                ctx.service_point = {**ctx.service_point, "name": s.sp_name}
            ctx.events.status_message.emit(self.tr("系统设置已保存"))

        def failed(exc: BaseException) -> None:
            self.save_button.setEnabled(True)
            self.result_label.setText("")
            if isinstance(exc, ValidationError):
                for msg in self.settings_form.form.show_errors(exc.errors):
                    self.result_label.setText(msg)
                return
            show_error(self, exc, self.tr("保存设置"))

        self.change(
            lambda: settings_service.update_settings(ctx.store, ctx.actor, values),
            "settings",
            done,
            on_failure=failed,
        )
