"""Render a :class:`core.receipt.Document` to PDF with reportlab (platypus).

One layout for all four kinds, on A4 or A5 (half page): title, issuer and number, a 补打
mark on reprints (a line under the title and a light diagonal watermark), sections of
label/value fields in a grid, tables (with a total row), notes, the QR verification code with
its text, and a footer (operator, print time, signatures). Every string is drawn with the
embedded font (:mod:`desktop.documents.fonts`); nothing here reads the store.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable

import qrcode
import qrcode.constants
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4, A5
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from core.receipt import Document
from core.receipt import Table as DocTable
from desktop.documents.fonts import markup, missing_glyphs, register_fonts

PAGE_SIZES = {"A4": A4, "A5": A5}
DEFAULT_PAGE = {"receipt": "A5", "certificate": "A5", "estimate": "A4", "day_sheet": "A4"}
INK = colors.HexColor("#1a1a1a")
LINE = colors.HexColor("#555555")
SHADE = colors.HexColor("#e8e8e8")
MARK = colors.HexColor("#b00020")


class RenderCancelled(Exception):
    """A batch was cancelled by the clerk."""


class _Styles:
    def __init__(self, page: str):
        font = register_fonts()
        small = page == "A5"
        base = 8.6 if small else 10
        self.base = base
        self.title = ParagraphStyle(
            "title", fontName=font, fontSize=base + 6.5, leading=base + 10, alignment=TA_CENTER
        )
        self.mark = ParagraphStyle(
            "mark",
            fontName=font,
            fontSize=base + 2,
            leading=base + 5,
            alignment=TA_CENTER,
            textColor=MARK,
        )
        self.head_l = ParagraphStyle("hl", fontName=font, fontSize=base, leading=base + 3)
        self.head_r = ParagraphStyle(
            "hr", fontName=font, fontSize=base, leading=base + 3, alignment=TA_RIGHT
        )
        self.section = ParagraphStyle("sec", fontName=font, fontSize=base + 0.5, leading=base + 3.5)
        self.label = ParagraphStyle(
            "lab", fontName=font, fontSize=base - 0.6, leading=base + 2.4, textColor=LINE
        )
        self.value = ParagraphStyle("val", fontName=font, fontSize=base, leading=base + 3)
        self.strong = ParagraphStyle(
            "strong", fontName=font, fontSize=base + 3, leading=base + 6, textColor=INK
        )
        self.cell = ParagraphStyle("cell", fontName=font, fontSize=base - 1, leading=base + 1.5)
        self.cell_r = ParagraphStyle("cellr", parent=self.cell, alignment=TA_RIGHT, fontName=font)
        self.cell_c = ParagraphStyle("cellc", parent=self.cell, alignment=TA_CENTER, fontName=font)
        self.note = ParagraphStyle(
            "note", fontName=font, fontSize=base - 1.2, leading=base + 1.5, textColor=LINE
        )
        self.code = ParagraphStyle(
            "code", fontName=font, fontSize=base - 2.4, leading=base, alignment=TA_LEFT
        )
        self.footer = ParagraphStyle("foot", fontName=font, fontSize=base - 0.6, leading=base + 3)
        self.font = font


class _DocMarker(Flowable):
    """Zero-size flowable that tells the page decorations which document is on the page."""

    def __init__(self, state: dict, doc: Document):
        super().__init__()
        self.state, self.doc = state, doc
        self.width = self.height = 0

    def wrap(self, aw, ah):
        return 0, 0

    def draw(self):
        self.state["doc"] = self.doc
        cancelled = self.state.get("cancelled")
        if cancelled is not None and cancelled():
            raise RenderCancelled()
        self.state["n"] = self.state.get("n", 0) + 1
        progress = self.state.get("progress")
        if progress is not None:
            progress(self.state["n"])


def _grid(doc_fields, st: _Styles, width: float) -> Table:
    lab_w = width * 0.19
    val_w = width / 2 - lab_w
    rows, spans, r = [], [], 0
    pending: list = []

    def cell_value(f):
        style = st.strong if f.strong else st.value
        return Paragraph(markup(f.value), style)

    def add_wide(label, value) -> None:
        # the value spans the rest of the row; the spanned label column is not shaded
        nonlocal r
        rows.append([label, value, "", ""])
        spans.append(("SPAN", (1, r), (3, r)))
        spans.append(("BACKGROUND", (1, r), (3, r), colors.white))
        r += 1

    for f in doc_fields:
        lab = Paragraph(markup(f.label), st.label)
        if f.wide:
            if pending:
                add_wide(*pending)
                pending = []
            add_wide(lab, cell_value(f))
            continue
        pending += [lab, cell_value(f)]
        if len(pending) == 4:
            rows.append(pending)
            r += 1
            pending = []
    if pending:
        add_wide(*pending)
    t = Table(rows, colWidths=[lab_w, val_w, lab_w, val_w])
    t.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), st.font),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("GRID", (0, 0), (-1, -1), 0.4, LINE),
                ("BACKGROUND", (0, 0), (0, -1), SHADE),
                ("BACKGROUND", (2, 0), (2, -1), SHADE),
                ("TOPPADDING", (0, 0), (-1, -1), 2.2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2.2),
                *spans,
            ]
        )
    )
    return t


def _col_widths(table: DocTable, st: _Styles, width: float) -> list[float]:
    n = len(table.header)
    need = [0.0] * n
    sample = [table.header, *table.rows[:200]] + ([table.total] if table.total else [])
    for row in sample:
        for i, cell in enumerate(row[:n]):
            w = stringWidth(str(cell), st.font, st.cell.fontSize) + 14
            need[i] = max(need[i], min(w, width * 0.45))
    total = sum(need) or 1.0
    return [width * w / total for w in need]


def _table(table: DocTable, st: _Styles, width: float) -> list:
    align = table.align or ["L"] * len(table.header)
    style_of = {"L": st.cell, "R": st.cell_r, "C": st.cell_c}

    def row_of(cells):
        return [
            Paragraph(markup(str(c)), style_of.get(align[i] if i < len(align) else "L", st.cell))
            for i, c in enumerate(cells)
        ]

    data = [[Paragraph(markup(h), st.cell_c) for h in table.header]]
    data += [row_of(r) for r in table.rows]
    if not table.rows:
        data.append([Paragraph("（无）", st.cell_c)] + [""] * (len(table.header) - 1))
    commands = [
        ("FONTNAME", (0, 0), (-1, -1), st.font),
        ("GRID", (0, 0), (-1, -1), 0.4, LINE),
        ("BACKGROUND", (0, 0), (-1, 0), SHADE),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.6),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.6),
    ]
    if not table.rows:
        commands.append(("SPAN", (0, 1), (-1, 1)))
    if table.total:
        data.append(row_of(table.total))
        commands.append(("BACKGROUND", (0, -1), (-1, -1), SHADE))
    t = Table(data, colWidths=_col_widths(table, st, width), repeatRows=1)
    t.setStyle(TableStyle(commands))
    return [Paragraph(markup(table.title), st.section), Spacer(1, 1.2 * mm), t]


class QrFlowable(Flowable):
    """A QR code drawn as filled squares (error correction M, quiet zone 2 modules). Drawn
    directly on the canvas so no font is named (reportlab's graphics renderer would name
    Helvetica, which is not embedded)."""

    def __init__(self, payload: str, size: float):
        super().__init__()
        # a fixed mask pattern (any of the 8 is valid for readers) skips qrcode's search
        # for the best one, which took a third of a receipt's rendering time
        qr = qrcode.QRCode(
            error_correction=qrcode.constants.ERROR_CORRECT_M, border=2, mask_pattern=4
        )
        qr.add_data(payload)
        qr.make(fit=True)
        self.matrix = qr.get_matrix()
        self.size = size

    def wrap(self, aw, ah):
        return self.size, self.size

    def draw(self):
        n = len(self.matrix)
        m = self.size / n
        c = self.canv
        c.saveState()
        c.setFillColor(colors.black)
        for r, row in enumerate(self.matrix):
            y = self.size - (r + 1) * m
            x0 = None
            for col, on in enumerate([*row, False]):
                if on and x0 is None:
                    x0 = col
                elif not on and x0 is not None:
                    c.rect(x0 * m, y, (col - x0) * m, m, stroke=0, fill=1)
                    x0 = None
        c.restoreState()


def _qr(payload: str, size: float) -> QrFlowable:
    return QrFlowable(payload, size)


def _all_text(doc: Document) -> str:
    parts = [doc.title, doc.issuer, doc.number, *doc.notes]
    for s in doc.sections:
        parts += [s.title, *(f.label + f.value for f in s.fields)]
    for t in doc.tables:
        parts += [t.title, *t.header, *(c for r in t.rows for c in r), *(t.total or [])]
    parts += [f.label + f.value for f in doc.footer]
    return "".join(parts)


def _story(doc: Document, st: _Styles, width: float, state: dict) -> list:
    story: list = [_DocMarker(state, doc), Paragraph(markup(doc.title), st.title)]
    if doc.reprint_mark:
        story.append(Paragraph(markup(f"【{doc.reprint_mark}】"), st.mark))
    head = Table(
        [
            [
                Paragraph(markup(f"开具单位：{doc.issuer}"), st.head_l),
                Paragraph(
                    markup(f"No. {doc.number}" if doc.kind == "receipt" else doc.number), st.head_r
                ),
            ]
        ],
        colWidths=[width * 0.5, width * 0.5],
    )
    head.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), st.font),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    story += [Spacer(1, 1.5 * mm), head, Spacer(1, 1 * mm)]
    for sec in doc.sections:
        block = [Paragraph(markup(sec.title), st.section), Spacer(1, 0.8 * mm)]
        block.append(_grid(sec.fields, st, width))
        story += [KeepTogether(block), Spacer(1, 2.2 * mm)]
    if doc.charts:
        from desktop.documents.charts import chart_drawing  # deferred: reports only

        for chart in doc.charts:
            story += [chart_drawing(chart, width, st.font), Spacer(1, 2.2 * mm)]
    for tb in doc.tables:
        story += _table(tb, st, width)
        story.append(Spacer(1, 2.2 * mm))
    notes = [Paragraph(markup(n), st.note) for n in doc.notes if n]
    lost = missing_glyphs(_all_text(doc))
    if lost:
        chars = "、".join(f"“{c}”（U+{ord(c):04X}）" for c in lost)
        notes.append(
            Paragraph(
                markup(f"注：本机字体缺少生僻字 {chars}，打印处显示为方框，请经办人手写补全。"),
                st.mark,
            )
        )
    if doc.qr_payload:
        qr_size = 26 * mm if st.base < 10 else 30 * mm
        code = Paragraph(markup(f"校验码：{doc.qr_payload}"), st.code)
        box = Table(
            [[notes + [Spacer(1, 1 * mm), code], _qr(doc.qr_payload, qr_size)]],
            colWidths=[width - qr_size - 4, qr_size + 4],
        )
        box.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), st.font),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ]
            )
        )
        story.append(KeepTogether([box]))
    else:
        story += notes
    if doc.footer:
        story += [Spacer(1, 2.5 * mm), KeepTogether([_footer(doc, st, width)])]
    return story


def _footer(doc: Document, st: _Styles, width: float) -> Table:
    """The signature line: each field as wide as its text needs."""
    cells = [
        Paragraph(markup(f"{f.label}：{f.value}" if f.value else f"{f.label}："), st.footer)
        for f in doc.footer
    ]
    need = [
        stringWidth(f"{f.label}：{f.value}", st.font, st.footer.fontSize) + 24 for f in doc.footer
    ]
    ft = Table([cells], colWidths=[width * n / sum(need) for n in need])
    ft.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), st.font),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 5),
                ("LINEABOVE", (0, 0), (-1, 0), 0.6, LINE),
            ]
        )
    )
    return ft


def _decorate(state: dict, st: _Styles, page_size):
    def on_page_end(canvas, _doc):
        doc: Document | None = state.get("doc")
        w, h = page_size
        canvas.saveState()
        canvas.setFont(st.font, st.base - 2)
        canvas.setFillColor(LINE)
        label = doc.title if doc else ""
        canvas.drawRightString(w - 10 * mm, 6 * mm, f"{label}  第 {canvas.getPageNumber()} 页")
        if doc is not None and doc.copy_no > 1:
            canvas.setFillColor(MARK)
            canvas.setFillAlpha(0.10)
            canvas.setFont(st.font, w / 5)
            canvas.translate(w / 2, h / 2)
            canvas.rotate(35)
            canvas.drawCentredString(0, -w / 14, "补打")
        canvas.restoreState()

    return on_page_end


def render_documents(
    docs: Iterable[Document],
    *,
    page: str | None = None,
    progress: Callable[[int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    title: str = "",
) -> bytes:
    """Render one or more documents into one PDF, each starting on a new page.

    ``progress(n)`` is called when the n-th document starts on the page; ``cancelled()`` returning
    True stops with :class:`RenderCancelled` (nothing is returned)."""
    docs = list(docs)
    if not docs:
        raise ValueError("no document to render")
    page = page or DEFAULT_PAGE.get(docs[0].kind, "A4")
    if page not in PAGE_SIZES:
        raise ValueError(f"unknown page size {page!r} (A4 or A5)")
    size = PAGE_SIZES[page]
    st = _Styles(page)
    margin = 11 * mm if page == "A5" else 16 * mm
    buf = io.BytesIO()
    state: dict = {"progress": progress, "cancelled": cancelled}
    template = BaseDocTemplate(
        buf,
        pagesize=size,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin,
        title=title or docs[0].title,
        author=docs[0].issuer,
        creator="TownshipDesk 乡镇医保服务窗口",
        subject=docs[0].title,
        initialFontName=st.font,  # else the canvas names Helvetica (not embedded) on each page
        initialFontSize=st.base,
    )
    frame = Frame(margin, margin, size[0] - 2 * margin, size[1] - 2 * margin, id="body")
    template.addPageTemplates(
        [PageTemplate(id="page", frames=[frame], onPageEnd=_decorate(state, st, size))]
    )
    width = size[0] - 2 * margin - 12  # frame paddings
    story: list = []
    for i, d in enumerate(docs):
        if cancelled is not None and cancelled():
            raise RenderCancelled()
        if i:
            story.append(PageBreak())
        story += _story(d, st, width, state)
    if cancelled is not None and cancelled():
        raise RenderCancelled()
    template.build(story)
    return buf.getvalue()


def render_document(doc: Document, *, page: str | None = None) -> bytes:
    return render_documents([doc], page=page)
