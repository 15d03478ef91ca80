"""The home page's report bar: the 月报 of a month or the 征缴进度 report of a 参保年度, to
preview and print (PDF with charts) or to save as Excel. Built on a background thread with
a progress dialog and 取消 (a year of payments in a large township takes a few seconds)."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QWidget

from desktop.gui.widgets import ERROR_STYLE, OK_STYLE


def _reports():
    """``desktop.services.reports``, loaded by the first report on its background thread,
    not at the desk's start."""
    from desktop.services import reports  # deferred: a report's own thread loads it

    return reports


KINDS = {"monthly": "月报", "campaign": "征缴进度报表"}


class ReportBar(QWidget):
    def __init__(self, page):
        super().__init__()
        self.page, self.ctx = page, page.ctx
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel(self.tr("报表")))
        self.kind = QComboBox()
        self.kind.setObjectName("report_kind")
        for k, label in KINDS.items():
            self.kind.addItem(self.tr(label), k)
        self.kind.currentIndexChanged.connect(lambda _i: self._fill_periods())
        row.addWidget(self.kind)
        self.period = QComboBox()
        self.period.setObjectName("report_period")
        row.addWidget(self.period)
        self.preview_btn = QPushButton(self.tr("预览打印(&R)…"))
        self.preview_btn.setObjectName("report_preview")
        self.preview_btn.clicked.connect(self.preview)
        self.xlsx_btn = QPushButton(self.tr("导出 Excel…"))
        self.xlsx_btn.setObjectName("report_xlsx")
        self.xlsx_btn.clicked.connect(self.ask_xlsx)
        row.addWidget(self.preview_btn)
        row.addWidget(self.xlsx_btn)
        self.message = QLabel("")
        self.message.setObjectName("report_message")
        row.addWidget(self.message, 1)
        self._fill_periods()

    def _fill_periods(self) -> None:
        today = self.page.today()
        self.period.clear()
        if self.kind.currentData() == "monthly":
            y, m = today.year, today.month
            for _ in range(12):
                self.period.addItem(f"{y}年{m}月", (y, m))
                y, m = (y, m - 1) if m > 1 else (y - 1, 12)
        else:
            first = today.year + 1
            for y in range(first, first - 4, -1):
                self.period.addItem(f"{y}参保年度", (y, 0))

    def _facts(self, job):
        store, actor, today = self.ctx.store, self.ctx.actor, self.page.today()
        year, month = self.period.currentData()
        kw = {
            "today": today,
            "progress": lambda d, t, text: job.progress(d, t, self.tr(text)),
            "cancelled": lambda: job.cancelled,
        }
        if self.kind.currentData() == "monthly":
            return _reports().monthly(store, actor, year, month, **kw)
        return _reports().campaign_report(store, actor, year, **kw)

    def _title(self) -> str:
        return f"{self.kind.currentText()}（{self.period.currentText()}）"

    def make_pdf(self, then) -> None:
        """Build the PDF on a background thread; ``then(pdf bytes)`` on the GUI thread."""
        self.message.setText("")
        self.ctx.tasks.run_long(
            self, self.tr("正在生成报表…"), lambda job: _reports().pdf(self._facts(job)), then,
            self._failed,
        )  # fmt: skip

    def preview(self) -> None:
        from desktop.gui.print_support import print_pdf  # deferred: preview loads pdfium

        title = self._title()
        self.make_pdf(lambda data: print_pdf(self, data, title=title, filename=f"{title}.pdf"))

    def ask_xlsx(self) -> None:
        name = f"{self._title()}.xlsx"
        path, _ = QFileDialog.getSaveFileName(self, self.tr("导出报表"), name, "Excel (*.xlsx)")
        if path:
            self.export_xlsx(path)

    def export_xlsx(self, path: str) -> None:
        def done(p) -> None:
            self.message.setStyleSheet(OK_STYLE)
            self.message.setText(self.tr("已导出：") + str(p))

        self.ctx.tasks.run_long(
            self, self.tr("正在导出报表…"), lambda job: _reports().xlsx(self._facts(job), path), done,
            self._failed,
        )  # fmt: skip

    def _failed(self, exc: BaseException) -> None:
        from desktop.gui.tasks import Cancelled  # deferred: only a failed report needs it

        self.message.setStyleSheet(ERROR_STYLE)
        if isinstance(exc, _reports().ReportCancelled | Cancelled):
            self.message.setText(self.tr("已取消"))
        elif hasattr(exc, "errors"):
            self.message.setText("；".join(exc.errors.values()))
        else:
            self.page.show_failure(exc)
