"""Small presentation helpers shared by the pages: labelled inputs with an error line
beside them, Chinese error boxes, amount labels."""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QObject, QPointF, QRect, QRectF, Qt, QTimer
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QIcon,
    QKeySequence,
    QPainter,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

log = logging.getLogger(__name__)

ERROR_STYLE = "color: #b00020;"
OK_STYLE = "color: #1b5e20;"
WARN_STYLE = "color: #8a5a00;"


class FieldMessage(QLabel):
    """The message beside a field. A message that wraps onto a second line makes its row
    taller (a grid row otherwise keeps the input's height and cuts the top of each line)."""

    def __init__(self, field: str):
        super().__init__("")
        self.setStyleSheet(ERROR_STYLE)
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.setObjectName(f"error_{field}")
        # as wide as its column lets it (FieldForm keeps that room), never wider: a message
        # that appears does not squeeze the box beside it
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt name)
        super().setText(text)
        self._fit()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self._fit()

    def needed_height(self, width: int) -> int:
        if not self.text():
            return 0
        rect = QFontMetrics(self.font()).boundingRect(
            QRect(0, 0, max(width, 40), 10_000), int(Qt.TextFlag.TextWordWrap), self.text()
        )
        return rect.height() + 4

    def _fit(self) -> None:
        need = self.needed_height(self.width())
        if need != self.minimumHeight():
            self.setMinimumHeight(need)


class Note(QLabel):
    """A line of text that takes no room while it says nothing (pages must fit 728 px)."""

    def __init__(self, text: str = "", parent: QWidget | None = None):
        super().__init__(text, parent)
        self.setWordWrap(True)
        self.setVisible(bool(text))

    def setText(self, text: str) -> None:  # noqa: N802 (Qt name)
        super().setText(text)
        self.setVisible(bool(text))


def _changed_signal(widget: QWidget):
    """The signal that says the clerk changed ``widget`` (None for other widgets)."""
    if isinstance(widget, QLineEdit):
        return widget.textEdited
    if isinstance(widget, QComboBox):
        return widget.currentIndexChanged
    if isinstance(widget, QDateEdit):
        return widget.dateChanged
    if isinstance(widget, QPlainTextEdit):
        return widget.textChanged
    if isinstance(widget, QAbstractButton):
        return widget.toggled
    return None


class FieldForm:
    """A grid of ``label | input | error`` rows. ``show_errors`` puts each Chinese message
    beside its field (in words, not colour alone) and focuses the first wrong field."""

    # The message column keeps room for this many characters even when empty: a message
    # then wraps onto a line or two instead of five in a sliver beside a wide box, and the
    # boxes do not jump narrower when the first message appears.
    MESSAGE_CHARS = 12

    def __init__(self, grid: QGridLayout | None = None):
        self.grid = grid or QGridLayout()
        width = QFontMetrics(QApplication.font()).horizontalAdvance("字" * self.MESSAGE_CHARS)
        self.grid.setColumnMinimumWidth(2, width)
        self.inputs: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        self._row = 0
        self._base_height: int | None = None  # the dialog's height before any message

    def add(self, field: str, label: str, widget: QWidget) -> QWidget:
        lab = QLabel(label)
        lab.setBuddy(widget)
        err = FieldMessage(field)
        signal = _changed_signal(widget)
        if signal is not None:  # a message goes once the clerk corrects the field
            signal.connect(lambda *_a, e=err: e.setText(""))
        self.grid.addWidget(lab, self._row, 0, Qt.AlignmentFlag.AlignRight)
        self.grid.addWidget(widget, self._row, 1)
        self.grid.addWidget(err, self._row, 2)
        self.inputs[field] = widget
        self.errors[field] = err
        self._row += 1
        return widget

    def clear_errors(self) -> None:
        for lab in self.errors.values():
            lab.setText("")

    def shrink(self) -> None:
        """Other rows shown (a dialog that changes its rows): the dialog takes the height
        they need, where it kept the tallest it had been, with a gap above its buttons."""
        self._base_height = None
        win = self._dialog()
        if win is not None and win.layout() is not None:
            win.layout().activate()
            win.resize(win.width(), 1)  # the layout's minimum: just what is shown

    def show_errors(self, errors: dict[str, str]) -> list[str]:
        """Show messages beside their fields; returns the messages with no field here."""
        win = self._dialog()
        if self._base_height is None and win is not None:
            self._base_height = win.height()  # before a message makes the dialog taller
        self.clear_errors()
        unplaced: list[str] = []
        first: QWidget | None = None
        for field, msg in errors.items():
            if field in self.errors:
                self.errors[field].setText("✗ " + msg)
                if first is None:
                    first = self.inputs[field]
            else:
                unplaced.append(msg)
        if first is not None:
            first.setFocus()
        self._fit_dialog()
        return unplaced

    def _fit_dialog(self) -> None:
        """A message wrapped onto two lines needs more height: a dialog grows to show it
        whole (pages get their height from the main window's layout). Counted at once, then
        again once the columns have their widths: at first a new message counts at its
        narrowest (a wrapped label's height at a few pixels' width), which made the log-in
        box ~80 px too tall with the gap spread between its lines. The dialog then takes the
        settled height, never less than it had before its first message."""
        win = self._dialog()
        if win is None or win.layout() is None:
            return
        self._fit_height(win)
        QTimer.singleShot(0, win, lambda: self._fit_height(win))

    def _dialog(self) -> QDialog | None:
        """The dialog this form is on, when it is showing (None on a page)."""
        parent = self.grid.parentWidget()
        win = parent.window() if parent is not None else None
        return win if isinstance(win, QDialog) and win.isVisible() else None

    def _fit_height(self, win: QDialog) -> None:
        if not win.isVisible():
            return
        win.layout().activate()
        need = max(
            self._base_height or 0,
            win.heightForWidth(win.width()) if win.hasHeightForWidth() else win.sizeHint().height(),
        )
        if need != win.height():
            win.resize(win.width(), need)

    def error_text(self, field: str) -> str:
        return self.errors[field].text()


def describe_error(exc: BaseException) -> tuple[str, str]:
    """(short code, Chinese message) for an exception shown to the clerk; the codes and
    messages live in :mod:`desktop.logging_setup` (E-INPUT-001, E-DISK-001, E-STORE-002 …)."""
    from desktop.logging_setup import (
        classify,
    )  # deferred: logging_setup imports the error catalogue (cold start)

    info = classify(exc)
    return info.code, info.message


def show_error(parent: QWidget | None, exc: BaseException, title: str = "") -> None:
    """A box with the Chinese message and its code; details (traceback) go to the log."""
    from desktop.logging_setup import (
        report_error,
    )  # deferred: logging_setup imports the error catalogue (cold start)

    _code, msg = report_error(exc, title)
    QMessageBox.warning(parent, title or "提示", msg)


def keep_on_screen(window: QWidget) -> None:
    """Move a window that grew past the screen's edge back inside it, as far as it fits:
    a dialog that grows downward when its preview appears keeps its buttons in sight."""
    screen = window.screen()
    if screen is None or not window.isVisible():
        return
    avail, frame = screen.availableGeometry(), window.frameGeometry()
    dx = min(0, avail.right() - frame.right())
    dy = min(0, avail.bottom() - frame.bottom())
    if dx or dy:
        window.move(max(avail.left(), frame.left() + dx), max(avail.top(), frame.top() + dy))


def fit_columns(table) -> None:
    """Columns as wide as their text, the last one taking what is left, and no sideways
    scroll bar (a clerk at 1366×768 should never scroll a result list sideways)."""
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    header.setSectionResizeMode(table.columnCount() - 1, QHeaderView.ResizeMode.Stretch)
    header.setMinimumSectionSize(36)
    table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    table.setWordWrap(False)
    table.setTextElideMode(Qt.TextElideMode.ElideRight)


class _PageKeysFirst(QObject):
    """Lets a page's own shortcut keys past its line edits. Under X11 a line edit claims
    Ctrl+E (end of line, as in Emacs) for itself before any shortcut sees it, so 家庭变更
    (Ctrl+E) did nothing while the cursor was in a field; Windows binds no such key."""

    def __init__(self, parent: QWidget, keys: list[str]):
        super().__init__(parent)
        self.keys = {QKeySequence(k).toString() for k in keys}

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.ShortcutOverride:
            # left unaccepted, the key goes on to the page's shortcut
            return QKeySequence(event.keyCombination()).toString() in self.keys
        return False


def page_keys_first(page: QWidget, keys: list[str]) -> None:
    """The page's shortcut ``keys`` work with the cursor in any of its line edits."""
    keys_first = _PageKeysFirst(page, keys)
    for edit in page.findChildren(QLineEdit):
        edit.installEventFilter(keys_first)


def heading(text: str) -> QLabel:
    lab = QLabel(text)
    f = QFont(lab.font())
    f.setPointSizeF(f.pointSizeF() * 1.3)
    f.setBold(True)
    lab.setFont(f)
    return lab


class ConfirmDialog(QDialog):
    """A yes/no question that a quick second Enter cannot answer unseen: the confirm button
    (the default) becomes active only ``ARM_MS`` after the dialog is shown; Esc cancels."""

    ARM_MS = 600

    def __init__(self, parent: QWidget | None, title: str, text: str, yes: str = "确认"):
        super().__init__(parent)
        self.setWindowTitle(title)
        lay = QVBoxLayout(self)
        label = QLabel(text)
        label.setWordWrap(True)
        lay.addWidget(label)
        self.buttons = QDialogButtonBox()
        self.yes = self.buttons.addButton(yes, QDialogButtonBox.ButtonRole.AcceptRole)
        self.no = self.buttons.addButton("取消", QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        for b in (self.yes, self.no):
            b.setAutoDefault(False)  # a focused 取消 must not take the Enter meant for 确认
        self.no.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Esc cancels
        self.yes.setEnabled(False)
        self.yes.setDefault(True)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        QTimer.singleShot(self.ARM_MS, self._arm)

    def _arm(self) -> None:
        self.yes.setEnabled(True)
        self.yes.setDefault(True)
        self.yes.setFocus()


def ask_go_ahead(
    parent: QWidget | None, title: str, text: str, go: str, back: str, *, warning: bool = False
) -> bool:
    """A question whose safe answer (``back``: keep the typing, go back and check) is the
    default for Enter and Esc; True only when the clerk chooses ``go``."""
    icon = QMessageBox.Icon.Warning if warning else QMessageBox.Icon.Question
    box = QMessageBox(icon, title, text, parent=parent)
    go_btn = box.addButton(go, QMessageBox.ButtonRole.DestructiveRole)
    back_btn = box.addButton(back, QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(back_btn)
    box.setEscapeButton(back_btn)
    box.exec()
    return box.clickedButton() is go_btn


def printer_icon() -> QIcon:
    """A printer for the 打印 page: Qt's styles have no printer among their standard icons
    (the nearest, a floppy disk, reads as 保存), so it is drawn, in the style's grey."""
    icon = QIcon()
    for size in (16, 20, 24, 32, 48):
        pm = QPixmap(size, size)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.scale(size / 32, size / 32)
        p.setPen(QPen(QColor("#3c4650"), 2))
        p.setBrush(QColor("#ffffff"))
        p.drawRect(QRectF(9, 3, 14, 9))  # the paper going in
        p.setBrush(QColor("#8a96a3"))
        p.drawRoundedRect(QRectF(3, 11, 26, 12), 2, 2)  # the body
        p.setBrush(QColor("#ffffff"))
        p.drawRect(QRectF(9, 18, 14, 11))  # the printed sheet
        p.setPen(QPen(QColor("#3c4650"), 1.5))
        for y in (22, 25):
            p.drawLine(QPointF(12, y), QPointF(20, y))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor("#3ec46d"))
        p.drawEllipse(QPointF(25, 15), 1.5, 1.5)  # the power light
        p.end()
        icon.addPixmap(pm)
    return icon
