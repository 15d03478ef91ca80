"""Application start-up: QApplication in Chinese with the bundled font, the store, first-run
set-up or log-in, then the main window. Also the ``--screenshots`` mode."""

from __future__ import annotations

import gc
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QLibraryInfo, QLocale, QObject, Qt, QTimer, QTranslator
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QDialog,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
)

from desktop import paths
from desktop.gui.events import Events
from desktop.gui.tasks import TaskRunner
from desktop.services.context import Actor

if TYPE_CHECKING:  # the store is only handed through to the services
    from desktop.store import Store

log = logging.getLogger(__name__)
FONT_POINT_SIZE = 11  # screens.md: default font at least 11 pt


@dataclass
class AppContext:
    """What every page gets: the store, who is logged in, the task runner and the signals."""

    store: Store
    actor: Actor
    data_dir: Path
    tasks: TaskRunner
    events: Events
    service_point: dict | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    def on_close(self) -> None:
        self.tasks.shutdown()


_translators: list[QTranslator] = []


def create_qapplication(argv: list[str] | None = None) -> QApplication:
    """The QApplication (reused if one exists), with Qt's zh_CN translations and the
    bundled CJK font as the default so screens render on a PC without Chinese fonts."""
    app = QApplication.instance() or QApplication(argv or ["township-desk"])
    app.setApplicationName("乡镇医保服务窗口")
    app.setOrganizationName(paths.APP_AUTHOR)
    QLocale.setDefault(QLocale(QLocale.Language.Chinese, QLocale.Country.China))
    if not _translators:
        qt_tr = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
        for name in ("qtbase_zh_CN", "qt_zh_CN"):
            tr = QTranslator()
            if tr.load(name, qt_tr) or tr.load(name, str(paths.resource("translations"))):
                app.installTranslator(tr)
                _translators.append(tr)
    family = register_font()
    font = QFont(family) if family else QFont(app.font())
    font.setPointSize(FONT_POINT_SIZE)
    app.setFont(font)
    if not any(isinstance(c, GuiThreadGarbageCollector) for c in app.children()):
        GuiThreadGarbageCollector(app)
    if not any(isinstance(c, AltIsNotText) for c in app.children()):
        AltIsNotText(app)
    return app


class AltIsNotText(QObject):
    """Alt+letter is a key (a menu, a button's mnemonic), never text. With no shortcut on it
    — a button that is disabled just now, a mistyped Alt — a text box took the letter: Alt+S
    on 同步 with 立即同步 greyed out typed "s" into the server address (seen on the real
    screen). AltGr (Ctrl+Alt on Windows) still types what it types."""

    TEXT_BOXES = (QLineEdit, QAbstractSpinBox, QTextEdit, QPlainTextEdit)

    def __init__(self, app: QApplication):
        super().__init__(app)
        # a text box gets keys only with the focus: it is watched from its first focus on
        # (not every event of the application through Python, which would cost every paint)
        app.focusChanged.connect(self._focused)

    def _focused(self, _old, new) -> None:
        if isinstance(new, self.TEXT_BOXES):
            new.installEventFilter(self)  # once: Qt does not install the same filter twice

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt name)
        if event.type() != QEvent.Type.KeyPress:
            return False
        alone = event.modifiers() & ~Qt.KeyboardModifier.ShiftModifier
        return (
            alone == Qt.KeyboardModifier.AltModifier
            and Qt.Key.Key_A <= event.key() <= Qt.Key.Key_Z
            and isinstance(watched, self.TEXT_BOXES)
        )


class GuiThreadGarbageCollector(QObject):
    """Cyclic garbage is collected on the GUI thread only (as Anki does). Python's automatic
    collection runs on whichever thread happens to allocate; on a store worker it could destroy
    a widget caught in a reference cycle there, which crashes Qt."""

    INTERVAL_MS = 500

    def __init__(self, parent: QObject):
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(self.INTERVAL_MS)

    def check(self) -> None:
        count0, count1, count2 = gc.get_count()
        if count0 > self.threshold[0]:
            gc.collect(0)
            if count1 > self.threshold[1]:
                gc.collect(1)
                if count2 > self.threshold[2]:
                    gc.collect(2)


_font_family: str | None = None


def register_font() -> str | None:
    global _font_family
    if _font_family is None:
        fid = QFontDatabase.addApplicationFont(str(paths.font_path()))
        families = QFontDatabase.applicationFontFamilies(fid) if fid >= 0 else []
        if not families:
            log.warning("bundled font %s could not be registered", paths.font_path())
            return None
        _font_family = families[0]
    return _font_family


def make_context(store: Store, actor: Actor, data_dir: Path) -> AppContext:
    from desktop.services.setup import (
        service_point,
    )  # deferred: loaded after the first window is on screen (cold start)

    return AppContext(
        store=store,
        actor=actor,
        data_dir=Path(data_dir),
        tasks=TaskRunner(),
        events=Events(),
        service_point=service_point(store),
    )


def obtain_actor(store: Store, *, demo: bool) -> Actor | None:
    """First run → set-up wizard; otherwise the log-in dialog. None if the clerk cancels."""
    from desktop.services.setup import (
        needs_setup,
    )  # deferred: loaded after the first window is on screen (cold start)

    if needs_setup(store):
        from desktop.gui.setup_wizard import (
            SetupWizard,
        )  # deferred: loaded after the first window is on screen (cold start)

        wizard = SetupWizard(store)
        if wizard.exec() != QDialog.DialogCode.Accepted.value and wizard.actor is None:
            return None
        return wizard.actor
    from desktop.gui.login import (
        LoginDialog,
    )  # deferred: loaded after the first window is on screen (cold start)
    from desktop.services.auth import (
        last_login_username,
    )  # deferred: loaded after the first window is on screen (cold start)

    # whoever logged in last at this desk (a clerk, usually), cursor in the password box;
    # on a new desk the box is empty and the cursor is in the user name
    dialog = LoginDialog(store, username=last_login_username(store))
    if dialog.exec() != QDialog.DialogCode.Accepted.value:
        return None
    return dialog.actor


def run_gui(store: Store, data_dir: Path, *, demo: bool = False, one_window=None) -> int:
    """The log-in, then the main window until the clerk quits. ``one_window`` (the data
    folder's single-window lock, :mod:`desktop.gui.one_window`) is let go at the end."""
    from desktop.gui.main_window import (
        MainWindow,
    )  # deferred: loaded after the first window is on screen (cold start)

    app = create_qapplication()
    actor = obtain_actor(store, demo=demo)
    if actor is None:
        return 0
    ctx = make_context(store, actor, data_dir)
    window = MainWindow(ctx)
    window.showMaximized()  # the whole screen less the taskbar (1366×768 PCs: ~728 px high)
    from desktop.gui.operations import (
        DailyBackup,
    )  # deferred: loaded after the first window is on screen (cold start)

    window.daily_backup = DailyBackup(ctx, window)  # today's automatic backup, then hourly
    window.daily_backup.start()
    from desktop.gui.idle_lock import (
        IdleLock,
        idle_ms_from_settings,
    )  # deferred: loaded after the first window is on screen (cold start)

    window.idle_lock = IdleLock(window, ctx, idle_ms=idle_ms_from_settings(store))
    code = app.exec()
    if one_window is not None:
        one_window.release()
    if window.disabled_for_good:  # the county disabled this PC: the store file goes too
        from desktop.services import wipe  # deferred: only a disabled PC needs it

        store.close()
        wipe.finish(data_dir)
    return code


def save_screenshots(store: Store, actor: Actor, data_dir: Path, out_dir: Path) -> list[Path]:
    """Render every page of the main window (with whatever the store holds) to PNG."""
    from desktop.gui.main_window import (
        MainWindow,
    )  # deferred: loaded after the first window is on screen (cold start)
    from desktop.gui.pages import (
        PAGES,
    )  # deferred: loaded after the first window is on screen (cold start)

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = create_qapplication()
    out_dir.mkdir(parents=True, exist_ok=True)
    ctx = make_context(store, actor, data_dir)
    window = MainWindow(ctx)
    window.resize(1366, 768)
    window.show()
    # a resident who has paid, so the person pages show a filled-in example
    # screenshots only: not imported at start-up (the log-in needs no registration code)
    from desktop.services import registration

    row = registration.example_person(store)
    written: list[Path] = []
    for i, spec in enumerate(PAGES, start=1):
        page = window.show_page(spec.key)
        prepare = getattr(page, "prepare_screenshot", None)
        open_item = getattr(page, "open_item", None)
        if callable(prepare):
            prepare()
        elif row and spec.key in ("contribution", "estimate") and callable(open_item):
            open_item(row["id"])
        _settle(app, ctx)
        path = out_dir / f"{i:02d}-{spec.key}.png"
        window.grab().save(str(path))
        written.append(path)
    window.close()
    return written


def _settle(app: QApplication, ctx: AppContext, timeout_s: float = 10.0) -> None:
    """Process events until background store work is done (for screenshots and tests)."""
    import time  # deferred: loaded after the first window is on screen (cold start)

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        app.processEvents()
        if ctx.tasks.idle:
            app.processEvents()
            break
        time.sleep(0.01)
    for _ in range(5):
        app.processEvents()
