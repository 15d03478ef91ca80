"""Desktop half of sync (no Qt): device registration, push of the outbox, pull of the
county's changes. See ``desktop/sync/engine.py`` and ``docs/sync-protocol.md``."""

from desktop.sync.engine import SyncEngine, SyncSummary
from desktop.sync.errors import SyncError

__all__ = ["SyncEngine", "SyncError", "SyncSummary"]
