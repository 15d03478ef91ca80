"""同步 page: the state of sync, the last sync time and pending changes, the 立即同步
button with progress and 取消, the periodic sync, registering this PC, and the conflict
inbox (what happened, what to do). The sync itself runs as a long job on a worker thread;
one at a time (the page keeps one job and the engine holds a file lock)."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.errors import ValidationError
from desktop.gui import one_window
from desktop.gui.one_window import restartable
from desktop.gui.pages.base import Page as BasePage
from desktop.gui.widgets import ERROR_STYLE, OK_STYLE, WARN_STYLE, FieldForm, heading
from desktop.services import sync as sync_service

log = logging.getLogger(__name__)

STATE_STYLE = {
    "ok": OK_STYLE,
    "failed": ERROR_STYLE,
    "offline": WARN_STYLE,
    "syncing": WARN_STYLE,
    "never": WARN_STYLE,
    "unregistered": ERROR_STYLE,
}
KIND_LABELS = {
    "rejected": "被拒绝",
    "conflict": "冲突",
    "merged": "已合并",
    "identity_merged": "同一人合并",
    "identity_review": "身份待核对",
    "double_enrollment": "重复参保",
    "refund_task": "退费/转移",
    "correction_request": "更正申请",
    "stale_update": "数据已被修改",
    "move_conflict": "迁移冲突",
    "resolved": "已裁定",
    "policy_error": "政策文件有误",
}


class Page(BasePage):
    error_title = "同步"

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(ctx, parent)
        self.ctx = ctx
        self.job = None
        self._trigger = "manual"
        self.status: dict = {}
        self._startup_sync = bool(ctx.extras.get("sync_on_startup", True))
        self._build()
        self.timer = QTimer(self)
        self.timer.timeout.connect(lambda: self.start_sync("timer"))
        self._arm_timer()
        self.refresh()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        lay = QVBoxLayout(self)
        lay.addWidget(heading(self.tr("与县医保服务器同步")))

        top = QHBoxLayout()
        info = QFormLayout()
        self.state_label = QLabel()
        self.state_label.setObjectName("sync_page_state")
        self.last_label = QLabel()
        self.last_label.setObjectName("sync_page_last")
        self.pending_label = QLabel()
        self.pending_label.setObjectName("sync_page_pending")
        self.server_label = QLabel()
        self.server_label.setObjectName("sync_page_server")
        self.server_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        info.addRow(self.tr("同步状态："), self.state_label)
        info.addRow(self.tr("上次同步："), self.last_label)
        info.addRow(self.tr("待上传："), self.pending_label)
        info.addRow(self.tr("县医保服务器："), self.server_label)
        self.version_label = QLabel()
        self.version_label.setObjectName("sync_page_version")
        self.version_label.setWordWrap(True)
        info.addRow(self.tr("软件版本："), self.version_label)
        top.addLayout(info, 1)

        buttons = QVBoxLayout()
        self.sync_button = QPushButton(self.tr("立即同步(&S)"))
        self.sync_button.setObjectName("sync_now")
        self.sync_button.setMinimumHeight(40)
        self.sync_button.clicked.connect(lambda: self.start_sync("manual"))
        self.ctx.events.sync_requested.connect(lambda: self.start_sync("manual"))
        self.cancel_button = QPushButton(self.tr("取消同步"))
        self.cancel_button.setObjectName("sync_cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_sync)
        self.install_button = QPushButton(self.tr("重启软件并安装新版本"))
        self.install_button.setObjectName("sync_install_update")
        self.install_button.setToolTip(
            self.tr("主管操作：关闭本软件（未保存的内容会先提示），再以新版本打开")
        )
        self.install_button.setVisible(False)
        self.install_button.clicked.connect(self.restart_to_install)
        buttons.addWidget(self.sync_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.install_button)
        top.addLayout(buttons)
        lay.addLayout(top)

        self.progress = QProgressBar()
        self.progress.setObjectName("sync_progress")
        self.progress.setTextVisible(True)
        self.progress.setVisible(False)
        lay.addWidget(self.progress)
        self.message = QLabel()
        self.message.setObjectName("sync_message")
        self.message.setWordWrap(True)
        lay.addWidget(self.message)

        self._build_registration(lay)
        self._build_inbox(lay)
        self.items: list[dict] = []

    def _build_registration(self, lay: QVBoxLayout) -> None:
        """注册本机: shown while this PC is not registered; messages beside the boxes."""
        self.reg_box = QGroupBox(self.tr("注册本机（需主管；注册码向县医保局领取）"))
        box_lay = QVBoxLayout(self.reg_box)
        self.reg_form = FieldForm()
        self.server_edit = QLineEdit()
        self.server_edit.setObjectName("reg_server")
        self.server_edit.setPlaceholderText("ybj.example.gov.cn")
        self.code_edit = QLineEdit()
        self.code_edit.setObjectName("reg_code")
        self.code_edit.setPlaceholderText("7KQM-X2PD-9TZR")
        self.ca_edit = QLineEdit()
        self.ca_edit.setObjectName("reg_ca")
        self.ca_edit.setPlaceholderText(self.tr("县医保局发的证书文件（.pem/.crt），没有可不填"))
        ca_pick = QPushButton(self.tr("选择…"))
        ca_pick.setObjectName("reg_ca_pick")
        ca_pick.clicked.connect(self._pick_ca)
        ca = QWidget()
        ca_row = QHBoxLayout(ca)
        ca_row.setContentsMargins(0, 0, 0, 0)
        ca_row.addWidget(self.ca_edit, 1)
        ca_row.addWidget(ca_pick)
        self.reg_form.add("server", self.tr("服务器地址"), self.server_edit)
        self.reg_form.add("code", self.tr("注册码"), self.code_edit)
        self.reg_form.add("ca", self.tr("服务器证书"), ca)
        self.reg_form.grid.setColumnStretch(1, 1)  # the boxes and their messages share
        self.reg_form.grid.setColumnStretch(2, 1)  # the page's width
        box_lay.addLayout(self.reg_form.grid)
        self.reg_button = QPushButton(self.tr("注册本机"))
        self.reg_button.setObjectName("reg_button")
        self.reg_button.clicked.connect(self.register_device)
        self.code_edit.returnPressed.connect(self.register_device)
        self.reg_error = QLabel()  # what the county answered that no one box is wrong in
        self.reg_error.setObjectName("reg_error")
        self.reg_error.setStyleSheet(ERROR_STYLE)
        self.reg_error.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.reg_error, 1)
        row.addWidget(self.reg_button)
        box_lay.addLayout(row)
        lay.addWidget(self.reg_box)

    def _build_inbox(self, lay: QVBoxLayout) -> None:
        """冲突与通知: what the county answered, what to do, and 标记为已处理."""
        head = QHBoxLayout()
        self.inbox_title = heading(self.tr("冲突与通知"))
        head.addWidget(self.inbox_title)
        head.addStretch(1)
        self.show_resolved = QCheckBox(self.tr("显示已处理"))
        self.show_resolved.setObjectName("show_resolved")
        self.show_resolved.toggled.connect(lambda _=False: self.refresh())
        head.addWidget(self.show_resolved)
        self.resolve_button = QPushButton(self.tr("标记为已处理(&D)"))
        self.resolve_button.setObjectName("resolve_item")
        self.resolve_button.clicked.connect(self.resolve_selected)
        head.addWidget(self.resolve_button)
        lay.addLayout(head)
        self.table = QTableWidget(0, 5)
        self.table.setObjectName("inbox")
        self.table.setHorizontalHeaderLabels(
            [
                self.tr("时间"),
                self.tr("类别"),
                self.tr("发生了什么"),
                self.tr("怎么办"),
                self.tr("状态"),
            ]
        )
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)  # Tab moves on, not cell to cell
        self.table.setWordWrap(True)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        hh.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        hh.setSectionResizeMode(4, QHeaderView.ResizeMode.ResizeToContents)
        hh.sectionResized.connect(lambda *_: self.table.resizeRowsToContents())
        lay.addWidget(self.table, 1)

    # ------------------------------------------------------------------ state
    def _arm_timer(self) -> None:
        minutes = sync_service.interval_minutes(self.ctx.store)
        self.timer.start(minutes * 60 * 1000)

    def on_shown(self) -> None:
        self.refresh()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        QTimer.singleShot(0, self.table.resizeRowsToContents)  # wrapped text fits the rows

    def refresh(self) -> None:
        store = self.ctx.store
        include = self.show_resolved.isChecked()
        self.query(
            lambda: (
                sync_service.status(store),
                sync_service.inbox(store, include_resolved=include),
            ),
            self._show,
        )

    def _show(self, result) -> None:
        status, items = result
        self.status = status
        state = "syncing" if self.job is not None else status["state"]
        self.state_label.setText(sync_service.STATE_LABELS[state])
        self.state_label.setStyleSheet(STATE_STYLE.get(state, ""))
        last = status["last_sync_at"]
        self.last_label.setText(last.replace("T", " ")[:19] if last else self.tr("从未同步"))
        self.pending_label.setText(
            self.tr("{n} 条（本机已保存，尚未上传到县里）").format(n=status["pending"])
            if status["pending"]
            else self.tr("0 条")
        )
        if status["registered"]:
            self.server_label.setText(
                f"{status['server_url']}（{self.tr('服务点编码')} {status['service_point_code']}）"
            )
        else:
            self.server_label.setText(self.tr("本机尚未注册"))
        self.version_label.setText(status["version_note"])
        self.install_button.setVisible(
            status["update_staged"] and restartable() and self.ctx.actor.is_supervisor
        )
        self.reg_box.setVisible(not status["registered"])
        if not status["registered"] and not self.server_edit.text() and status.get("county_url"):
            self.server_edit.setText(status["county_url"])
        self.sync_button.setEnabled(status["registered"] and self.job is None)
        if self.job is None and status.get("last_error"):
            self.message.setStyleSheet(ERROR_STYLE)
            self.message.setText(_strip_code(status["last_error"]))
        self._fill_inbox(items)
        self.inbox_title.setText(
            self.tr("冲突与通知（未处理 {n} 条）").format(n=status["inbox_open"])
        )
        self._publish(state)
        if self._startup_sync:
            self._startup_sync = False
            if status["registered"]:
                self.start_sync("startup")

    def _publish(self, state: str, message: str = "") -> None:
        s = self.status
        self.ctx.events.sync_status.emit(
            {
                "state": sync_service.bar_state({"state": state}),
                "pending": s.get("pending", 0),
                "last_sync_at": s.get("last_sync_at"),
                "message": message,
            }
        )

    def _fill_inbox(self, items: list[dict]) -> None:
        self.items = items
        self.table.setRowCount(len(items))
        for r, it in enumerate(items):
            done = it["resolved_at"] is not None
            cells = [
                (it["created_at"] or "").replace("T", " ")[:16],
                KIND_LABELS.get(it["kind"], it["kind"]),
                it["title"],
                it["action"],
                self.tr("已处理") if done else self.tr("待处理"),
            ]
            for c, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                cell.setToolTip(text)
                self.table.setItem(r, c, cell)
        self.table.resizeRowsToContents()

    # ------------------------------------------------------------------ actions
    def start_sync(self, trigger: str = "manual") -> bool:
        """Start one sync in the background; False when one is already running or this
        PC is not registered."""
        if self.job is not None:
            if trigger == "manual":
                self.message.setText(self.tr("同步正在进行，请稍候。"))
            return False
        if not self.status.get("registered"):
            if trigger == "manual":
                self.message.setStyleSheet(ERROR_STYLE)
                self.message.setText(self.tr("本机尚未注册，请先在下方填写服务器地址和注册码。"))
            return False
        store, data_dir, actor = self.ctx.store, self.ctx.data_dir, self.ctx.actor

        def work(job):
            return sync_service.run_sync(
                store,
                data_dir,
                actor,
                trigger=trigger,
                progress=job.progress,
                cancel=job._cancel,
            )

        self._trigger = trigger
        self.job = self.ctx.tasks.run_long(
            self, self.tr("同步"), work, self._done, self._failed, dialog=False
        )
        self.job.progressed.connect(self._progress, Qt.ConnectionType.QueuedConnection)
        self.sync_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.message.setStyleSheet("")
        self.message.setText(self.tr("正在同步……您可以继续办理业务。"))
        self.state_label.setText(sync_service.STATE_LABELS["syncing"])
        self.state_label.setStyleSheet(STATE_STYLE["syncing"])
        self._publish("syncing")
        return True

    def cancel_sync(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.message.setText(self.tr("正在取消……已完成的部分会保留。"))

    def _progress(self, done: int, total: int, text: str) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(min(done, total))
        else:
            self.progress.setRange(0, 0)
        if text:
            self.message.setText(text)

    def _end(self) -> None:
        self.job = None
        self.cancel_button.setEnabled(False)
        self.progress.setVisible(False)

    def _done(self, summary) -> None:
        self._end()
        self.message.setStyleSheet(OK_STYLE)
        self.message.setText(summary.line())
        self.ctx.events.status_message.emit(summary.line())
        self.ctx.events.data_changed.emit("sync")
        self.refresh()

    def _failed(self, exc: BaseException) -> None:
        self._end()
        from desktop.sync.errors import (
            SyncError,
        )  # deferred: the sync client loads with the first sync

        if isinstance(exc, SyncError) and exc.code == "E-SYNC-BUSY" and self._trigger != "manual":
            self.message.setText(
                self.tr("另一个同步（命令行或定时任务）正在进行，本次定时同步已跳过。")
            )
            self.message.setStyleSheet("")
            self.refresh()
            return
        if isinstance(exc, SyncError) and exc.code == "E-SYNC-DISABLED":
            self.ctx.events.device_disabled.emit(f"{exc.message}（代码 {exc.code}）")
            return
        if isinstance(exc, SyncError):
            text = f"{exc.message}（代码 {exc.code}）"
            if exc.code == "E-SYNC-CANCEL":
                self.message.setStyleSheet(WARN_STYLE)
            else:
                self.message.setStyleSheet(ERROR_STYLE)
        else:
            log.error("sync failed", exc_info=exc)
            text = self.tr(
                "同步未完成，数据仍安全保存在本机。请稍后重试；如仍失败请联系县医保局技术人员。"
            )
            self.message.setStyleSheet(ERROR_STYLE)
        self.message.setText(text)
        self.ctx.events.status_message.emit(text)
        self.refresh()

    def _pick_ca(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("选择县医保局的证书文件"), "", self.tr("证书 (*.pem *.crt *.cer)")
        )
        if path:
            self.ca_edit.setText(path)

    def restart_to_install(self) -> None:
        """A supervisor says so: close the desk the normal way (unsaved work is asked about
        first) and start the program again — its starter installs the staged version."""
        window = self.window()
        if window is not None and not window.close():
            return  # the clerk kept the window open to save her work
        one_window.start_again()
        QApplication.instance().quit()

    REG_FIELDS = {"E-SYNC-REGCODE": "code", "E-SYNC-TLS": "server"}  # a refusal's box

    def register_device(self) -> None:
        server, code = self.server_edit.text(), self.code_edit.text()
        ca_file = self.ca_edit.text().strip()
        self.reg_error.setText("")
        try:
            server, code = sync_service.check_registration(server, code)
        except ValidationError as e:
            self.reg_form.show_errors(e.errors)
            return
        self.reg_form.clear_errors()
        self.server_edit.setText(server)  # as it will be asked: https:// added
        store, data_dir, actor = self.ctx.store, self.ctx.data_dir, self.ctx.actor
        self.reg_button.setEnabled(False)

        def ok(result: dict) -> None:
            self.reg_button.setEnabled(True)
            sp = result["service_point"]
            self.code_edit.clear()
            self.message.setStyleSheet(OK_STYLE)
            self.message.setText(
                self.tr("注册成功：服务点 {name}（{code}）。现在可以同步了。").format(
                    name=sp["name"], code=sp["code"]
                )
            )
            self.refresh()

        def fail(exc: BaseException) -> None:
            self.reg_button.setEnabled(True)
            from desktop.sync.errors import (  # deferred: the sync client loads with the first sync
                BadCaFile,
                SyncError,
            )

            if isinstance(exc, BadCaFile):
                self.reg_form.show_errors({"ca": exc.message})
            elif isinstance(exc, SyncError) and exc.code in self.REG_FIELDS:
                self.reg_form.show_errors(
                    {self.REG_FIELDS[exc.code]: f"{exc.message}（代码 {exc.code}）"}
                )
            elif isinstance(exc, SyncError):
                self.reg_error.setText(f"✗ {exc.message}（代码 {exc.code}）")
            elif isinstance(exc, PermissionError):
                self.reg_error.setText(f"✗ {exc}")
            else:
                log.error("registration failed", exc_info=exc)
                self.reg_error.setText(self.tr("✗ 注册未完成，请检查服务器地址后重试。"))

        self.ctx.tasks.run_long(
            self,
            self.tr("注册本机"),
            lambda _job: sync_service.register_device(
                store,
                data_dir,
                server,
                code,
                actor=actor,
                ca_pem=sync_service.read_ca(ca_file) if ca_file else None,
            ),
            ok,
            fail,
            dialog=False,
        )

    def resolve_selected(self) -> None:
        row = self.table.currentRow()
        if row < 0 or row >= len(self.items):
            self.message.setText(self.tr("请先在列表中选中一条通知。"))
            return
        item = self.items[row]
        if item["resolved_at"]:
            return
        store, actor = self.ctx.store, self.ctx.actor
        self.change(
            lambda: sync_service.resolve_inbox_item(store, actor, item["id"]),
            "sync",
            lambda _ok: self.refresh(),
        )


def _strip_code(message: str) -> str:
    """'E-SYNC-OFFLINE 连不上…' → '连不上…（代码 E-SYNC-OFFLINE）'."""
    code, _, rest = message.partition(" ")
    return f"{rest}（代码 {code}）" if code.startswith("E-") and rest else message
