"""pytest-qt: the 打印 page and print_support as a clerk uses them — preview and print a
receipt (to Qt's PDF printer), a reprint marked 补打, a printer that fails (nothing marked
printed), a village's certificates as a background batch, save as PDF, verify a code."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtPrintSupport import QPrinter  # noqa: E402

from .conftest import YEAR, flat, pdf_text  # noqa: E402


@pytest.fixture
def ctx(qtbot, store, clerk, data_dir):
    import datetime as dt

    from desktop.gui.app import create_qapplication, make_context

    create_qapplication()
    c = make_context(store, clerk, data_dir)
    c.extras["today"] = dt.date(YEAR, 3, 1)
    yield c
    c.tasks.shutdown()


@pytest.fixture
def warnings(monkeypatch):
    """QMessageBox.warning would wait for a click: record the messages instead."""
    seen: list[str] = []

    def fake(_parent, title, text, *a, **k):
        seen.append(f"{title}: {text}")

    monkeypatch.setattr("desktop.gui.print_support.QMessageBox.warning", fake)
    monkeypatch.setattr("desktop.gui.widgets.QMessageBox.warning", fake)
    return seen


@pytest.fixture
def page(qtbot, ctx, paid):
    from desktop.gui.pages.printing import Page

    p = Page(ctx)
    qtbot.addWidget(p)
    p.resize(1366, 700)
    p.show()
    settle(qtbot, ctx)
    return p


def settle(qtbot, ctx):
    qtbot.waitUntil(lambda: ctx.tasks.idle, timeout=10000)


def pdf_printer(path: Path) -> QPrinter:
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    return printer


def select_receipt(page, receipt_no):
    for r in range(page.receipts.rowCount()):
        if page.receipts.item(r, 0).text() == receipt_no:
            page.receipts.selectRow(r)
            return
    raise AssertionError(f"{receipt_no} not listed")


def open_receipt(qtbot, page, ctx, receipt_no):
    ctx.extras.pop("last_preview", None)
    select_receipt(page, receipt_no)
    page.print_receipt()
    qtbot.waitUntil(lambda: "last_preview" in ctx.extras, timeout=10000)
    return ctx.extras["last_preview"]


def test_print_receipt_then_reprint(qtbot, page, ctx, paid, tmp_path, store):
    no = paid["payments"]["张三"]["receipt_no"]
    assert page.receipts.rowCount() == 3
    dlg = open_receipt(qtbot, page, ctx, no)
    assert dlg.n_pages == 1 and "补打" not in dlg.info.text()
    out = tmp_path / "printed.pdf"
    dlg.choose_printer = lambda: pdf_printer(out)
    qtbot.mouseClick(dlg.print_button, Qt.MouseButton.LeftButton)
    settle(qtbot, ctx)
    qtbot.waitUntil(lambda: "已打印" in page.message.text(), timeout=10000)
    text = flat(pdf_text(out.read_bytes()))
    assert "张三" in text and no in text and "补打" not in text
    rows = store.query("SELECT status, copy_no, printer FROM print_log")
    assert [(r["status"], r["copy_no"]) for r in rows] == [("printed", 1)]
    assert str(out) in rows[0]["printer"]
    settle(qtbot, ctx)
    row = [r for r in range(page.receipts.rowCount()) if page.receipts.item(r, 0).text() == no][0]
    assert page.receipts.item(row, 8).text() == "已出 1 份"

    dlg2 = open_receipt(qtbot, page, ctx, no)
    assert "补打（第1次）" in dlg2.info.text()
    out2 = tmp_path / "reprint.pdf"
    dlg2.choose_printer = lambda: pdf_printer(out2)
    dlg2.on_print()
    settle(qtbot, ctx)
    assert "补打（第1次）" in flat(pdf_text(out2.read_bytes()))
    assert [
        r["action"]
        for r in store.query(
            "SELECT action FROM audit_log WHERE action LIKE 'document.%' ORDER BY seq"
        )
    ] == ["document.print", "document.reprint"]


def test_failing_printer_marks_nothing_printed(qtbot, page, ctx, paid, tmp_path, store, warnings):
    no = paid["payments"]["李四"]["receipt_no"]
    dlg = open_receipt(qtbot, page, ctx, no)
    dlg.choose_printer = lambda: pdf_printer(tmp_path / "no-such-folder" / "x.pdf")
    dlg.on_print()
    settle(qtbot, ctx)
    assert warnings and "打印失败" in warnings[0] and "没有记为已打印" in warnings[0]
    assert dlg.isVisible()  # the clerk can try again
    rows = store.query("SELECT status FROM print_log")
    assert [r["status"] for r in rows] == ["failed"]
    qtbot.waitUntil(lambda: "未记为已打印" in page.message.text(), timeout=5000)
    dlg.reject()
    again = open_receipt(qtbot, page, ctx, no)
    assert "补打" not in again.info.text()  # still the original
    again.reject()


def test_raster_printing_paints_every_page(qtbot, ctx, store, clerk, paid, tmp_path):
    from desktop.gui.print_support import print_to_printer
    from desktop.services import receipts

    keys = [
        r["enrollment_id"] for r in receipts.certificate_list(store, year=YEAR) if r["printable"]
    ]
    batch = receipts.prepare_batch(store, clerk, "certificate", keys)
    n = len(PdfReader(io.BytesIO(batch.pdf)).pages)
    out = tmp_path / "raster.pdf"
    seen = []
    name = print_to_printer(
        batch.pdf, pdf_printer(out), raster=True, progress=lambda d, t: seen.append((d, t))
    )
    assert name
    assert len(PdfReader(io.BytesIO(out.read_bytes())).pages) == n
    assert seen[-1] == (n, n)


def test_village_batch_in_background(qtbot, page, ctx, paid, tmp_path, store):
    page.tabs.setCurrentIndex(1)
    i = page.cert_village.findText("东村")
    page.cert_village.setCurrentIndex(i)
    settle(qtbot, ctx)
    assert "可打印参保凭证" in page.cert_summary.text()
    printable = [r for r in page._cert_rows if r["printable"]]
    assert len(printable) >= 3
    ctx.extras.pop("last_preview", None)
    page.print_village()
    qtbot.waitUntil(lambda: "last_preview" in ctx.extras, timeout=20000)
    dlg = ctx.extras["last_preview"]
    assert dlg.n_pages >= len(printable)
    out = tmp_path / "village.pdf"
    dlg.choose_printer = lambda: pdf_printer(out)
    dlg.on_print()
    settle(qtbot, ctx)
    qtbot.waitUntil(
        lambda: store.query_one("SELECT COUNT(*) AS n FROM print_log")["n"] == len(printable),
        timeout=20000,
    )
    text = flat(pdf_text(out.read_bytes()))
    for r in printable:
        assert r["name"] in text


def test_save_as_pdf_is_recorded_as_a_copy(qtbot, page, ctx, paid, tmp_path, store):
    no = paid["payments"]["张小低"]["receipt_no"]
    dlg = open_receipt(qtbot, page, ctx, no)
    target = tmp_path / "saved"
    dlg.choose_save_path = lambda: target  # no suffix: .pdf is added
    dlg.on_save()
    settle(qtbot, ctx)
    saved = tmp_path / "saved.pdf"
    assert saved.read_bytes()[:5] == b"%PDF-"
    rows = store.query("SELECT status, copy_no FROM print_log")
    assert [(r["status"], r["copy_no"]) for r in rows] == [("saved", 1)]
    assert store.query_one("SELECT COUNT(*) AS n FROM print_log WHERE status='printed'")["n"] == 0


def test_day_sheet_and_estimate_tabs(qtbot, page, ctx, paid, store):
    page.tabs.setCurrentIndex(3)
    assert page.days.rowCount() == 1
    count = page.days.item(0, page.DAY_HEADERS.index("笔数"))
    money = page.days.item(0, page.DAY_HEADERS.index("实收（元）"))
    assert count.text() == "3" and re.fullmatch(r"[\d,]+\.\d\d", money.text())
    # counts and money line up on the right, as on paper; the operator's column stretches
    right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
    assert count.textAlignment() == right and money.textAlignment() == right
    assert page.DAY_HEADERS[-1] == "经办人"
    ctx.extras.pop("last_preview", None)
    page.print_current()
    qtbot.waitUntil(lambda: "last_preview" in ctx.extras, timeout=10000)
    dlg = ctx.extras["last_preview"]
    assert "日结单" in dlg.windowTitle()
    dlg.reject()
    page.tabs.setCurrentIndex(2)
    page.estimates.setRowCount(0)
    page.print_current()  # nothing selected
    assert "请先在列表中选择" in page.message.text()


def test_verify_box(qtbot, page, ctx, paid, store, clerk):
    from desktop.services import receipts

    no = paid["payments"]["张三"]["receipt_no"]
    text = flat(pdf_text(receipts.prepare(store, clerk, "receipt", no).pdf))
    start = text.index("校验码：") + 4
    parts = text[start:].split("|")
    code = "|".join(parts[:5] + [parts[5][:16]])
    page.verify_input.setText(code)
    page.verify()
    settle(qtbot, ctx)
    assert page.verify_result.text().startswith("✔") and "校验通过" in page.verify_result.text()
    page.verify_input.setText(code.replace(no, no[:-1] + "7"))
    page.verify()
    settle(qtbot, ctx)
    assert page.verify_result.text().startswith("✘") and "校验失败" in page.verify_result.text()


def test_contribution_page_hands_over_a_receipt(qtbot, page, ctx, paid):
    """After a payment the 缴费查询 page emits open_page("printing", receipt_no)."""
    no = paid["payments"]["李四"]["receipt_no"]
    ctx.extras.pop("last_preview", None)
    page.open_item(no)
    qtbot.waitUntil(lambda: "last_preview" in ctx.extras, timeout=10000)
    assert page.receipts.rowCount() == 1 and page.receipts.item(0, 0).text() == no
    dlg = ctx.extras["last_preview"]
    assert no in dlg.filename
    dlg.reject()
    page.open_item("not a receipt number")  # ignored


def test_keyboard_enter_opens_the_preview(qtbot, page, ctx, paid):
    page.receipts.setFocus()
    page.receipts.selectRow(0)
    ctx.extras.pop("last_preview", None)
    qtbot.keyClick(page.receipts, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "last_preview" in ctx.extras, timeout=10000)
    ctx.extras["last_preview"].reject()


def test_generic_print_pdf_for_other_pages(qtbot, ctx, store, clerk, paid, tmp_path, warnings):
    """print_pdf(parent, pdf_bytes): the Print button any page can use for its own PDF."""
    from desktop.gui.print_support import print_pdf
    from desktop.services import receipts

    pdf = receipts.prepare(store, clerk, "receipt", paid["payments"]["张三"]["receipt_no"]).pdf
    printed, failed = [], []
    dlg = print_pdf(
        None, pdf, title="测试", on_printed=printed.append, on_failed=failed.append, modal=False
    )
    qtbot.addWidget(dlg)
    dlg.choose_printer = lambda: pdf_printer(tmp_path / "missing" / "x.pdf")
    dlg.on_print()
    assert failed and not printed and warnings
    dlg.choose_printer = lambda: pdf_printer(tmp_path / "ok.pdf")
    dlg.on_print()
    assert printed and (tmp_path / "ok.pdf").read_bytes() == pdf
    assert store.query_one("SELECT COUNT(*) AS n FROM print_log")["n"] == 0  # not a service doc


def test_tab_leaves_the_receipt_list_for_the_verify_box(qtbot, page, ctx, paid):
    """A keyboard-only clerk reaches the 核验 box: Tab leaves the receipt list at once
    instead of walking every cell of every row."""
    assert page.receipts.rowCount() >= 1
    page.receipts.setFocus()
    qtbot.waitUntil(lambda: page.receipts.hasFocus())
    qtbot.keyClick(page.receipts, Qt.Key.Key_Tab)
    assert not page.receipts.hasFocus()
    assert page.verify_input.hasFocus()


def test_preview_shows_the_whole_width_of_an_a4_page(qtbot):
    """At 1366×768 the preview opens wide enough for an A4 page: the receipt number at the
    right edge and the QR code are visible without scrolling sideways."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    from desktop.gui.print_support import PreviewDialog

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.drawString(40, 800, "x")
    c.showPage()
    c.save()
    dlg = PreviewDialog(None, buf.getvalue(), title="t")
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    avail = dlg.screen().availableGeometry().width()
    page_px = round(A4[0] / 72 * 96)  # the page at the preview's 96 dpi
    assert dlg.width() >= min(page_px + 40, avail)  # the page and the scroll bar, if room
    assert dlg.width() <= avail
    if avail >= page_px + 100:
        assert dlg.scroll.horizontalScrollBar().maximum() == 0


def test_the_estimate_list_says_what_each_estimate_was_of_in_words(qtbot, ctx, page, store):
    """报销测算单 tab: 就医类型 in words (住院; 大病保险（单独测算）), never the setting's code
    (it showed "inpatient"); no cell of the page's lists holds a code-like word."""
    import re

    from PySide6.QtWidgets import QTableWidget

    from desktop.services import estimate

    for policy_id, year, given in (
        ("shanxi-2025", 2025, {"setting": "inpatient", "level": "class3", "total": "3000"}),
        ("reprint-ziyang-dabing", 2025, {"layer": "dabing", "burden": "200000"}),
    ):
        estimate.save(
            store, ctx.actor, policy_id=policy_id, given=given, anon_label="窗口咨询",
            year=year, data_dir=ctx.data_dir,
        )  # fmt: skip
    page.load_estimates()
    settle(qtbot, ctx)
    col = page.ESTIMATE_HEADERS.index("就医类型")
    kinds = sorted(page.estimates.item(r, col).text() for r in range(page.estimates.rowCount()))
    assert kinds == ["住院", "大病保险（单独测算）"]
    for table in page.findChildren(QTableWidget):
        for r in range(table.rowCount()):
            for c in range(table.columnCount()):
                text = table.item(r, c).text() if table.item(r, c) else ""
                assert not re.search(r"[a-z]{3,}", text), (table.objectName(), text)
