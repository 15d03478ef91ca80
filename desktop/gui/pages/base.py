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


def run_query(
    ctx,
    fn: Callable[[], Any],
    on_done: Callable[[Any], None] | None,
    on_failure: Callable[[BaseException], None] | None = None,
) -> None:
    """Run a read on the store worker; ``on_done(result)`` on the GUI thread (a failure
    without ``on_failure`` is logged)."""
    ctx.tasks.run(fn, on_done, on_failure)


def run_change(
    ctx,
    fn: Callable[[], Any],
    entities: str | Iterable[str],
    on_done: Callable[[Any], None] | None,
    on_failure: Callable[[BaseException], None],
    on_invalid: Callable[[ValidationError], None] | None = None,
) -> None:
    """Run a change on the store worker and announce it: after the commit each kind in
    ``entities`` ("person", "payment" …) is sent on ``ctx.events.data_changed``, then
    ``on_done(result)`` runs; on failure nothing is announced."""
    kinds = [entities] if isinstance(entities, str) else list(entities)

    def done(result: Any) -> None:
        for kind in kinds:
            ctx.events.data_changed.emit(kind)
        if on_done is not None:
            on_done(result)

    def failed(exc: BaseException) -> None:
        if on_invalid is not None and isinstance(exc, ValidationError):
            on_invalid(exc)
        else:
            on_failure(exc)

    ctx.tasks.run(fn, done, failed)


class StoreWork:
    """The one way a widget runs store work: pages, dialogs and the main window mix this in
    (they have ``self.ctx``, the AppContext, and are QWidgets). Module code without a
    widget of its own (print support) calls :func:`run_query` / :func:`run_change`."""

    #: title for error boxes raised by this widget (the navigation title by default)
    error_title: str = ""
    ctx: Any

    def query(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None] | None = None,
        on_failure: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Run a read on the store worker; ``on_done(result)`` on the GUI thread."""
        run_query(self.ctx, fn, on_done, on_failure or self.show_failure)

    def change(
        self,
        fn: Callable[[], Any],
        entities: str | Iterable[str],
        on_done: Callable[[Any], None] | None = None,
        *,
        on_invalid: Callable[[ValidationError], None] | None = None,
        on_failure: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Run a change on the store worker and announce it (:func:`run_change`); errors
        go to ``on_invalid`` (a ValidationError), ``on_failure`` or the error box."""
        run_change(self.ctx, fn, entities, on_done, on_failure or self.show_failure, on_invalid)

    def show_failure(self, exc: BaseException) -> None:
        """The one place a page shows an unexpected error: a box with the Chinese message
        and its code (details in the log)."""
        show_error(self, exc, self.error_title)  # type: ignore[arg-type]


class Page(QWidget, StoreWork):
    """Base class of the pages in ``desktop.gui.pages``."""

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
