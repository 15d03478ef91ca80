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

from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtGui import QKeySequence, QPixmap, QShortcut
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
from desktop.gui.pdf_printing import (  # noqa: F401 (part of this module's API)
    BACKGROUND_PAGES,
    MAX_PRINT_DPI,
    PREVIEW_DPI,
    PrintCancelled,
    PrinterError,
    page_count,
    page_images,
    print_to_printer,
)
from desktop.gui.widgets import show_error

log = logging.getLogger(__name__)


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
    session = _PreviewSession(parent, ctx, prepared, on_done)
    note = ""
    if prepared.is_reprint:
        note = parent.tr("这是补打件：%1").replace("%1", _mark(prepared))
    if prepared.skipped:
        note += (
            ("\n" if note else "")
            + parent.tr("%1 份不能打印，已跳过：").replace("%1", str(len(prepared.skipped)))
            + "；".join(why for _k, why in prepared.skipped[:3])
        )
    dlg = session.dlg = PreviewDialog(
        parent,
        prepared.pdf,
        title=prepared.title,
        filename=prepared.filename,
        printer_name=printer_name,
        do_print=session.do_print,
        do_save=session.do_save,
        note=note,
    )
    ctx.extras["last_preview"] = dlg
    if modal:
        dlg.exec()
    else:
        dlg.setModal(True)
        dlg.show()
    return dlg


class _PreviewSession:
    """What the clerk does in one preview: print (in the background for long documents),
    save as PDF, or fail — each recorded in the print log and announced."""

    def __init__(self, parent: QWidget, ctx, prepared, on_done) -> None:
        from desktop.services import receipts  # deferred: not needed for the first paint

        self.receipts = receipts
        self.parent, self.ctx, self.prepared, self.on_done = parent, ctx, prepared, on_done
        self.dlg: PreviewDialog

    def recorded(self, status: str, message: str) -> None:
        self.ctx.events.status_message.emit(message)
        if self.on_done:
            self.on_done(status)

    def report_failure(self, error: str) -> None:
        ctx, dlg, prepared = self.ctx, self.dlg, self.prepared
        run_change(
            ctx,
            lambda: self.receipts.record_failed(
                ctx.store, ctx.actor, prepared, printer="", error=error
            ),
            "print",
            lambda _r: self.recorded("failed", self.parent.tr("打印失败，未记为已打印")),
            lambda exc: show_error(dlg, exc, dlg.tr("打印失败")),
        )
        QMessageBox.warning(
            dlg,
            dlg.tr("打印失败"),
            f"{error}\n\n" + dlg.tr("单据没有记为已打印，请检查打印机后重新打印。"),
        )

    def printed(self, name: str) -> None:
        ctx, parent, prepared = self.ctx, self.parent, self.prepared
        run_change(
            ctx,
            lambda: self.receipts.record_printed(ctx.store, ctx.actor, prepared, printer=name),
            "print",
            lambda _r: self.recorded(
                "printed",
                parent.tr("已打印 %1").replace("%1", prepared.title)
                + (f"（{_mark(prepared)}）" if prepared.is_reprint else ""),
            ),
            lambda exc: show_error(parent, exc, parent.tr("打印记录未保存")),
        )
        self.dlg.accept()

    def do_print(self, printer: QPrinter) -> None:
        dlg, pdf = self.dlg, self.prepared.pdf
        if page_count(pdf) > BACKGROUND_PAGES:

            def job_fn(job):
                return print_to_printer(
                    pdf,
                    printer,
                    progress=lambda d, t: job.progress(d, t, dlg.tr("正在打印…")),
                    cancelled=lambda: job.cancelled,
                )

            def job_failed(exc: BaseException) -> None:
                if isinstance(exc, PrintCancelled):
                    self.report_failure(dlg.tr("打印已取消"))
                elif isinstance(exc, PrinterError):
                    self.report_failure(str(exc))
                else:
                    self.report_failure(f"{type(exc).__name__}: {exc}")

            self.ctx.tasks.run_long(dlg, dlg.tr("打印"), job_fn, self.printed, job_failed)
            return
        try:
            name = print_to_printer(pdf, printer)
        except PrinterError as e:
            self.report_failure(str(e))
            return
        self.printed(name)

    def do_save(self, path: Path) -> None:
        ctx, dlg = self.ctx, self.dlg

        def saved(p) -> None:
            self.recorded("saved", self.parent.tr("已保存 %1").replace("%1", str(p)))
            dlg.accept()

        def not_saved(exc: BaseException) -> None:
            show_error(dlg, exc, dlg.tr("保存失败"))

        run_change(
            ctx,
            lambda: self.receipts.save_pdf(ctx.store, ctx.actor, self.prepared, path),
            "print",
            saved,
            not_saved,
        )


def _mark(prepared) -> str:
    from core.receipt import reprint_mark  # deferred: not needed for the first paint (cold start)

    copies = sorted({c for _k, c in prepared.items if c > 1})
    if len(prepared.items) == 1:
        return reprint_mark(prepared.copy_no)
    return "含补打件" if copies else ""
