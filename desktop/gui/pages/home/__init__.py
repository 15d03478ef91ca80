"""首页 (home): the page the desk opens on. Today's work (payments and estimates, what waits
to be uploaded, the last sync, county answers waiting) and the campaign of the open
参保年度 by village — registered, paid, subsidized, unpaid, the rate against last year and
the county's target — with two charts. Every figure is a link to the list behind it: a
village's 未缴 opens its 征缴名单, 今日收费 the day sheets, 待上传 and 待处理 the sync page.

The figures are counted by ``desktop.services.home`` on the store worker, which also loads
that code; the charts (QPainter) are drawn after the first paint: the window shows before
either."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.gui.pages.base import Page as BasePage
from desktop.gui.pages.home.report_bar import ReportBar
from desktop.gui.widgets import ERROR_STYLE, heading

LINK = "color: #0b57d0; text-decoration: underline;"
COLUMNS = ["村", "登记人数", "已缴费", "资助参保", "未缴费", "参保率", "上年参保率"]
UNPAID_COL = 4


def _home():
    """``desktop.services.home``, loaded by the first count on the store worker: the window
    opens before the code that counts its figures (issue 10: the first page first)."""
    from desktop.services import home  # deferred: loaded off the GUI thread, after the first paint

    return home


def _pct(value) -> str:
    return "—" if value is None else f"{value}%"


class _Figure(QPushButton):
    """A figure on the home page: a flat button that opens the list behind it."""

    def __init__(self, name: str, on_click):
        super().__init__("")
        self.setObjectName(name)
        self.setFlat(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setStyleSheet("QPushButton { text-align: left; font-size: 15px; " + LINK + " }")
        self.clicked.connect(on_click)


class Page(BasePage):
    error_title = "首页"

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(ctx, parent)
        self.summary: dict | None = None
        self.charts = None
        self._stale = True
        outer = QVBoxLayout(self)
        outer.addWidget(self._build_today())
        top = QHBoxLayout()
        self.title = heading("")
        self.title.setObjectName("campaign_title")
        top.addWidget(self.title, 1)
        top.addWidget(QLabel(self.tr("参保年度")))
        self.year = QSpinBox()
        self.year.setObjectName("home_year")
        self.year.setRange(2000, 2100)
        self.year.setValue(self.today().year + 1)
        self.year.valueChanged.connect(lambda _v: self.refresh(year=self.year.value()))
        top.addWidget(self.year)
        outer.addLayout(top)
        self.target_note = QLabel("")
        self.target_note.setObjectName("target_note")
        self.target_note.setWordWrap(True)
        outer.addWidget(self.target_note)
        body = QHBoxLayout()
        self.table = self._build_table()
        body.addWidget(self.table, 5)
        self.chart_box = QVBoxLayout()
        body.addLayout(self.chart_box, 6)
        outer.addLayout(body, 1)
        self.report_bar = ReportBar(self)
        outer.addWidget(self.report_bar)
        ctx.events.data_changed.connect(self._data_changed)
        self.refresh()

    def today(self) -> dt.date:
        return self.ctx.extras.get("today") or dt.date.today()

    # ------------------------------------------------------------------ building
    def _build_today(self) -> QGroupBox:
        box = QGroupBox(self.tr("今日工作"))
        box.setObjectName("today_box")
        row = QHBoxLayout(box)
        row.setContentsMargins(8, 2, 8, 2)
        self.pay_fig = _Figure("today_payments", lambda: self._open("printing", "day_sheets"))
        self.est_fig = _Figure("today_estimates", lambda: self._open("estimate", None))
        self.pending_fig = _Figure("pending", lambda: self._open("sync", None))
        self.inbox_fig = _Figure("inbox", lambda: self._open("sync", None))
        self.alert_fig = _Figure("alerts", self.open_alerts)
        for w in (self.pay_fig, self.est_fig, self.pending_fig, self.inbox_fig, self.alert_fig):
            row.addWidget(w, 1)
        self.last_sync = QLabel("")
        self.last_sync.setObjectName("home_last_sync")
        row.addWidget(self.last_sync)
        return box

    def _build_table(self) -> QTableWidget:
        t = QTableWidget(0, len(COLUMNS))
        t.setObjectName("campaign_villages")
        t.setHorizontalHeaderLabels(COLUMNS)
        t.verticalHeader().setVisible(False)
        t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        t.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        t.cellActivated.connect(self._cell_opened)
        t.cellClicked.connect(self._cell_opened)
        t.setToolTip(self.tr("点“未缴费”人数，打开这个村的征缴名单"))
        return t

    # ------------------------------------------------------------------ data
    def on_shown(self) -> None:
        if self._stale:
            self.refresh()

    def _data_changed(self, _kind: str) -> None:
        self._stale = True
        if self.isVisible():
            self.refresh()

    def refresh(self, year: int | None = None) -> None:
        store, today = self.ctx.store, self.today()
        self._stale = False
        self.query(
            lambda: _home().summary(store, today=today, year=year, days=False),
            self._show,
            self._failed,
        )

    def _failed(self, exc: BaseException) -> None:
        self.target_note.setStyleSheet(ERROR_STYLE)
        self.show_failure(exc)

    def _show(self, s: dict) -> None:
        self.summary = s
        w, camp = s["work"], s["campaign"]
        self.pay_fig.setText(f"今日收费 {w['payments']} 笔，{w['payments_total']} 元")
        self.est_fig.setText(f"今日测算 {w['estimates']} 次（已结算 {w['settled']}）")
        self.pending_fig.setText(f"待上传 {w['pending']} 条")
        self.inbox_fig.setText(f"待处理（县里的回复） {w['inbox']} 件")
        a = s["alerts"]
        self.alert_fig.setText(
            f"因病返贫预警 {a['count']} 人"
            if a["configured"] or a["count"]
            else "因病返贫预警未启用"
        )
        last = w["last_sync_at"]
        self.last_sync.setText(
            self.tr("上次同步：") + (last.replace("T", " ")[:16] if last else self.tr("从未"))
        )
        self.year.blockSignals(True)
        self.year.setValue(camp["year"])
        self.year.blockSignals(False)
        t = camp["total"]
        self.title.setText(
            f"{camp['year']}参保年度征缴进度：登记 {t['registered']} 人，参保率 {_pct(t['rate'])}"
            f"（上年 {_pct(t['last_rate'])}）"
        )
        target = camp["target"]
        note = (
            f"目标 {target['percent']:.0f}%（{target['cite']}）；红色为低于目标的村。"
            if target
            else self.tr("本年度的参保率目标尚未发布。")
        )
        self.target_note.setText(note + (("\n" + camp["message"]) if camp["message"] else ""))
        self._fill_table(camp)
        QTimer.singleShot(0, self._draw_charts)

    def _fill_table(self, camp: dict) -> None:
        rows = camp["villages"] + [{**camp["total"], "village": "合计", "village_id": None}]
        self.table.setRowCount(len(rows))
        for i, v in enumerate(rows):
            cells = [
                v["village"],
                str(v["registered"]),
                str(v["paid"]),
                str(v["subsidized"]),
                str(v["unpaid"]),
                _pct(v["rate"]),
                _pct(v["last_rate"]),
            ]
            for c, text in enumerate(cells):
                it = QTableWidgetItem(text)
                if c:
                    it.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if c == UNPAID_COL and v["village_id"] and v["unpaid"]:
                    it.setForeground(Qt.GlobalColor.blue)
                    it.setData(Qt.ItemDataRole.UserRole, v["village_id"])
                if c == 5 and v.get("behind"):
                    it.setForeground(Qt.GlobalColor.red)
                self.table.setItem(i, c, it)

    def _cell_opened(self, row: int, col: int) -> None:
        it = self.table.item(row, UNPAID_COL)
        village = it.data(Qt.ItemDataRole.UserRole) if it is not None else None
        if village and col == UNPAID_COL and self.summary:
            year = self.summary["campaign"]["year"]
            self._open("contribution", {"campaign": village, "year": year})

    def open_alerts(self) -> None:
        from desktop.gui.pages.home.alerts_dialog import AlertsDialog  # deferred: on demand

        if self.summary is not None:
            self.alerts_dialog = AlertsDialog(self, self.ctx, self.summary["alerts"])
            self.alerts_dialog.open()

    def _open(self, key: str, arg) -> None:
        self.ctx.events.open_page.emit(key, arg)

    def _draw_charts(self) -> None:
        from desktop.gui.pages.home import charts  # deferred: built after the first paint

        if self.charts is None:
            self.charts = charts.Charts()
            for w in self.charts.widgets():
                self.chart_box.addWidget(w, 1)
        s = self.summary
        if s is None:
            return
        if s["days"] is not None:
            self.charts.show(s)
            return
        store, year, today = self.ctx.store, s["campaign"]["year"], s["today"]

        def drawn(days: list[dict]) -> None:
            if self.summary is s:  # not a newer summary meanwhile
                s["days"] = days
                self.charts.show(s)

        self.query(lambda: _home().campaign_days(store, year, today), drawn, self._failed)
