"""One window per data folder. A clerk who starts the desk again — a second double-click
while a slow PC is still opening it, or the icon clicked because the window is behind
another — gets the window already open, brought to the front, not a second copy of the
program on the same records (two idle locks, two daily backups, two sync timers).

An OS file lock on ``window.lock`` in the data folder says a window is open
(:mod:`desktop.services.window`: the operating system lets it go when the program ends, a
power cut included, and commands such as restoring a backup ask for it too); Qt's
``QLocalServer``, named after the folder, lets a second start ask the first to show
itself."""

from __future__ import annotations

import ctypes
import hashlib
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QProcess, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox

from desktop.services import window

if TYPE_CHECKING:
    from PySide6.QtNetwork import QLocalServer

    from desktop.store.folderlock import FolderLock

log = logging.getLogger(__name__)

SHOW = b"show\n"


def server_name(data_dir: Path) -> str:
    """A name for the folder (a pipe on Windows, a socket in /tmp elsewhere): two data
    folders on one PC are two desks, each with its own window."""
    digest = hashlib.sha256(str(Path(data_dir).resolve()).lower().encode()).hexdigest()
    return "township-desk-" + digest[:24]


class OneWindow(QObject):
    """``claim()`` once at start: True → this is the window (others that start ask it to
    show itself: ``asked``); False → one is open already (``wake_other()``, then stop)."""

    asked = Signal()

    def __init__(self, data_dir: Path, parent: QObject | None = None):
        super().__init__(parent)
        self.data_dir = Path(data_dir)
        self.name = server_name(self.data_dir)
        self.lock: FolderLock | None = None
        self.server: QLocalServer | None = None

    def claim(self) -> bool:
        try:
            lock = window.take_window(self.data_dir)
        except OSError:  # the folder is read-only or the like: the clerk still gets a window
            log.warning("single-window lock not taken", exc_info=True)
            return True
        if lock is None:
            return False
        self.lock = lock
        global _held
        _held = self
        QTimer.singleShot(0, self._listen)  # once the first window is up (cold start)
        return True

    def _listen(self) -> None:
        from PySide6.QtNetwork import (
            QLocalServer,
        )  # deferred: loaded after the first window is on screen (cold start)

        if self.lock is None:
            return
        self.server = QLocalServer(self)
        QLocalServer.removeServer(self.name)  # a socket file left by a power cut
        if not self.server.listen(self.name):
            log.warning("another start cannot reach this window: %s", self.server.errorString())
        self.server.newConnection.connect(self._connected)

    def _connected(self) -> None:
        # the other start writes as soon as it is connected: a moment's wait, on the rare
        # occasion someone starts the desk again, keeps each socket's life in this call
        while self.server is not None and self.server.hasPendingConnections():
            sock = self.server.nextPendingConnection()
            came = sock.bytesAvailable() > 0 or sock.waitForReadyRead(500)
            if came and bytes(sock.readAll().data()).startswith(SHOW.strip()):
                log.info("the desk was started again: the open window comes to the front")
                self.asked.emit()
            sock.abort()
            sock.deleteLater()

    def wake_other(self, timeout_ms: int = 2000) -> bool:
        """Ask the open window to come to the front; False when it does not answer."""
        if sys.platform == "win32":  # pragma: no cover - Windows only
            # this start is the clerk's foreground process: it may hand the foreground on
            ctypes.windll.user32.AllowSetForegroundWindow(-1)  # ASFW_ANY
        from PySide6.QtNetwork import QLocalSocket  # deferred: only a second start needs it

        sock = QLocalSocket()
        sock.connectToServer(self.name)
        if not sock.waitForConnected(timeout_ms):
            return False
        sock.write(SHOW)
        ok = sock.waitForBytesWritten(timeout_ms)
        sock.disconnectFromServer()
        return ok

    def release(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server.deleteLater()
            self.server = None
        if self.lock is not None:
            self.lock.release()
            self.lock = None
        global _held
        if _held is self:
            _held = None


_held: OneWindow | None = None


def restartable() -> bool:
    """Only the installed program can start itself again (a copy run from source cannot)."""
    return bool(getattr(sys, "frozen", False))


def start_again() -> None:
    """Start the program anew (its starter installs a staged update); this window, which is
    closing, lets the folder go first — or the new program would find it open and stop."""
    if _held is not None:
        _held.release()
    QProcess.startDetached(sys.executable, sys.argv[1:])


def bring_to_front() -> None:
    """The dialog in front (log-in, the idle lock) or else the main window: shown,
    restored from the taskbar, raised and given the keyboard."""
    shown = [t for t in QApplication.topLevelWidgets() if t.isVisible()]
    w = (
        QApplication.activeModalWidget()
        or next((t for t in shown if isinstance(t, QMainWindow)), None)
        or (shown[0] if shown else None)
    )
    if w is None:
        return
    w.setWindowState(w.windowState() & ~Qt.WindowState.WindowMinimized)
    w.show()
    w.raise_()
    w.activateWindow()


def tell_already_open() -> None:
    """The open window did not answer (still starting, or busy): say where it is."""
    QMessageBox.information(
        None,
        "乡镇医保服务窗口",
        "本机的医保服务窗口已经打开了，请在屏幕下方的任务栏上点它。\n"
        "（如果刚刚打开，请稍等片刻。）",
    )
