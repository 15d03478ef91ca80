"""The main window: navigation on the left, the service point, operator and date at the
top, the sync state, pending changes and last sync time in the status bar."""

from __future__ import annotations

import datetime as dt
import importlib

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QStackedWidget,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from desktop.gui.pages import PAGES, PageSpec
from desktop.gui.pages.base import run_query
from desktop.gui.widgets import ERROR_STYLE, OK_STYLE, WARN_STYLE, ask_go_ahead, printer_icon
from desktop.services import outbox

SYNC_PAGE_DELAY_MS = 500  # the 同步 page (and the start-up sync) once the first page is drawn

SYNC_STATES = {
    "offline": ("离线", WARN_STYLE),
    "syncing": ("同步中", WARN_STYLE),
    "failed": ("同步失败", ERROR_STYLE),
    "ok": ("已是最新", OK_STYLE),
    "never": ("尚未同步", WARN_STYLE),
}


class MainWindow(QMainWindow):
    def __init__(self, ctx):
        super().__init__()
        self.ctx = ctx
        self.setWindowTitle(self.tr("乡镇医保服务窗口"))
        self.resize(1366, 740)
        self._pages: dict[str, QWidget] = {}
        self._specs: list[PageSpec] = list(PAGES)

        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(8, 6, 8, 4)
        self.header = QLabel()
        self.header.setObjectName("header")
        self.header.setStyleSheet("font-weight: bold; padding: 4px;")
        outer.addWidget(self.header)

        body = QHBoxLayout()
        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        self.nav.setFixedWidth(150)
        self.stack = QStackedWidget()
        for spec in self._specs:
            icon = (
                printer_icon()
                if spec.icon == "printer"
                else self.style().standardIcon(getattr(QStyle.StandardPixmap, spec.icon))
            )
            item = QListWidgetItem(icon, f"{spec.title}  {spec.shortcut}")
            item.setData(Qt.ItemDataRole.UserRole, spec.key)
            self.nav.addItem(item)
            self.stack.addWidget(self._page_holder())
        self.nav.currentRowChanged.connect(self._show_row)
        body.addWidget(self.nav)
        body.addWidget(self.stack, 1)
        outer.addLayout(body, 1)
        self.setCentralWidget(central)

        self._build_menu()
        self._build_status_bar()
        self.refresh_header()
        ctx.events.sync_status.connect(self.set_sync_status)
        ctx.events.status_message.connect(lambda m: self.statusBar().showMessage(m, 8000))
        ctx.events.data_changed.connect(lambda _e: self.refresh_pending())
        ctx.events.open_page.connect(self._open_page_request)
        ctx.events.device_disabled.connect(self.close_disabled)
        self.disabled_for_good = False
        self.nav.setCurrentRow(0)
        self.refresh_pending()
        # The 同步 page runs the start-up and periodic sync; it is built once the window is
        # on screen so its imports (keyring, sync engine) don't delay the first paint.
        self._sync_page_timer = QTimer(self)
        self._sync_page_timer.setSingleShot(True)
        self._sync_page_timer.timeout.connect(lambda: self.page("sync"))
        self._sync_page_timer.start(SYNC_PAGE_DELAY_MS)

    # ---- menu and pages -------------------------------------------------------------
    def _build_menu(self) -> None:
        menu = self.menuBar().addMenu(self.tr("页面(&V)"))
        for i, spec in enumerate(self._specs):
            act = QAction(spec.title, self)
            act.setShortcut(QKeySequence(spec.shortcut))
            act.triggered.connect(lambda _=False, row=i: self.nav.setCurrentRow(row))
            menu.addAction(act)
        self.system_menu = self.menuBar().addMenu(self.tr("系统(&T)"))
        quit_act = QAction(self.tr("退出(&X)"), self)
        quit_act.setShortcut(QKeySequence("Ctrl+Q"))
        quit_act.triggered.connect(self.close)
        self.system_menu.addAction(quit_act)
        from desktop.gui import operations  # deferred: not needed for the first paint (cold start)

        operations.install(self)  # 系统设置…, 备份与恢复…, 打开日志文件夹

    @staticmethod
    def _page_holder() -> QScrollArea:
        """A page sits in a frameless scroll area: a page that needs more height than the
        screen (a long message after a payment) scrolls instead of pushing the window under
        the taskbar; at 1366×728 every page fits without it."""
        holder = QScrollArea()
        holder.setWidgetResizable(True)
        holder.setFrameShape(QFrame.Shape.NoFrame)
        holder.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        holder.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        return holder

    def page(self, key: str) -> QWidget:
        """The page widget for ``key``, created on first use."""
        if key not in self._pages:
            row = next(i for i, s in enumerate(self._specs) if s.key == key)
            spec = self._specs[row]
            module = importlib.import_module(spec.module)
            widget = module.Page(self.ctx)
            widget.setObjectName(f"page_{key}")
            self.stack.widget(row).setWidget(widget)
            self._pages[key] = widget
        return self._pages[key]

    def show_page(self, key: str) -> QWidget:
        row = next(i for i, s in enumerate(self._specs) if s.key == key)
        self.nav.setCurrentRow(row)
        return self.page(key)

    def _show_row(self, row: int) -> None:
        if row < 0:
            return
        spec = self._specs[row]
        widget = self.page(spec.key)
        self.stack.setCurrentIndex(row)
        # the page in the title: the taskbar (and a technician helping by phone) can tell
        self.setWindowTitle(f"{self.tr('乡镇医保服务窗口')} — {spec.title}")
        hook = getattr(widget, "on_shown", None)
        if callable(hook):
            hook()
        self._keys_to(widget)

    @staticmethod
    def _keys_to(page: QWidget) -> None:
        """The keys a clerk types next go to the page in front: its search box (each time,
        its text selected: the next resident's number replaces it), else where the keyboard
        last was on the page, else its first field. Seen on the real screen: right after
        log-in F4 showed 报销测算 (made on first use) with the keyboard nowhere on it, and the
        ID number typed went nowhere."""

        def inside() -> bool:
            w = QApplication.focusWidget()
            return w is not None and page.isAncestorOf(w)

        page.focus_search()
        if inside():
            return
        w = page.nextInFocusChain()
        for _ in range(500):  # the chain is a ring through the window; a guard all the same
            if w is page or w is None:
                return
            if (
                page.isAncestorOf(w)
                and w.isVisibleTo(page)
                and w.isEnabled()
                and w.focusPolicy() & Qt.FocusPolicy.TabFocus
            ):
                w.setFocus(Qt.FocusReason.OtherFocusReason)
                return
            w = w.nextInFocusChain()

    def _open_page_request(self, key: str, arg: object) -> None:
        widget = self.show_page(key)
        hook = getattr(widget, "open_item", None)
        if arg is not None and callable(hook):
            hook(arg)

    # ---- header and status bar -------------------------------------------------------
    def refresh_header(self) -> None:
        sp = self.ctx.service_point or {}
        actor = self.ctx.actor
        role = "主管" if actor.is_supervisor else "经办员"
        today = dt.date.today()
        weekday = "一二三四五六日"[today.weekday()]
        self.header.setText(
            f"{sp.get('name', '')}（{sp.get('region_code', '')}）　　"
            f"操作员：{actor.display_name}（{role}）　　"
            f"{today.year}年{today.month}月{today.day}日 星期{weekday}"
        )

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.sync_label = QLabel()
        self.sync_label.setObjectName("sync_state")
        self.pending_label = QLabel()
        self.pending_label.setObjectName("pending")
        self.last_sync_label = QLabel()
        self.last_sync_label.setObjectName("last_sync")
        metrics = self.fontMetrics()
        for w, sample in (
            (self.sync_label, "同步状态：同步失败"),
            (self.pending_label, "待上传：99999 条"),
            (self.last_sync_label, "上次同步：2026-11-23 10:00"),
        ):
            w.setMinimumWidth(metrics.horizontalAdvance(sample) + 24)
            bar.addPermanentWidget(w)
        last = self.ctx.store.setting("last_sync_at")
        self.set_sync_status({"state": "ok" if last else "never", "last_sync_at": last})

    def set_sync_status(self, status: dict) -> None:
        text, style = SYNC_STATES.get(status.get("state", "never"), SYNC_STATES["never"])
        self.sync_label.setText(self.tr("同步状态：") + text)
        self.sync_label.setStyleSheet(style)
        if "pending" in status:
            self._set_pending(int(status["pending"]))
        last = status.get("last_sync_at")
        self.last_sync_label.setText(
            self.tr("上次同步：") + (last.replace("T", " ")[:16] if last else self.tr("从未"))
        )

    def _set_pending(self, n: int) -> None:
        self.pending_label.setText(self.tr("待上传：") + f"{n} 条")

    def refresh_pending(self) -> None:
        store = self.ctx.store
        run_query(self.ctx, lambda: outbox.pending_count(store), self._set_pending)

    def unsaved_pages(self) -> list[str]:
        """Titles of the pages holding typing that is not saved yet."""
        titles = {s.key: s.title for s in self._specs}
        return [titles[k] for k, w in self._pages.items() if w.has_unsaved_changes()]

    def ask_quit_with_unsaved(self, pages: list[str]) -> bool:
        """Alt+F4, Ctrl+Q or the close button with unsaved typing (tests replace this)."""
        text = self.tr("“{0}”页还有没保存的内容。退出会丢失这些内容，要退出吗？")
        return ask_go_ahead(
            self,
            self.tr("退出"),
            text.replace("{0}", "、".join(pages)),
            self.tr("放弃并退出"),
            self.tr("返回继续"),
        )

    def close_disabled(self, message: str) -> None:
        """The county disabled this PC and its data were erased: say so, then close (no
        question about unsaved input: nothing can be saved any more)."""
        self.disabled_for_good = True
        for w in self.findChildren(QWidget):
            if w.isWindow() and w is not self and w.isVisible():
                w.hide()
        self.centralWidget().setEnabled(False)
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            self.tr("本机已停用"),
            message,
            QMessageBox.StandardButton.Close,
            self,
        )
        box.setObjectName("device_disabled")
        box.finished.connect(lambda _r: self.close())
        box.open()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        pages = [] if self.disabled_for_good else self.unsaved_pages()
        if pages and not self.ask_quit_with_unsaved(pages):
            event.ignore()
            return
        self._sync_page_timer.stop()  # nothing new starts once the window is closing
        hook = getattr(self.ctx, "on_close", None)
        if callable(hook):
            hook()  # the running save finishes, then the workers stop (TaskRunner.shutdown)
        super().closeEvent(event)
