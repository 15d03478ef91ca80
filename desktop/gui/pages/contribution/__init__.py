"""缴费查询: find a resident, see each 参保年度's status (words and colour), collect a payment
(代收) and print nothing wrong; void or refund with a supervisor; the yearly campaign list
of who has not paid, with CSV / Excel export for the village doctor.

Keyboard first: the search box takes an ID number (typed or scanned, ends with Enter), a
name or pinyin initials; Enter in the results opens the person; in the payment form Enter
collects. Every store call runs on ``ctx.tasks``; widgets only present what services return.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QLabel,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.gui.pages.base import Page as BasePage
from desktop.gui.pages.contribution.campaign import _Campaign
from desktop.gui.pages.contribution.collect import _Collect
from desktop.gui.pages.contribution.common import (  # noqa: F401 (re-exported)
    BANNER_STYLE,
    NO_BENEFITS,
    SupervisorDialog,
    no_benefits,
    status_words,
)
from desktop.gui.pages.contribution.layout import _Layout
from desktop.gui.pages.contribution.status import _Status
from desktop.gui.pages.contribution.voids import _Voids


class Page(_Layout, _Status, _Collect, _Voids, _Campaign, BasePage):
    error_title = "缴费查询"

    YEAR_HEADERS = [
        "参保年度",
        "状态",
        "金额（元）",
        "缴费方式",
        "缴费日期",
        "收据号",
        "待遇期",
        "等待期",
        "连续参保",
        "大病封顶增减",
        "说明",
    ]

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(ctx, parent)
        self.ctx = ctx
        self.person_id: str | None = None
        self.status: dict | None = None
        self.campaign_result: dict | None = None
        self.last_result: dict | None = None
        self._paying = False  # a payment is being checked or recorded: a second Enter waits
        self.county_phone = ""
        outer = QVBoxLayout(self)
        self.banner = QLabel("")
        self.banner.setObjectName("sync_banner")
        self.banner.setStyleSheet(BANNER_STYLE)
        self.banner.setWordWrap(True)
        self.banner.hide()
        outer.addWidget(self.banner)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("contribution_tabs")
        # the page's height from the shown tab's (height for width), not from the largest
        # tab's size hint: after a person's years and the 收费 form had been shown on the
        # first tab, 征缴名单 scrolled at 1366×768
        policy = self.tabs.sizePolicy()
        policy.setHeightForWidth(True)
        self.tabs.setSizePolicy(policy)
        outer.addWidget(self.tabs)
        self.tabs.addTab(self._build_lookup(), self.tr("缴费查询与收费"))
        self.tabs.addTab(self._build_campaign(), self.tr("征缴名单（未缴人员）"))
        QShortcut(QKeySequence("Ctrl+F"), self, activated=self.search.setFocus)
        QShortcut(QKeySequence("Ctrl+P"), self, activated=self._print_shortcut)
        ctx.events.data_changed.connect(self._data_changed)
        ctx.events.sync_status.connect(lambda _status: self.refresh_banner())
        self.refresh_banner()

    # ------------------------------------------------------------ building
    def today(self) -> dt.date:
        return self.ctx.extras.get("today") or dt.date.today()
