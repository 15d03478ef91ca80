"""The main window's pages, in navigation order. Each module defines ``Page(QWidget)``
taking the AppContext; pages are created the first time they are shown."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageSpec:
    key: str
    title: str  # Chinese label in the navigation and menu
    module: str
    shortcut: str
    icon: str  # QStyle.StandardPixmap name, or "printer" (drawn: the styles have none)


PAGES: list[PageSpec] = [
    PageSpec("home", "首页", "desktop.gui.pages.home", "Alt+Home", "SP_DirHomeIcon"),
    PageSpec(
        "registration", "参保登记", "desktop.gui.pages.registration", "F2", "SP_FileDialogNewFolder"
    ),
    PageSpec(
        "contribution",
        "缴费查询",
        "desktop.gui.pages.contribution",
        "F3",
        "SP_FileDialogDetailedView",
    ),
    PageSpec(
        "estimate", "报销测算", "desktop.gui.pages.estimate", "F4", "SP_FileDialogContentsView"
    ),
    PageSpec("printing", "打印", "desktop.gui.pages.printing", "F5", "printer"),
    PageSpec("sync", "同步", "desktop.gui.pages.sync", "F6", "SP_BrowserReload"),
]
