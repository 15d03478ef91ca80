"""报销测算: what a stay or a visit will cost the resident, fund by fund, with the steps.

The clerk picks a registered person (search by ID number, name or pinyin) or estimates
anonymously; chooses the policy, the setting and the hospital class; types the amounts;
the person's year-to-date figures (本年已报销) come from settled estimates and county data
and stay editable. Enter computes, Ctrl+S saves; a saved estimate of a registered person
can be marked settled (it then counts in the YTD figures). Every call runs on the task
runner; the page only presents what ``desktop.services.estimate`` returns.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QWidget,
)

from desktop.gui.pages.base import Page as BasePage
from desktop.gui.pages.estimate.common import (  # noqa: F401 (re-exported)
    AMOUNT_FIELDS,
    AMOUNT_SLOTS,
    ASSIST_FIELDS,
    BILL_FIELDS,
    DABING_FIELDS,
    MODE_FIELDS,
    MODE_YTD,
    RESULT_ROWS,
    STEP_LAYER_LABELS,
    YTD_EXTRA,
)
from desktop.gui.pages.estimate.computing import _Computing
from desktop.gui.pages.estimate.layout import _Layout
from desktop.gui.pages.estimate.person import _Person
from desktop.gui.pages.estimate.policy import _Policy
from desktop.gui.pages.estimate.saved import _Saved
from desktop.gui.pages.estimate.year_view import _YearView
from desktop.services import policies


class Page(_Layout, _Policy, _Person, _Computing, _Saved, _YearView, BasePage):
    error_title = "报销测算"

    computed = Signal(dict)  # the last result (for tests and the status bar)

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(ctx, parent)
        self.ctx = ctx
        self._person: dict | None = None
        self._policyset: policies.PolicySet | None = None
        self._last: dict | None = None
        self._last_given: dict | None = None
        self._saved: dict | None = None
        self._build()
        for seq, slot in (("Ctrl+S", self.save), ("Ctrl+Return", self.compute)):
            sc = QShortcut(QKeySequence(seq), self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(slot)
        self.reload_policies()

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt name)
        """Enter computes from the visit's lists and number boxes too (测算政策, 就医年度,
        本年第几次住院…), as it does from the amount boxes; a list or a number box hands Enter
        on to the page. Not from the list of people found: choosing one is not done yet."""
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        focus = self.focusWidget()
        if enter and isinstance(focus, (QComboBox, QAbstractSpinBox)) and focus is not self.found:
            self.compute()
            event.accept()
            return
        super().keyPressEvent(event)
