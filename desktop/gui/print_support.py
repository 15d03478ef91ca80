"""Preview and print PDFs from any page.

* :func:`print_pdf` — preview any PDF bytes with 打印… (``QPrintDialog`` to choose the
  printer), 另存为PDF… and 关闭; optional callbacks report what happened.
* :func:`print_document` — the Print button for a document the receipts service knows
  (receipt, certificate, estimate, day sheet): prepares the next copy off the GUI thread,
  previews it, and records the outcome through the service — printed only when the printer
  took the job, a failure as a failure, a saved PDF as a saved copy.

PDF pages are rasterised with pdfium (``pypdfium2``; Qt's own PDF module is only in the large
PySide6-Addons wheel). Printing paints each page image onto the ``QPrinter`` at up to 300 dpi;
when the chosen "printer" is Qt's PDF file output, the original vector PDF is written instead.
Batches (more than :data:`BACKGROUND_PAGES` pages) print on a background thread with progress
and 取消 (``QPainter`` may paint on a ``QPrinter`` outside the GUI thread).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pypdfium2 as pdfium
from PySide6.QtCore import QMarginsF, QRectF, QSizeF, QStandardPaths, Qt
from PySide6.QtGui import QImage, QKeySequence, QPageLayout, QPageSize, QPainter, QPixmap, QShortcut
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop.gui.pages.base import run_change, run_query
from desktop.gui.widgets import show_error

log = logging.getLogger(__name__)

MAX_PRINT_DPI = 300
PREVIEW_DPI = 96
BACKGROUND_PAGES = 3


class PrinterError(Exception):
    """The printer did not take the job (message in Chinese, for the clerk)."""


class PrintCancelled(Exception):
    """The clerk cancelled a batch while it printed."""


# --------------------------------------------------------------------------- rendering


def page_count(pdf: bytes) -> int:
    doc = pdfium.PdfDocument(pdf)
    try:
        return len(doc)
    finally:
        doc.close()


def page_images(pdf: bytes, dpi: float = PREVIEW_DPI, *, first: int = 0, last: int | None = None):
    """QImages of the pages ``first``..``last`` (inclusive) at ``dpi``."""
    doc = pdfium.PdfDocument(pdf)
    try:
        n = len(doc)
        last = n - 1 if last is None else min(last, n - 1)
        return [_render(doc[i], dpi) for i in range(first, last + 1)]
    finally:
        doc.close()


def _render(page, dpi: float) -> QImage:
    bitmap = page.render(scale=dpi / 72.0, rev_byteorder=True)  # RGB byte order
    img = QImage(
        bitmap.buffer, bitmap.width, bitmap.height, bitmap.stride, QImage.Format.Format_RGB888
    ).copy()  # own the pixels before pdfium frees the bitmap
    page.close()
    return img


def _page_size_of(doc) -> QPageSize:
    w, h = doc[0].get_size()  # points
    for pid in (QPageSize.PageSizeId.A4, QPageSize.PageSizeId.A5):
        ref = QPageSize(pid).size(QPageSize.Unit.Point)
        if abs(ref.width() - w) < 2 and abs(ref.height() - h) < 2:
            return QPageSize(pid)
    return QPageSize(QSizeF(w, h), QPageSize.Unit.Point)


def print_to_printer(
    pdf: bytes,
    printer: QPrinter,
    *,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    raster: bool = False,
) -> str:
    """Print every page of ``pdf`` on ``printer``; returns a name for the print log.
    Raises :class:`PrinterError` (Chinese) when the printer does not take the job, and
    :class:`PrintCancelled` when ``cancelled()`` turned True (the job is aborted)."""
    target = printer.outputFileName()
    if printer.outputFormat() == QPrinter.OutputFormat.PdfFormat and target and not raster:
        try:
            Path(target).write_bytes(pdf)
        except OSError as e:
            raise PrinterError(f"无法写入PDF文件 {target}：{e.strerror or e}") from e
        if progress:
            progress(1, 1)
        return f"PDF文件 {target}"
    doc = pdfium.PdfDocument(pdf)
    try:
        n = len(doc)
        printer.setPageLayout(
            QPageLayout(
                _page_size_of(doc),
                QPageLayout.Orientation.Portrait,
                QMarginsF(0, 0, 0, 0),
            )
        )
        printer.setFullPage(True)
        name = printer.printerName() or target or "默认打印机"
        painter = QPainter()
        if not painter.begin(printer):
            raise PrinterError(
                f"无法连接打印机“{name}”。请检查打印机是否开机、联机、有纸，然后重新打印。"
            )
        try:
            dpi = min(max(printer.resolution(), 72), MAX_PRINT_DPI)
            for i in range(n):
                if cancelled is not None and cancelled():
                    printer.abort()
                    raise PrintCancelled()
                if i and not printer.newPage():
                    raise PrinterError(f"打印机“{name}”在第{i + 1}页出错，请检查打印机后重新打印。")
                img = _render(doc[i], dpi)
                area = QRectF(painter.viewport())
                scale = min(area.width() / img.width(), area.height() / img.height())
                w, h = img.width() * scale, img.height() * scale
                painter.drawImage(QRectF(area.x() + (area.width() - w) / 2, area.y(), w, h), img)
                if progress:
                    progress(i + 1, n)
        finally:
            ok = painter.end()
        if not ok or printer.printerState() == QPrinter.PrinterState.Error:
            raise PrinterError(f"打印机“{name}”报告错误，单据可能没有打印出来，请检查后重新打印。")
        return name
    finally:
        doc.close()


# --------------------------------------------------------------------------- preview


class PreviewDialog(QDialog):
    """Pages of a PDF with 打印… / 另存为PDF… / 关闭. The work is done by the callbacks:
    ``do_print(printer)`` and ``do_save(path)``; tests replace :meth:`choose_printer` and
    :meth:`choose_save_path` (the two native dialogs)."""

    def __init__(
        self,
        parent: QWidget | None,
        pdf: bytes,
        *,
        title: str,
        filename: str = "单据.pdf",
        printer_name: str = "",
        do_print: Callable[[QPrinter], None] | None = None,
        do_save: Callable[[Path], None] | None = None,
        note: str = "",
    ):
        super().__init__(parent)
        self.pdf = pdf
        self.filename = filename
        self.printer_name = printer_name
        self._do_print = do_print or (lambda printer: print_to_printer(self.pdf, printer))
        self._do_save = do_save or (lambda path: Path(path).write_bytes(self.pdf))
        self.setWindowTitle(self.tr("打印预览 — %1").replace("%1", title))
        self.resize(760, 700)
        lay = QVBoxLayout(self)
        self.info = QLabel(note)
        self.info.setWordWrap(True)
        lay.addWidget(self.info)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        holder = QWidget()
        self.pages_layout = QVBoxLayout(holder)
        self.pages_layout.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.scroll.setWidget(holder)
        lay.addWidget(self.scroll, 1)
        self.n_pages = page_count(pdf)
        shown = min(self.n_pages, 20)  # a long batch previews its first pages
        ratio = self.devicePixelRatioF() or 1.0
        for img in page_images(pdf, PREVIEW_DPI * ratio, last=shown - 1):
            pm = QPixmap.fromImage(img)
            pm.setDevicePixelRatio(ratio)
            lab = QLabel()
            lab.setPixmap(pm)
            lab.setStyleSheet("background: white; border: 1px solid #999;")
            self.pages_layout.addWidget(lab)
        if shown < self.n_pages:
            self.pages_layout.addWidget(
                QLabel(
                    self.tr("（预览显示前 %1 页，共 %2 页；打印时全部打印）")
                    .replace("%1", str(shown))
                    .replace("%2", str(self.n_pages))
                )
            )
        # wide enough for the whole page (an A4 page at 96 dpi is 794 px), within the screen
        page_w = max((round(pm.width() / ratio) for pm in self._page_pixmaps()), default=0)
        avail = self.screen().availableGeometry()
        self.resize(min(max(760, page_w + 80), avail.width()), min(self.height(), avail.height()))
        row = QHBoxLayout()
        self.pages_label = QLabel(self.tr("共 %1 页").replace("%1", str(self.n_pages)))
        row.addWidget(self.pages_label)
        row.addStretch(1)
        self.print_button = QPushButton(self.tr("打印(&P)…"))
        self.save_button = QPushButton(self.tr("另存为PDF(&S)…"))
        self.close_button = QPushButton(self.tr("关闭"))
        for b in (self.print_button, self.save_button, self.close_button):
            row.addWidget(b)
        lay.addLayout(row)
        self.print_button.setDefault(True)
        self.print_button.clicked.connect(self.on_print)
        self.save_button.clicked.connect(self.on_save)
        self.close_button.clicked.connect(self.reject)
        QShortcut(QKeySequence.StandardKey.Print, self, activated=self.on_print)
        QShortcut(QKeySequence.StandardKey.Save, self, activated=self.on_save)

    def _page_pixmaps(self) -> list[QPixmap]:
        out = []
        for i in range(self.pages_layout.count()):
            w = self.pages_layout.itemAt(i).widget()
            if isinstance(w, QLabel) and w.pixmap() is not None and not w.pixmap().isNull():
                out.append(w.pixmap())
        return out

    def choose_printer(self) -> QPrinter | None:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        if self.printer_name:
            printer.setPrinterName(self.printer_name)
        dlg = QPrintDialog(printer, self)
        dlg.setWindowTitle(self.tr("选择打印机"))
        return printer if dlg.exec() == QDialog.DialogCode.Accepted else None

    def choose_save_path(self) -> Path | None:
        # the clerk's 文档 folder (not the program folder), with a name she recognises
        folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        start = str(Path(folder) / self.filename) if folder else self.filename
        path, _ = QFileDialog.getSaveFileName(
            self, self.tr("另存为PDF"), start, self.tr("PDF 文件 (*.pdf)")
        )
        return Path(path) if path else None

    def on_print(self) -> None:
        printer = self.choose_printer()
        if printer is not None:
            self._do_print(printer)

    def on_save(self) -> None:
        path = self.choose_save_path()
        if path is not None:
            if path.suffix.lower() != ".pdf":
                path = path.with_suffix(".pdf")
            self._do_save(path)


def print_pdf(
    parent: QWidget | None,
    pdf: bytes,
    *,
    title: str = "单据",
    filename: str = "单据.pdf",
    printer_name: str = "",
    on_printed: Callable[[str], None] | None = None,
    on_failed: Callable[[str], None] | None = None,
    on_saved: Callable[[Path], None] | None = None,
    modal: bool = True,
) -> PreviewDialog:
    """Preview ``pdf`` and let the clerk print it or save it. ``on_printed(printer name)``
    runs only when the printer took the job; ``on_failed(message)`` when it did not."""
    dlg: PreviewDialog

    def do_print(printer: QPrinter) -> None:
        try:
            name = print_to_printer(pdf, printer)
        except PrinterError as e:
            if on_failed:
                on_failed(str(e))
            QMessageBox.warning(dlg, dlg.tr("打印失败"), str(e))
            return
        if on_printed:
            on_printed(name)
        dlg.accept()

    def do_save(path: Path) -> None:
        try:
            path.write_bytes(pdf)
        except OSError as e:
            QMessageBox.warning(dlg, dlg.tr("保存失败"), f"无法保存到 {path}：{e.strerror or e}")
            return
        if on_saved:
            on_saved(path)

    dlg = PreviewDialog(
        parent,
        pdf,
        title=title,
        filename=filename,
        printer_name=printer_name,
        do_print=do_print,
        do_save=do_save,
    )
    if modal:
        dlg.exec()
    else:
        dlg.show()
    return dlg


# --------------------------------------------------------------------------- documents


def print_document(
    parent: QWidget,
    ctx,
    kind: str,
    key: str | list[str],
    *,
    page: str | None = None,
    on_done: Callable[[str], None] | None = None,
    modal: bool = False,
) -> None:
    """The Print button for a document of the receipts service (``key`` a list = a batch,
    prepared in the background with progress and 取消). Shows the preview; the outcome is
    recorded by the service and ``on_done(status)`` is called with printed | failed | saved."""
    from desktop.services import receipts  # deferred: not needed for the first paint (cold start)

    store, actor = ctx.store, ctx.actor
    printer_name = store.setting("print.printer", "") or ""

    def failed(exc: BaseException) -> None:
        from desktop.gui.tasks import (
            Cancelled,
        )  # deferred: not needed for the first paint (cold start)

        if isinstance(exc, Cancelled) or type(exc).__name__ == "RenderCancelled":
            ctx.events.status_message.emit(parent.tr("已取消"))
            return
        show_error(parent, exc, parent.tr("不能打印"))

    def show(prepared) -> None:
        open_preview(parent, ctx, prepared, printer_name=printer_name, on_done=on_done, modal=modal)

    if isinstance(key, list):

        def job_fn(job):
            return receipts.prepare_batch(
                store,
                actor,
                kind,
                key,
                page=page,
                progress=lambda d, t: job.progress(d, t, parent.tr("正在生成单据…")),
                cancelled=lambda: job.cancelled,
            )

        ctx.tasks.run_long(parent, parent.tr("生成单据"), job_fn, show, failed)
    else:
        run_query(ctx, lambda: receipts.prepare(store, actor, kind, key, page=page), show, failed)


def open_preview(
    parent: QWidget,
    ctx,
    prepared,
    *,
    printer_name: str = "",
    on_done: Callable[[str], None] | None = None,
    modal: bool = False,
) -> PreviewDialog:
    """Preview a prepared document (from :mod:`desktop.services.receipts`) and record what
    the clerk does with it."""
    from desktop.services import receipts  # deferred: not needed for the first paint (cold start)

    store, actor = ctx.store, ctx.actor
    dlg: PreviewDialog

    def recorded(status: str, message: str) -> None:
        ctx.events.status_message.emit(message)
        if on_done:
            on_done(status)

    def report_failure(error: str) -> None:
        run_change(
            ctx,
            lambda: receipts.record_failed(store, actor, prepared, printer="", error=error),
            "print",
            lambda _r: recorded("failed", parent.tr("打印失败，未记为已打印")),
            lambda exc: show_error(dlg, exc, dlg.tr("打印失败")),
        )
        QMessageBox.warning(
            dlg,
            dlg.tr("打印失败"),
            f"{error}\n\n" + dlg.tr("单据没有记为已打印，请检查打印机后重新打印。"),
        )

    def do_print(printer: QPrinter) -> None:
        def printed(name: str) -> None:
            run_change(
                ctx,
                lambda: receipts.record_printed(store, actor, prepared, printer=name),
                "print",
                lambda _r: recorded(
                    "printed",
                    parent.tr("已打印 %1").replace("%1", prepared.title)
                    + (f"（{_mark(prepared)}）" if prepared.is_reprint else ""),
                ),
                lambda exc: show_error(parent, exc, parent.tr("打印记录未保存")),
            )
            dlg.accept()

        pages = page_count(prepared.pdf)
        if pages > BACKGROUND_PAGES:

            def job_fn(job):
                return print_to_printer(
                    prepared.pdf,
                    printer,
                    progress=lambda d, t: job.progress(d, t, dlg.tr("正在打印…")),
                    cancelled=lambda: job.cancelled,
                )

            def job_failed(exc: BaseException) -> None:
                if isinstance(exc, PrintCancelled):
                    report_failure(dlg.tr("打印已取消"))
                elif isinstance(exc, PrinterError):
                    report_failure(str(exc))
                else:
                    report_failure(f"{type(exc).__name__}: {exc}")

            ctx.tasks.run_long(dlg, dlg.tr("打印"), job_fn, printed, job_failed)
            return
        try:
            name = print_to_printer(prepared.pdf, printer)
        except PrinterError as e:
            report_failure(str(e))
            return
        printed(name)

    def do_save(path: Path) -> None:
        def saved(p) -> None:
            recorded("saved", parent.tr("已保存 %1").replace("%1", str(p)))
            dlg.accept()

        def not_saved(exc: BaseException) -> None:
            show_error(dlg, exc, dlg.tr("保存失败"))

        run_change(
            ctx, lambda: receipts.save_pdf(store, actor, prepared, path), "print", saved, not_saved
        )

    note = ""
    if prepared.is_reprint:
        note = parent.tr("这是补打件：%1").replace("%1", _mark(prepared))
    if prepared.skipped:
        note += (
            ("\n" if note else "")
            + parent.tr("%1 份不能打印，已跳过：").replace("%1", str(len(prepared.skipped)))
            + "；".join(why for _k, why in prepared.skipped[:3])
        )
    dlg = PreviewDialog(
        parent,
        prepared.pdf,
        title=prepared.title,
        filename=prepared.filename,
        printer_name=printer_name,
        do_print=do_print,
        do_save=do_save,
        note=note,
    )
    ctx.extras["last_preview"] = dlg
    if modal:
        dlg.exec()
    else:
        dlg.setModal(True)
        dlg.show()
    return dlg


def _mark(prepared) -> str:
    from core.receipt import reprint_mark  # deferred: not needed for the first paint (cold start)

    copies = sorted({c for _k, c in prepared.items if c > 1})
    if len(prepared.items) == 1:
        return reprint_mark(prepared.copy_no)
    return "含补打件" if copies else ""
