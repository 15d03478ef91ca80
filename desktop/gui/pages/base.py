"""The shape every main-window page shares (Spyder's plugins, Anki's operations).

A page is a ``Page`` subclass taking the AppContext. The main window calls

- ``on_shown()`` each time the page comes to the front (refresh what may have changed),
- ``open_item(ref)`` when another page asks to open a person (or document) here,
- ``focus_search()`` when the clerk asks for the search box,
- ``has_unsaved_changes()`` before quitting or leaving, to ask before discarding typing.

Store work goes through two helpers, so a page cannot forget a step:

- ``self.query(fn, on_done)``: read on the store worker, errors shown in one place;
- ``self.change(fn, entities, on_done)``: write on the store worker; on success the
  ``data_changed`` notification is sent for each entity kind (other pages and the status bar
  refresh), then ``on_done`` runs; on failure the error is shown (field messages for a
  ``ValidationError`` through ``on_invalid`` when given) and nothing is announced.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtWidgets import QWidget

from core.errors import ValidationError
from desktop.gui.widgets import show_error


class Page(QWidget):
    """Base class of the pages in ``desktop.gui.pages``."""

    #: title for error boxes raised by this page (the navigation title by default)
    error_title: str = ""

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx

    # ---- hooks the main window calls ---------------------------------------------------
    def on_shown(self) -> None:
        """The page came to the front."""

    def open_item(self, ref: Any) -> None:
        """Open ``ref`` (a person id unless the page says otherwise)."""

    def focus_search(self) -> None:
        """Put the cursor in the page's search box, if it has one."""

    def has_unsaved_changes(self) -> bool:
        """True while the clerk has typed something not yet saved."""
        return False

    # ---- running store work ----------------------------------------------------------
    def query(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None] | None = None,
        on_failure: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Run a read on the store worker; ``on_done(result)`` on the GUI thread."""
        self.ctx.tasks.run(fn, on_done, on_failure or self.show_failure)

    def change(
        self,
        fn: Callable[[], Any],
        entities: str | Iterable[str],
        on_done: Callable[[Any], None] | None = None,
        *,
        on_invalid: Callable[[ValidationError], None] | None = None,
        on_failure: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Run a change on the store worker and announce it.

        ``entities``: the kinds of data the change touches ("person", "payment" …); each is
        sent on ``ctx.events.data_changed`` after the commit, before ``on_done``."""
        kinds = [entities] if isinstance(entities, str) else list(entities)

        def done(result: Any) -> None:
            for kind in kinds:
                self.ctx.events.data_changed.emit(kind)
            if on_done is not None:
                on_done(result)

        def failed(exc: BaseException) -> None:
            if on_invalid is not None and isinstance(exc, ValidationError):
                on_invalid(exc)
            elif on_failure is not None:
                on_failure(exc)
            else:
                self.show_failure(exc)

        self.ctx.tasks.run(fn, done, failed)

    def show_failure(self, exc: BaseException) -> None:
        """The one place a page shows an unexpected error: a box with the Chinese message
        and its code (details in the log)."""
        show_error(self, exc, self.error_title)
