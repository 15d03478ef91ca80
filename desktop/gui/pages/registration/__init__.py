"""参保登记: register a household and its members, find and edit residents.

Keyboard first: the search box takes an ID number typed or scanned (a reader types and
ends with Enter), a name or pinyin initials; Enter in the results opens the household;
in the form Tab moves in reading order, Enter saves, Esc cancels, Ctrl+N starts the
next member, Ctrl+H shows the edit history. Every store call runs on the task runner.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QWidget,
)

from core.names import pinyin_initials
from desktop.gui.pages.base import Page as BasePage
from desktop.gui.pages.registration.common import (  # noqa: F401 (re-exported)
    MEMBER_FIELDS,
    SEARCH_LIMIT,
    WARM_UP_MS,
    FormArea,
    HistoryDialog,
    SearchBox,
    not_found_message,
)
from desktop.gui.pages.registration.finding import _Finding
from desktop.gui.pages.registration.layout import _Layout
from desktop.gui.pages.registration.members import _Members
from desktop.gui.pages.registration.saving import _Saving


class Page(_Layout, _Members, _Saving, _Finding, BasePage):
    error_title = "参保登记"

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(ctx, parent)
        self._dirty = False  # the clerk typed something not yet saved
        self.household: dict | None = None  # loaded household (edit mode) or None (new)
        self.members: list[dict] = []  # drafts (new) or rows (edit), shown in the table
        self.current = 0  # index in members of the member in the form
        self.last_results: list[dict] = []
        self.listed = ("", "")  # what the found list shows: ("search", text) / ("duplicates", "")
        self.busy = False
        self.last_village = ""  # village of the last saved household
        self._build()
        # the found list follows what changes (a save, a 家庭变更, another page, a sync):
        # searched again once for a burst of changes
        self._relist = QTimer(self, singleShot=True, interval=0, timeout=self.list_again)
        ctx.events.data_changed.connect(self._data_changed)
        self._load_villages()
        self.new_household()
        # load the pinyin dictionaries on the worker once the window is up (not during the
        # first paint, and not on the first save)
        QTimer.singleShot(WARM_UP_MS, self, lambda: self.query(lambda: pinyin_initials("张三")))
