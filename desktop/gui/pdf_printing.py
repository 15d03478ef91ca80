"""Printing a PDF on a Windows/Linux printer: pages rendered by pdfium at the printer's
resolution and painted with QPrinter; page counts and preview images."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pypdfium2 as pdfium
from PySide6.QtCore import QMarginsF, QRectF, QSizeF
from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPainter
from PySide6.QtPrintSupport import QPrinter

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
