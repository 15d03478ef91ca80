"""Application-wide signals, so pages and the status bar stay in step without knowing
each other."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class Events(QObject):
    # an entity kind changed in the store: "person", "household", "payment", "estimate" …
    data_changed = Signal(str)
    # sync status for the status bar: {"state": offline|syncing|failed|ok, "pending": int,
    # "last_sync_at": str|None, "message": str}
    sync_status = Signal(dict)
    # a short message for the status bar
    status_message = Signal(str)
    # ask the main window to show a page by key (e.g. "contribution") with an optional person id
    open_page = Signal(str, object)
    # a page asks for a sync now (e.g. 缴费查询 when a year's standard has not arrived)
    sync_requested = Signal()
    # the county disabled this PC: the message to show before the app closes for good
    device_disabled = Signal(str)
