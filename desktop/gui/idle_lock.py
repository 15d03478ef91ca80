"""The window locks itself after the idle time set in 系统设置 (default 10 minutes), or at
once with 系统 → 锁定窗口 (Ctrl+L) when the clerk steps away: the pages are hidden, and the
operator's password — or another operator's log-in — opens them again exactly as they were
(nothing typed is lost). A shared clinic PC shows no resident's data to whoever passes
while the clerk is away."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QMainWindow

from desktop.gui.login import LoginDialog

# What counts as someone at the keyboard.
_ACTIVITY = {
    QEvent.Type.KeyPress,
    QEvent.Type.MouseButtonPress,
    QEvent.Type.MouseMove,
    QEvent.Type.Wheel,
}


class IdleLock(QObject):
    def __init__(self, window: QMainWindow, ctx, *, idle_ms: int):
        super().__init__(window)
        self.window, self.ctx = window, ctx
        self.dialog: LoginDialog | None = None
        self.stopped = False
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(idle_ms)
        self.timer.timeout.connect(self.lock)
        QApplication.instance().installEventFilter(self)
        window.destroyed.connect(self._detach)
        QApplication.instance().aboutToQuit.connect(self.stop)
        self.action = self._add_menu_item(window)
        self.timer.start()

    def _add_menu_item(self, window: QMainWindow) -> QAction:
        """系统 → 锁定窗口 (Ctrl+L), just above 退出: a clerk who steps away locks at once
        rather than leaving the page on screen until the idle time is up."""
        act = QAction(self.tr("锁定窗口(&K)"), window)
        act.setObjectName("action_lock")
        act.setShortcut(QKeySequence("Ctrl+L"))
        act.triggered.connect(lambda _=False: self.lock())
        window.system_menu.insertAction(window.system_menu.actions()[-1], act)  # 退出 last
        return act

    def _detach(self, *_a) -> None:
        """The window is gone: stop watching the keyboard for it."""
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)

    def stop(self) -> None:
        """No more locking (the app is closing, the store with it)."""
        self.stopped = True
        self.timer.stop()
        self._detach()

    @property
    def locked(self) -> bool:
        return self.dialog is not None

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt name)
        if event.type() in _ACTIVITY and not self.locked:
            try:
                self.timer.start()
            except RuntimeError:  # torn down with the window (the filter outlived it)
                QApplication.instance().removeEventFilter(self)
        return False

    def lock(self) -> None:
        """Hide the pages and ask for a password (the operator's, or another's)."""
        if self.locked or self.stopped:
            return
        self.window.centralWidget().setVisible(False)
        d = LoginDialog(self.ctx.store, username=self.ctx.actor.username, parent=self.window)
        d.setWindowTitle(self.tr("窗口已锁定 — 请输入密码继续"))
        d.accepted.connect(self._unlocked)
        d.rejected.connect(self._stay_locked)
        self.dialog = d
        d.open()

    def _stay_locked(self) -> None:
        self.dialog = None
        self.lock()  # no way around it but a password

    def _unlocked(self) -> None:
        actor = self.dialog.actor
        self.dialog = None
        if actor is not None and actor.operator_id != self.ctx.actor.operator_id:
            self.ctx.actor = actor  # another operator took over the window
            self.window.refresh_header()
        self.window.centralWidget().setVisible(True)
        self.timer.start()


def idle_ms_from_settings(store) -> int:
    from desktop.services.settings import (
        get_settings,
    )  # deferred: read once the window is up (cold start)

    return int(get_settings(store).idle_minutes) * 60_000
